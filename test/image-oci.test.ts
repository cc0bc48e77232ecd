// OCI image layouts from the real compat Nix store, checked with the real
// tools: skopeo reads them, umoci unpacks them to root filesystems equal to
// the store paths (diff -r --no-dereference: modes, links, contents, non-UTF-8
// names), podman pulls them; zstd layers decode with the zstd tool and convert
// with skopeo; outputs are deterministic; bad input leaves nothing behind.
import { beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureCompatStore } from "./helpers/nix-store.js";
import { podmanStore } from "./helpers/podman.js";
import { buildCase, compatCase, expectRootfsHas, readLayout, run, tempDir, treeDigest } from "./helpers/oci.js";
import { BuildError } from "../dist/errors.js";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const TIMEOUT = 240_000;

beforeAll(() => {
  ensureCompatStore();
}, TIMEOUT);

describe("OCI layout, gzip", () => {
  for (const name of ["per-path", "grouped", "edge-owner-empty-layer"]) {
    it(
      `${name}: skopeo inspects it, umoci unpacks the store paths exactly`,
      async () => {
        const c = compatCase(name);
        const dir = tempDir("oci");
        const out = join(dir, "layout");
        const r = await buildCase(name, { outDir: out });
        // Uncompressed digests equal stream_layered_image.py's, customisation layer included.
        expect(r.layers.map((l) => l.diffId)).toEqual(c.expected.diff_ids);
        const { index, manifest, blob } = readLayout(out);
        expect(JSON.parse(readFileSync(join(out, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
        expect(index.manifests[0].annotations).toEqual({ "org.opencontainers.image.ref.name": "v0" });
        expect(manifest.layers).toHaveLength(c.expected.diff_ids.length);
        for (const [i, l] of manifest.layers.entries()) {
          const bytes = blob(l.digest);
          expect(sha(bytes)).toBe(l.digest);
          expect(bytes.length).toBe(l.size);
          expect(l.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
          expect(l.annotations["org.strata.compression"]).toBe("fflate@0.8.3 gzip level=6 block=1048576");
          expect(l.annotations["org.strata.diff-id"]).toBe(c.expected.diff_ids[i]);
          const paths = i < c.input.plan.length ? c.input.plan[i] : [c.input.customisation_layer.path];
          expect(JSON.parse(l.annotations["org.strata.store-paths"])).toEqual(paths);
        }
        const inspect = JSON.parse(run("skopeo", ["inspect", `oci:${out}:v0`]));
        expect(inspect.Layers).toEqual(manifest.layers.map((l) => l.digest));
        expect(inspect.Digest).toBe(index.manifests[0].digest);
        const config = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${out}:v0`]));
        expect(config.rootfs.diff_ids).toEqual(c.expected.diff_ids);
        expect(JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${out}:v0`]))).toEqual(manifest);

        run("umoci", ["unpack", "--image", `${out}:v0`, join(dir, "bundle")]);
        const rootfs = join(dir, "bundle", "rootfs");
        expectRootfsHas(rootfs, c.input.plan.flat());
        // The customisation layer's contents are there too (custom-app: bin/app, etc/motd symlinks).
        const custom = c.input.customisation_layer.path.endsWith("app-customisation-layer");
        expect(existsSync(join(rootfs, "bin", "app")) || !custom).toBe(true);
        rmSync(dir, { recursive: true, force: true });
      },
      TIMEOUT,
    );
  }

  it(
    "each gzip layer decompresses (gzip -dc) to bytes whose sha256 is the diff_id",
    async () => {
      const dir = tempDir("oci");
      const out = join(dir, "layout");
      const r = await buildCase("grouped", { outDir: out });
      const { blob } = readLayout(out);
      for (const l of r.layers) {
        const { spawnSync } = await import("node:child_process");
        const d = spawnSync("gzip", ["-dc"], { input: blob(l.digest), maxBuffer: 1 << 28 });
        expect(d.status).toBe(0);
        expect(sha(d.stdout)).toBe(l.diffId);
        expect(d.stdout.length).toBe(l.tarSize);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "podman pulls the layout into a private vfs store and its container root equals the store paths",
    async () => {
      const c = compatCase("per-path");
      // podman names the image after the layout's path, which must be lowercase.
      const dir = join("/tmp", `strata-podman-${process.pid}-${Date.now()}`);
      mkdirSync(dir);
      const out = join(dir, "layout");
      await buildCase("per-path", { outDir: out });
      const p = podmanStore(join(dir, "root"), join(dir, "runroot"));
      run("podman", [...p, "pull", "-q", `oci:${out}:v0`]);
      const images = JSON.parse(run("podman", [...p, "images", "--format", "json"]));
      expect(images).toHaveLength(1);
      const id = run("podman", [...p, "create", images[0].Id, "/nonexistent"]).trim();
      const mnt = run("podman", [...p, "mount", id]).trim();
      expectRootfsHas(mnt, c.input.plan.flat());
      run("podman", [...p, "umount", id]);
      run("podman", [...p, "rm", id]);
      run("podman", [...p, "rmi", "-a", "-f"]);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});

describe("OCI layout, zstd", () => {
  it(
    "zstd layers decode with the zstd tool to the diff_ids; skopeo converts the layout and umoci unpacks it exactly",
    async () => {
      const c = compatCase("per-path");
      const dir = tempDir("oci-zstd");
      const out = join(dir, "layout");
      const r = await buildCase("per-path", { outDir: out, compression: { algorithm: "zstd", level: 3 } });
      expect(r.layers.map((l) => l.diffId)).toEqual(c.expected.diff_ids);
      const { manifest, blob } = readLayout(out);
      const { spawnSync } = await import("node:child_process");
      for (const l of manifest.layers) {
        expect(l.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
        expect(l.annotations["org.strata.compression"]).toBe("@bokuweb/zstd-wasm@0.0.27 zstd level=3 frame=4194304");
        const d = spawnSync("zstd", ["-dc"], { input: blob(l.digest), maxBuffer: 1 << 28 });
        expect(d.status).toBe(0);
        expect(sha(d.stdout)).toBe(l.annotations["org.strata.diff-id"]);
      }
      const inspect = JSON.parse(run("skopeo", ["inspect", `oci:${out}:v0`]));
      expect(inspect.Layers).toEqual(manifest.layers.map((l) => l.digest));
      // umoci 0.4.7 cannot read zstd layers; skopeo (containers/image) decodes them into a gzip layout.
      run("skopeo", ["copy", "-q", "--dest-compress-format", "gzip", `oci:${out}:v0`, `oci:${join(dir, "gz")}:v0`]);
      run("umoci", ["unpack", "--image", `${join(dir, "gz")}:v0`, join(dir, "bundle")]);
      expectRootfsHas(join(dir, "bundle", "rootfs"), c.input.plan.flat());
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});

describe("determinism", () => {
  it(
    "same inputs give the same layout twice (no cache, 1 and 2 workers); gzip and zstd share the config, not the layers",
    async () => {
      const dir = tempDir("det");
      const a = await buildCase("grouped", { outDir: join(dir, "a"), workers: 1 });
      const b = await buildCase("grouped", { outDir: join(dir, "b"), workers: 2 });
      expect(b.manifestDigest).toBe(a.manifestDigest);
      expect(treeDigest(join(dir, "b"))).toBe(treeDigest(join(dir, "a")));
      const z = await buildCase("grouped", { outDir: join(dir, "z"), compression: { algorithm: "zstd", level: 3 } });
      const g9 = await buildCase("grouped", { outDir: join(dir, "g9"), compression: { algorithm: "gzip", level: 9 } });
      expect(z.configDigest).toBe(a.configDigest);
      expect(g9.configDigest).toBe(a.configDigest);
      for (const other of [z, g9]) {
        expect(other.manifestDigest).not.toBe(a.manifestDigest);
        expect(other.layers.map((l) => l.diffId)).toEqual(a.layers.map((l) => l.diffId));
        for (let i = 0; i < a.layers.length; i++) expect(other.layers[i].digest).not.toBe(a.layers[i].digest);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});

describe("bad input leaves no output", () => {
  it(
    "a store path missing on disk: BuildError naming it, no output directory, no temporary directory",
    async () => {
      const dir = tempDir("bad");
      const out = join(dir, "layout");
      const missing = "/nix/store/00000000000000000000000000000000-not-there";
      const plan = [[compatCase("per-path").input.plan[0][0]], [missing]];
      const e = await buildCase("per-path", { outDir: out, plan }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BuildError);
      expect((e as BuildError).code).toBe("missing-path");
      expect((e as BuildError).message).toContain(missing);
      expect(readdirSync(dir)).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "an existing layout survives a failed rebuild unchanged; a non-empty non-layout directory is refused",
    async () => {
      const dir = tempDir("bad");
      const out = join(dir, "layout");
      await buildCase("grouped", { outDir: out });
      const before = treeDigest(out);
      const e = await buildCase("grouped", { outDir: out, plan: [["/nix/store/00000000000000000000000000000000-gone"]] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BuildError);
      expect(treeDigest(out)).toBe(before);
      expect(readdirSync(dir)).toEqual(["layout"]);
      const other = join(dir, "other");
      mkdirSync(other);
      writeFileSync(join(other, "keep.txt"), "mine");
      const e2 = await buildCase("grouped", { outDir: other }).catch((x: unknown) => x);
      expect(e2).toBeInstanceOf(BuildError);
      expect((e2 as BuildError).code).toBe("output");
      expect(readdirSync(other)).toEqual(["keep.txt"]);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "a path outside the store directory is a BuildError",
    async () => {
      const dir = tempDir("bad");
      const e = await buildCase("grouped", { outDir: join(dir, "o"), plan: [["/usr/lib/os-release"]] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BuildError);
      expect((e as BuildError).code).toBe("outside-store-dir");
      expect(readdirSync(dir)).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});
