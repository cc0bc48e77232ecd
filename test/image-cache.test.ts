// The layer cache: a rebuild serves every layer from it with identical bytes;
// a changed path misses only its layers; two processes share one cache; a
// process killed mid-write, a truncated or altered blob, a truncated entry:
// never served, rebuilt.
import { beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureCompatStore } from "./helpers/nix-store.js";
import { buildCase, compatCase, compatNarHashes, readLayout, settingsOf, simpleConfig, tempDir, treeDigest } from "./helpers/oci.js";
import { LayerCache, defaultCacheDir } from "../dist/image/cache/index.js";
import { cacheLayers, layerSizes } from "../dist/image/oci/layers.js";
import { writeOciLayout } from "../dist/image/oci/layout.js";
import { repoRoot } from "./helpers/shared.js";

const TIMEOUT = 300_000;
const child = join(repoRoot, "test", "helpers", "oci-child.mjs");

beforeAll(() => {
  ensureCompatStore();
}, TIMEOUT);

function entries(cacheDir: string): string[] {
  return readdirSync(join(cacheDir, "v1", "entries")).sort();
}

describe("layer cache", () => {
  it("defaults to $XDG_CACHE_HOME/strata/layers, else ~/.cache/strata/layers", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" })).toBe("/x/cache/strata/layers");
    expect(defaultCacheDir({ HOME: "/home/u" })).toBe("/home/u/.cache/strata/layers");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "relative", HOME: "/home/u" })).toBe("/home/u/.cache/strata/layers");
  });

  it(
    "a second build is all hits with identical bytes; equal to a build without cache",
    async () => {
      const dir = tempDir("cache");
      const cacheDir = join(dir, "cache");
      const first = await buildCase("per-path", { outDir: join(dir, "a"), cacheDir });
      expect([first.cacheHits, first.cacheMisses]).toEqual([0, 9]);
      expect(first.layers.every((l) => !l.cached)).toBe(true);
      const second = await buildCase("per-path", { outDir: join(dir, "b"), cacheDir });
      expect([second.cacheHits, second.cacheMisses]).toEqual([9, 0]);
      expect(second.layers.every((l) => l.cached)).toBe(true);
      await buildCase("per-path", { outDir: join(dir, "c") });
      expect(treeDigest(join(dir, "b"))).toBe(treeDigest(join(dir, "a")));
      expect(treeDigest(join(dir, "c"))).toBe(treeDigest(join(dir, "a")));
      // Per-layer sizes for other tools, straight from the cache.
      const c = compatCase("per-path");
      const sizes = await layerSizes({
        layers: c.input.plan.map((paths) => ({ paths })),
        settings: settingsOf(c),
        store: { storeDir: "/nix/store" },
        compression: { algorithm: "gzip", level: 6 },
        narHashes: compatNarHashes(),
        cache: await LayerCache.open(cacheDir),
      });
      expect(sizes.map((s) => s.size)).toEqual(first.layers.slice(0, 8).map((l) => l.size));
      expect(sizes.map((s) => s.diffId)).toEqual(c.expected.diff_ids.slice(0, 8));
      const other = await layerSizes({
        layers: c.input.plan.map((paths) => ({ paths })),
        settings: settingsOf(c),
        store: { storeDir: "/nix/store" },
        compression: { algorithm: "zstd", level: 3 },
        narHashes: compatNarHashes(),
        cache: await LayerCache.open(cacheDir),
      });
      expect(other.every((s) => s.size === undefined && /^[0-9a-f]{64}$/.test(s.key))).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "cacheLayers fills the cache without writing an image and returns every layer's compressed size",
    async () => {
      const dir = tempDir("cache");
      const c = compatCase("grouped");
      const cache = await LayerCache.open(join(dir, "cache"));
      const options = {
        layers: c.input.plan.map((paths) => ({ paths })),
        settings: settingsOf(c),
        store: { storeDir: "/nix/store" },
        compression: { algorithm: "gzip", level: 6 } as const,
        narHashes: compatNarHashes(),
        cache,
      };
      const sizes = await cacheLayers(options);
      expect(cache.misses).toBe(3);
      expect(sizes.map((s) => s.diffId)).toEqual(c.expected.diff_ids.slice(0, 3));
      expect(readdirSync(join(dir, "cache", "v1", "tmp"))).toEqual([]);
      const again = await cacheLayers(options);
      expect(cache.hits).toBe(3);
      expect(again).toEqual(sizes);
      // The same sizes as the layers of an OCI build.
      const r = await buildCase("grouped", { outDir: join(dir, "o"), cacheDir: join(dir, "cache") });
      expect(r.layers.slice(0, 3).map((l) => [l.digest, l.size])).toEqual(sizes.map((s) => [s.digest, s.size]));
      expect(r.cacheHits).toBe(3);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "a changed path (narHash) misses only the layers holding it; other settings miss everything",
    async () => {
      const dir = tempDir("cache");
      const cacheDir = join(dir, "cache");
      const c = compatCase("grouped");
      await buildCase("grouped", { outDir: join(dir, "a"), cacheDir });
      const changed = new Map(compatNarHashes());
      const bigdata = c.input.plan[1][0];
      changed.set(bigdata, "sha256:0000000000000000000000000000000000000000000000000000");
      const r = await buildCase("grouped", { outDir: join(dir, "b"), cacheDir, narHashes: changed });
      expect(r.layers.map((l) => l.cached)).toEqual([true, false, true, true]);
      // The content is the same, so the rebuilt layer has the same digest.
      expect(r.layers[1].digest).toBe(readLayout(join(dir, "a")).manifest.layers[1].digest);
      // Another plan: only the new layer is built.
      const r2 = await buildCase("grouped", { outDir: join(dir, "c"), cacheDir, plan: [c.input.plan[0], [bigdata, c.input.plan[2][0]], c.input.plan[2]] });
      expect(r2.layers.map((l) => l.cached)).toEqual([true, false, true, true]);
      // Another compression level: all miss.
      const r3 = await buildCase("grouped", { outDir: join(dir, "d"), cacheDir, compression: { algorithm: "gzip", level: 5 } });
      expect(r3.cacheHits).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "two processes building the same layers on one cache at once both succeed with identical outputs",
    async () => {
      const dir = tempDir("cache");
      const cacheDir = join(dir, "cache");
      const c = compatCase("per-path");
      const args = (out: string) =>
        JSON.stringify({
          outDir: join(dir, out),
          cacheDir,
          layers: [
            ...c.input.plan.map((paths) => ({ paths })),
            { tarFile: join(c.input.customisation_layer.path, "layer.tar"), paths: [c.input.customisation_layer.path] },
          ],
          settings: settingsOf(c),
          store: { storeDir: "/nix/store" },
          compression: { algorithm: "gzip", level: 6 },
          narHashes: [...compatNarHashes()],
          tag: "per-path:v0",
          workers: 1,
        });
      const runChild = (out: string) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const p = spawn(process.execPath, [child, args(out)]);
          let o = "";
          let e = "";
          p.stdout.on("data", (d) => (o += d));
          p.stderr.on("data", (d) => (e += d));
          p.on("close", (code) => resolve({ code, out: o, err: e }));
        });
      const [a, b] = await Promise.all([runChild("a"), runChild("b")]);
      expect(a.code, a.err).toBe(0);
      expect(b.code, b.err).toBe(0);
      expect(JSON.parse(a.out).manifestDigest).toBe(JSON.parse(b.out).manifestDigest);
      expect(treeDigest(join(dir, "a"))).toBe(treeDigest(join(dir, "b")));
      expect(readdirSync(join(cacheDir, "v1", "tmp"))).toEqual([]);
      // The shared cache is sound: a third build is all hits and equal.
      const third = await buildCase("per-path", { outDir: join(dir, "c"), cacheDir });
      expect(third.cacheHits).toBe(9);
      expect(treeDigest(join(dir, "c"))).toBe(treeDigest(join(dir, "a")));
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "a process killed while writing a layer leaves no entry; the next build rebuilds it correctly",
    async () => {
      const dir = tempDir("crash");
      const cacheDir = join(dir, "cache");
      // A store (mounted elsewhere) with one 48 MiB path of incompressible bytes: slow enough to kill mid-write.
      const storeRoot = join(dir, "store");
      const big = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-big-1.0";
      mkdirSync(join(storeRoot, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-big-1.0"), { recursive: true });
      const data = Buffer.alloc(48 << 20);
      let x = 12345;
      for (let i = 0; i < data.length; i += 4) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        data.writeUInt32LE(x, i);
      }
      writeFileSync(join(storeRoot, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-big-1.0", "data"), data);
      const spec = {
        layers: [{ paths: [big] }],
        settings: { mtime: 1, uid: 0, gid: 0, uname: "root", gname: "root" },
        store: { storeDir: "/nix/store", storeRoot },
        compression: { algorithm: "gzip", level: 6 } as const,
        tag: "big:v0",
      };
      const p = spawn(process.execPath, [child, JSON.stringify({ ...spec, outDir: join(dir, "killed"), cacheDir, workers: 1 })], { stdio: "ignore" });
      const tmp = join(cacheDir, "v1", "tmp");
      // Wait until the layer's temporary blob has bytes, then kill the process.
      const deadline = Date.now() + 120_000;
      let killedMidWrite = false;
      while (Date.now() < deadline) {
        const parts = (() => {
          try {
            return readdirSync(tmp).filter((f) => statSync(join(tmp, f)).size > 0);
          } catch {
            return [];
          }
        })();
        if (parts.length > 0) {
          p.kill("SIGKILL");
          killedMidWrite = true;
          break;
        }
        if (p.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => p.once("close", r));
      expect(killedMidWrite).toBe(true);
      expect(entries(cacheDir)).toEqual([]);
      // No output: only the killed process's hidden temporary directory.
      const left = readdirSync(dir).sort();
      expect(left.slice(0, 2)).toEqual([".killed.strata-" + p.pid + left[0].slice(`.killed.strata-${p.pid}`.length), "cache"]);
      expect(left.slice(2)).toEqual(["store"]);
      expect(readdirSync(tmp)).toHaveLength(1); // the killed process's partial blob
      const cache = await LayerCache.open(cacheDir);
      expect(readdirSync(tmp)).toEqual([]); // removed: its process is gone
      // The next build of the same output removes that leftover.
      const r = await writeOciLayout({ ...spec, outDir: join(dir, "killed"), cache, config: simpleConfig });
      expect(readdirSync(dir).sort()).toEqual(["cache", "killed", "store"]);
      expect(r.cacheHits).toBe(0);
      const plain = await writeOciLayout({ ...spec, outDir: join(dir, "plain"), config: simpleConfig });
      expect(r.manifestDigest).toBe(plain.manifestDigest);
      expect(treeDigest(join(dir, "killed"))).toBe(treeDigest(join(dir, "plain")));
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "a truncated blob, an altered blob of the right size, a truncated entry: detected, never served, rebuilt",
    async () => {
      const dir = tempDir("corrupt");
      const cacheDir = join(dir, "cache");
      const good = await buildCase("grouped", { outDir: join(dir, "good"), cacheDir });
      const goodTree = treeDigest(join(dir, "good"));
      const cache = await LayerCache.open(cacheDir);
      const blobOf = (i: number) => cache.blobPath(good.layers[i].digest);

      truncateSync(blobOf(0), Math.floor(good.layers[0].size / 2));
      const altered = readFileSync(blobOf(1));
      altered[altered.length >> 1] ^= 0xff;
      writeFileSync(blobOf(1), altered);
      const entryFile = join(cacheDir, "v1", "entries", `${good.layers[2].key}.json`);
      writeFileSync(entryFile, readFileSync(entryFile, "utf8").slice(0, 20));

      const r = await buildCase("grouped", { outDir: join(dir, "again"), cacheDir });
      expect(r.layers.map((l) => l.cached)).toEqual([false, false, false, true]);
      expect(treeDigest(join(dir, "again"))).toBe(goodTree);
      // Repaired: the next build is all hits.
      const r2 = await buildCase("grouped", { outDir: join(dir, "third"), cacheDir });
      expect(r2.cacheHits).toBe(4);
      expect(treeDigest(join(dir, "third"))).toBe(goodTree);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "a leftover truncated temporary file is ignored and stale ones are removed on open",
    async () => {
      const dir = tempDir("stale");
      const cacheDir = join(dir, "cache");
      await LayerCache.open(cacheDir);
      const tmp = join(cacheDir, "v1", "tmp");
      writeFileSync(join(tmp, `${process.pid}-dead.part`), "half a blob");
      writeFileSync(join(tmp, `${process.pid}-fresh.part`), "in use");
      const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
      spawnSync("touch", ["-d", old.toISOString(), join(tmp, `${process.pid}-dead.part`)]);
      await LayerCache.open(cacheDir);
      expect(readdirSync(tmp)).toEqual([`${process.pid}-fresh.part`]);
      const r = await buildCase("grouped", { outDir: join(dir, "o"), cacheDir });
      expect(r.cacheHits).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});
