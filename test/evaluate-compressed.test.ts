// evaluate --series --compressed (issue 15) over the real Nix store of
// ../shared/compat/build: the compressed figures must equal the blob sizes of
// OCI layouts built independently (no cache) from the same plans.
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The built module: its worker threads load dist/image/parallel/worker-entry.js.
import { writeOciLayout } from "../dist/image/oci/layout.js";
import { ensureCompatStore, compatBuildDir } from "./helpers/nix-store.js";
import { strata } from "./helpers/registry.js";

const settings = { mtime: 1, uid: 0, gid: 0, uname: "root", gname: "root" };
const compression = { algorithm: "gzip", level: 6 } as const;
const config = (ids: readonly string[]) => new TextEncoder().encode(JSON.stringify({ rootfs: { type: "layers", diff_ids: ids } }));
let dir: string;
let v0: string;
let v1: string;
let graph: { path: string; references: string[] }[];
const added = ["profile", "app-3.0", "bigdata-2.0"];
const name = (p: string) => p.slice(44);

/** Layer blob sizes of an OCI layout built from scratch (no cache). */
async function blobSizes(layers: string[][]): Promise<Map<string, number>> {
  const out = join(dir, `layout-${Math.random().toString(36).slice(2)}`);
  const r = await writeOciLayout({
    outDir: out,
    layers: layers.map((paths) => ({ paths })),
    settings,
    store: { storeDir: "/nix/store" },
    compression,
    workers: 1,
    config,
  });
  rmSync(out, { recursive: true, force: true });
  return new Map(r.layers.map((l) => [l.paths.join("\n"), l.size]));
}

beforeAll(() => {
  ensureCompatStore();
  dir = mkdtempSync(join(tmpdir(), "strata-eval-compressed-"));
  const doc = JSON.parse(readFileSync(join(compatBuildDir, "store-closure.json"), "utf8"));
  graph = doc.graph;
  // v0 lacks profile, app and bigdata; v1 (the real closure) adds them.
  v0 = join(dir, "v0.json");
  v1 = join(dir, "v1.json");
  writeFileSync(v0, JSON.stringify({ graph: doc.graph.filter((e: { path: string }) => !added.includes(name(e.path))) }));
  writeFileSync(v1, JSON.stringify({ graph: doc.graph }));
}, 300_000);

describe("evaluate --series --compressed", () => {
  it("prices each update in the compressed bytes of the layers strata builds, equal to independently built layouts", async () => {
    const cache = join(dir, "cache");
    const args = [
      "evaluate",
      "--series",
      v0,
      v1,
      "--strategy",
      "popularity",
      "--strategy",
      "auto-layer",
      "--max-layers",
      "4",
      "--compressed",
      "--cache",
      cache,
      "--json",
    ];
    const r = await strata(args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.compressed.compression).toBe("gzip:6");
    expect(out.compressed.layersBuilt).toBeGreaterThan(0);

    // Ideal: the added paths, each compressed alone; worst: every path compressed alone.
    const single = await blobSizes(graph.map((e) => [e.path]));
    const ideal = graph.filter((e) => added.includes(name(e.path))).reduce((s, e) => s + single.get(e.path)!, 0);
    const worst = graph.reduce((s, e) => s + single.get(e.path)!, 0);
    for (const s of out.compressed.strategies) {
      const u = s.updates[0];
      expect(u.idealBytes).toBe(ideal);
      expect(u.worstBytes).toBe(worst);
      expect(u.pulledBytes).toBeGreaterThanOrEqual(u.idealBytes);
      expect(u.pulledBytes).toBeLessThanOrEqual(u.imageBytes);
      // The same plans ('strata layer' plans each version alike), built from scratch: new blobs' bytes.
      const plan = async (file: string) =>
        JSON.parse((await strata(["layer", file, "--strategy", s.strategy, "--max-layers", "4", "-q"])).stdout) as string[][];
      const [p0, p1] = [await plan(v0), await plan(v1)];
      const had = new Set(p0.map((l) => l.join("\n")));
      const sizes = await blobSizes(p1);
      const pulled = p1.filter((l) => !had.has(l.join("\n"))).reduce((sum, l) => sum + sizes.get(l.join("\n"))!, 0);
      expect(u.pulledBytes, s.strategy).toBe(pulled);
      expect(u.imageBytes).toBe([...sizes.values()].reduce((a, b) => a + b, 0));
      // narSize beside it, from the same plans.
      const nar = out.strategies.find((x: { strategy: string }) => x.strategy === s.strategy).updates[0];
      expect(nar.pulledLayers).toBe(u.pulledLayers);
    }

    // Second run: everything from the cache, the same figures.
    const again = JSON.parse((await strata(args)).stdout);
    expect(again.compressed.layersBuilt).toBe(0);
    expect(again.compressed.strategies).toEqual(out.compressed.strategies);

    const text = await strata(args.filter((a) => a !== "--json"));
    expect(text.stdout).toContain("Compressed bytes pulled over the series (gzip:6;");
  });

  it("min-pull --weights compressed weighs each path by its compressed size, measured once per path into the cache", async () => {
    const xdg = join(dir, "xdg-cache");
    const cache = join(xdg, "strata", "layers"); // the default layer cache under $XDG_CACHE_HOME
    const closure = join(compatBuildDir, "store-closure.json");
    const r = await strata(["layer", closure, "--strategy", "min-pull", "--budget", "3", "--weights", "compressed", "-v"], { XDG_CACHE_HOME: xdg });
    expect(r.code).toBe(0);
    const nar = await strata(["layer", closure, "--strategy", "min-pull", "--budget", "3", "-v"]);
    // The objective is priced in the weights: compressed bytes, from the one-path layers.
    const expected = (err: string) => Number(/expected .* pulled per update \((\d+) B\)/.exec(err)![1]);
    const single = await blobSizes(graph.map((e) => [e.path]));
    const compressedTotal = [...single.values()].reduce((a, b) => a + b, 0);
    expect(expected(r.stderr)).toBeLessThanOrEqual(compressedTotal);
    expect(expected(nar.stderr)).toBeGreaterThan(expected(r.stderr));
    const layers = JSON.parse(r.stdout) as string[][];
    expect(layers.flat().sort()).toEqual(graph.map((e) => e.path).sort());
    // Measured once: a second run compresses nothing (the cache holds one entry per path).
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(join(cache, "v1", "entries")).length).toBe(graph.length);
    const again = await strata(["layer", closure, "--strategy", "min-pull", "--budget", "3", "--weights", "compressed"], { XDG_CACHE_HOME: xdg });
    expect(again.stdout).toBe(r.stdout);
    expect(readdirSync(join(cache, "v1", "entries")).length).toBe(graph.length);
    const bad = await strata(["layer", closure, "--strategy", "auto-layer", "--weights", "compressed"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--weights applies to --strategy min-pull");
    const bad2 = await strata(["layer", closure, "--strategy", "min-pull", "--weights", "zstd"]);
    expect(bad2.stderr).toContain('--weights must be narsize or compressed, got "zstd"');
  });

  it("--compressed goes with --series; its options with --compressed", async () => {
    const a = await strata(["evaluate", "--images", v0, "--compressed"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("--compressed prices updates: use it with --series");
    const b = await strata(["evaluate", "--series", v0, v1, "--cache", dir]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("--cache goes with --compressed");
    const c = await strata(["evaluate", "--series", v0, v1, "--compressed", "--compression", "lz4", "--cache", join(dir, "c2")]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("--compression: expected gzip|zstd");
  });
});
