// `strata fleet` and `strata evaluate --fleet` through the built CLI, on real
// Debian closures, as a user runs them.
import { describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { sharedPath } from "./helpers/shared.js";
import { spawnCli } from "./helpers/cli.js";

const img = (name: string) => sharedPath("data/debian-bookworm", `img-${name}.json.gz`);
const ser = (name: string, k: number) => sharedPath("data/debian-bookworm/series", `${name}-v${k}.json.gz`);
const pathsOf = (file: string): string[] => (JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")).graph as { path: string }[]).map((e) => e.path);
const tmp = () => mkdtempSync(join(tmpdir(), "strata-fleet-"));

describe("strata fleet", () => {
  it("writes one plan per image in each format and a fleet.json that agrees with them", () => {
    const dir = join(tmp(), "plans");
    const names = ["python-scipy", "postgresql", "openjdk17-maven", "libreoffice"];
    const r = spawnCli([
      "fleet",
      ...names.map(img),
      "-o",
      dir,
      "--budget",
      "12",
      "--budget",
      "img-postgresql=5",
      "--format",
      "nixpkgs",
      "--format",
      "nix2container",
      "--format",
      "debug",
    ]);
    expect(r.stderr).toContain("wrote 13 files");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("objective: minimise registry bytes");
    const fleet = JSON.parse(readFileSync(join(dir, "fleet.json"), "utf8"));
    for (const name of names) {
      const layers: string[][] = JSON.parse(readFileSync(join(dir, `img-${name}.json`), "utf8"));
      expect(JSON.parse(readFileSync(join(dir, `img-${name}.nix2container.json`), "utf8"))).toEqual(layers);
      expect(JSON.parse(readFileSync(join(dir, `img-${name}.debug.json`), "utf8"))).toHaveLength(layers.length);
      // A partition of the image's closure within its budget.
      const flat = layers.flat();
      expect(new Set(flat).size).toBe(flat.length);
      expect(flat.sort()).toEqual(pathsOf(img(name)).sort());
      expect(layers.length).toBeLessThanOrEqual(name === "postgresql" ? 5 : 12);
      // fleet.json lists this image's layers by id, identical path lists.
      const entry = fleet.images.find((i: { name: string }) => i.name === `img-${name}`);
      expect(entry.layers.map((id: number) => fleet.layers[id].paths)).toEqual(layers);
      for (const id of entry.layers) expect(fleet.layers[id].images).toContain(`img-${name}`);
    }
    // Registry bytes recounted from the written plans.
    const sizes = new Map<string, number>();
    for (const name of names) for (const e of JSON.parse(gunzipSync(readFileSync(img(name))).toString("utf8")).graph) sizes.set(e.path, e.narSize);
    const distinct = new Set(names.flatMap((n) => (JSON.parse(readFileSync(join(dir, `img-${n}.json`), "utf8")) as string[][]).map((l) => JSON.stringify(l))));
    let registry = 0;
    for (const key of distinct) for (const p of JSON.parse(key)) registry += sizes.get(p)!;
    expect(fleet.summary.registryBytes).toBe(registry);
  });

  it("plans the next revision against the previous one's layers (--existing DIR) and reuses the still-valid ones", () => {
    const base = tmp();
    const r0 = join(base, "r0");
    const r1 = join(base, "r1");
    expect(spawnCli(["fleet", `scipy=${ser("python-scipy", 0)}`, `pg=${ser("postgresql", 0)}`, "-o", r0, "--budget", "20", "-q"]).status).toBe(0);
    const r = spawnCli([
      "fleet",
      `scipy=${ser("python-scipy", 1)}`,
      `pg=${ser("postgresql", 1)}`,
      "-o",
      r1,
      "--budget",
      "20",
      "--existing",
      r0,
      "--json",
      "-q",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const before: { paths: string[] }[] = JSON.parse(readFileSync(join(r0, "fleet.json"), "utf8")).layers;
    const after: { paths: string[]; existing: boolean }[] = JSON.parse(readFileSync(join(r1, "fleet.json"), "utf8")).layers;
    const old = new Set(before.map((l) => JSON.stringify(l.paths)));
    const kept = after.filter((l) => old.has(JSON.stringify(l.paths)));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((l) => l.existing)).toBe(true);
    expect(out.summary.reusedLayers).toBe(kept.length);
    expect(out.summary.newBytes).toBeLessThan(out.summary.registryBytes);
    // A previous layer whose paths are all in the new union and not displaced is kept:
    // postgresql's v0 -> v1 bump touches 4 paths, so most of pg's layers survive.
    const pgNow = new Set(pathsOf(ser("postgresql", 1)));
    const pg0: string[][] = JSON.parse(readFileSync(join(r0, "pg.json"), "utf8"));
    const pg1 = new Set((JSON.parse(readFileSync(join(r1, "pg.json"), "utf8")) as string[][]).map((l) => JSON.stringify(l)));
    const valid = pg0.filter((l) => l.every((p) => pgNow.has(p)));
    expect(valid.filter((l) => pg1.has(JSON.stringify(l))).length).toBe(valid.length);
  });

  it("reads existing layers from an OCI image layout whose layers carry org.strata.store-paths", () => {
    const base = tmp();
    const r0 = join(base, "r0");
    expect(spawnCli(["fleet", `pg=${ser("postgresql", 0)}`, "-o", r0, "--budget", "20", "-q"]).status).toBe(0);
    const pg0: string[][] = JSON.parse(readFileSync(join(r0, "pg.json"), "utf8"));
    // An OCI layout as `strata build --oci` writes one: index.json -> manifest blob -> layer
    // descriptors annotated with their store paths (plus a customisation layer without).
    const layout = join(base, "oci");
    mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
    const blob = (text: string) => {
      const hex = createHash("sha256").update(text).digest("hex");
      writeFileSync(join(layout, "blobs", "sha256", hex), text);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(text) };
    };
    const fake = "sha256:" + "0".repeat(64);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: fake, size: 2 },
      layers: [
        ...pg0.map((paths) => ({
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: fake,
          size: 1,
          annotations: { "org.strata.store-paths": JSON.stringify(paths) },
        })),
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: fake, size: 1 },
      ],
    });
    writeFileSync(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(
      join(layout, "index.json"),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...blob(manifest) }] }),
    );
    const r = spawnCli(["fleet", `pg=${ser("postgresql", 1)}`, "-o", join(base, "r1"), "--budget", "20", "--existing", layout, "--json", "-q"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const now = new Set(pathsOf(ser("postgresql", 1)));
    const valid = pg0.filter((l) => l.every((p) => now.has(p)));
    expect(valid.length).toBeGreaterThan(0);
    expect(JSON.parse(r.stdout).summary.reusedLayers).toBe(valid.length);
    const pg1 = new Set((JSON.parse(readFileSync(join(base, "r1", "pg.json"), "utf8")) as string[][]).map((l) => JSON.stringify(l)));
    for (const l of valid) expect(pg1.has(JSON.stringify(l))).toBe(true);
    // A manifest blob that is missing is an input error, not a crash.
    writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ digest: fake, size: 1 }] }));
    const bad = spawnCli(["fleet", `pg=${ser("postgresql", 1)}`, "-o", join(base, "r2"), "--existing", layout]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/blob sha256:0+ is missing/);
  });

  it("fails with exit 2, one message and no output for bad options or input", () => {
    const base = tmp();
    const cases: [string[], RegExp][] = [
      [["fleet", img("postgresql")], /-o DIR is required/],
      [["fleet", img("postgresql"), "-o", join(base, "a"), "--budget", "nosuch=3"], /no image is named "nosuch"/],
      [["fleet", img("postgresql"), "-o", join(base, "b"), "--budget", "0"], /at least 1/],
      [["fleet", img("postgresql"), "-o", join(base, "c"), "--existing", join(base, "missing.json")], /no such file/],
      [["fleet", img("postgresql"), img("postgresql"), "-o", join(base, "d")], /two images are named/],
      [["fleet", img("postgresql"), "-o", join(base, "e"), "--format", "nixery"], /unknown --format/],
    ];
    const bad = join(base, "bad.json");
    writeFileSync(bad, '[{"path": "/nix/store/x-a", "narSize": 1, "references": ["/nix/store/y-missing"]}]');
    cases.push([["fleet", img("postgresql"), bad, "-o", join(base, "f")], /y-missing/]);
    for (const [args, message] of cases) {
      const r = spawnCli(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("");
    }
    for (const d of ["a", "b", "c", "d", "e", "f"]) expect(existsSync(join(base, d))).toBe(false);
  });
});

describe("strata evaluate --fleet", () => {
  it("prices revisions per planner; the joint plan's registry and node bytes are never below the ideal", () => {
    const base = tmp();
    for (let k = 0; k < 3; k++) {
      const d = join(base, `r${k}`);
      mkdirSync(d);
      copyFileSync(ser("python-scipy", k), join(d, "scipy.json.gz"));
      copyFileSync(ser("postgresql", k), join(d, "pg.json.gz"));
    }
    const r = spawnCli([
      "evaluate",
      "--fleet",
      join(base, "r0"),
      join(base, "r1"),
      join(base, "r2"),
      "--budget",
      "10",
      "--strategy",
      "fleet",
      "--strategy",
      "min-pull+previous",
      "--subset",
      "pg",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.revisions).toEqual(["r0", "r1", "r2"]);
    expect(out.images).toEqual(["pg", "scipy"]);
    expect(out.strategies.map((s: { strategy: string }) => s.strategy)).toEqual(["fleet", "min-pull+previous"]);
    for (const s of out.strategies) {
      for (const rev of s.revisions) {
        expect(rev.registryBytes).toBeGreaterThanOrEqual(rev.idealRegistryBytes);
        expect(rev.nodeAllBytes).toBeGreaterThanOrEqual(rev.idealNodeAllBytes);
        expect(rev.nodeSubsetBytes).toBeGreaterThanOrEqual(rev.idealNodeSubsetBytes);
        expect(rev.layerCounts.every((n: number) => n <= 10)).toBe(true);
      }
      expect(s.revisions[0].nodeAllBytes).toBe(s.revisions[0].registryBytes);
    }
    // Both images share libc & co.: the joint plan stores them once.
    expect(out.strategies[0].revisions[0].registryBytes).toBeLessThanOrEqual(out.strategies[1].revisions[0].registryBytes);
    const table = spawnCli(["evaluate", "--fleet", join(base, "r0"), join(base, "r1"), "--budget", "10", "--strategy", "fleet"]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/registry[\s\S]*node, all images/);
    expect(readdirSync(base)).toHaveLength(3);
  });

  it("rejects revision folders with other images", () => {
    const base = tmp();
    mkdirSync(join(base, "r0"));
    mkdirSync(join(base, "r1"));
    copyFileSync(ser("postgresql", 0), join(base, "r0", "pg.json.gz"));
    copyFileSync(ser("postgresql", 1), join(base, "r1", "postgres.json.gz"));
    const r = spawnCli(["evaluate", "--fleet", join(base, "r0"), join(base, "r1")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/revision r1 has images postgres/);
    const p = spawnCli(["evaluate", "--fleet", join(base, "r0"), "--pipeline", '[["popularity_contest"]]']);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/--pipeline does not apply to --fleet/);
    const s = spawnCli(["evaluate", "--series", ser("postgresql", 0), ser("postgresql", 1), "--subset", "pg"]);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/--subset and --budget apply to --fleet/);
  });
});
