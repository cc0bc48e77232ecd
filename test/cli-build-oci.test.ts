// `strata build --format oci` end to end (the built CLI in a child process)
// and buildImage({format: "oci"}): the config is the docker-archive's byte for
// byte, the cache is reported and reused, bad options and inputs exit 2
// leaving nothing behind.
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnCli } from "./helpers/cli.js";
import { ensureCompatStore } from "./helpers/nix-store.js";
import { busyboxStore, podmanRun, podmanStore } from "./helpers/podman.js";
import { compatCase, expectRootfsHas, readLayout, run, tempDir } from "./helpers/oci.js";
import { sharedPath } from "./helpers/shared.js";
import { buildImage } from "../dist/node.js";
import { ociProgressText } from "../src/cli/build-oci.js";
import { createProgress } from "../src/cli/progress.js";

const TIMEOUT = 240_000;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

beforeAll(() => {
  ensureCompatStore();
}, TIMEOUT);

function confFile(dir: string, name: string): string {
  const f = join(dir, `${name}.conf.json`);
  writeFileSync(f, JSON.stringify(compatCase(name).input.conf));
  return f;
}

describe("strata build --format oci", () => {
  it(
    "from nixpkgs' conf.json: the config is the docker-archive config byte for byte; the second build is all cache hits",
    () => {
      const dir = tempDir("cli-oci");
      const c = compatCase("mtime-owner");
      const conf = confFile(dir, "mtime-owner");
      const cache = join(dir, "cache");
      const first = spawnCli(["build", "--nixpkgs-conf", conf, "--format", "oci", "-o", join(dir, "a"), "--cache", cache]);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toBe("");
      expect(first.stderr).toMatch(/6 layers, 0 from the cache, 6 built/);
      const { manifest, blob, index } = readLayout(join(dir, "a"));
      expect(blob(manifest.config.digest).toString("utf8")).toBe(c.expected.config);
      expect(manifest.config.digest).toBe(`sha256:${c.expected.config_name.replace(/\.json$/, "")}`);
      expect(index.manifests[0].annotations?.["org.opencontainers.image.ref.name"]).toBe(String(c.input.conf.repo_tag).split(":").pop());
      const inspect = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${join(dir, "a")}`]));
      expect(inspect.rootfs.diff_ids).toEqual(c.expected.diff_ids);

      const second = spawnCli(["build", "--nixpkgs-conf", conf, "--format", "oci", "-o", join(dir, "b"), "--cache", cache]);
      expect(second.status, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/6 layers, 6 from the cache, 0 built/);
      expect(readFileSync(join(dir, "b", "index.json"))).toEqual(readFileSync(join(dir, "a", "index.json")));
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "from a closure and a plan: the same config as the docker-archive of the same options",
    () => {
      const dir = tempDir("cli-oci");
      const c = compatCase("grouped");
      const plan = join(dir, "plan.json");
      writeFileSync(plan, JSON.stringify(c.input.plan));
      const common = [
        "build",
        sharedPath("compat/build/store-closure.json"),
        "--layers",
        plan,
        "--customisation-layer",
        c.input.customisation_layer.path,
        "--tag",
        "grouped:v3",
        "--cmd",
        "/bin/app",
        "--env",
        "A=1",
      ];
      const tar = spawnCli([...common, "-o", join(dir, "image.tar")]);
      expect(tar.status, tar.stderr).toBe(0);
      const dockerManifest = JSON.parse(run("tar", ["-xOf", join(dir, "image.tar"), "manifest.json"]));
      const dockerConfig = run("tar", ["-xOf", join(dir, "image.tar"), dockerManifest[0].Config]);
      const oci = spawnCli([...common, "--format", "oci", "-o", join(dir, "oci"), "--no-cache", "--compression", "zstd:5", "--jobs", "1"]);
      expect(oci.status, oci.stderr).toBe(0);
      expect(oci.stderr).toMatch(/no cache/);
      const { manifest, blob, index } = readLayout(join(dir, "oci"));
      expect(blob(manifest.config.digest).toString("utf8")).toBe(dockerConfig);
      expect(manifest.layers.every((l) => l.mediaType.endsWith("+zstd") && l.annotations["org.strata.compression"].includes("level=5"))).toBe(true);
      expect(index.manifests[0].annotations?.["org.opencontainers.image.ref.name"]).toBe("v3");
      expect(JSON.parse(manifest.layers[1].annotations["org.strata.store-paths"])).toEqual(c.input.plan[1]);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "--no-cache writes nothing to the default cache; the default cache is $XDG_CACHE_HOME/strata/layers",
    () => {
      const dir = tempDir("cli-oci");
      const conf = confFile(dir, "grouped");
      const env = { XDG_CACHE_HOME: join(dir, "xdg") };
      const r = spawnCli(["build", "--nixpkgs-conf", conf, "--format", "oci", "-o", join(dir, "a"), "--no-cache"], { env });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(dir, "xdg"))).toBe(false);
      const r2 = spawnCli(["build", "--nixpkgs-conf", conf, "--format", "oci", "-o", join(dir, "b")], { env });
      expect(r2.status, r2.stderr).toBe(0);
      expect(readdirSync(join(dir, "xdg", "strata", "layers", "v1", "entries"))).toHaveLength(4);
      expect(readFileSync(join(dir, "b", "index.json"))).toEqual(readFileSync(join(dir, "a", "index.json")));
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it(
    "bad options and inputs: exit 2, one message naming the problem, no output",
    () => {
      const dir = tempDir("cli-oci");
      const conf = confFile(dir, "grouped");
      const out = join(dir, "out");
      const cases: [string[], RegExp][] = [
        [["--format", "oci"], /-o DIR/],
        [["--format", "oci", "-o", out, "--compression", "xz"], /--compression: expected gzip\|zstd/],
        [["--format", "oci", "-o", out, "--compression", "gzip:11"], /gzip level must be 0-9/],
        [["--format", "oci", "-o", out, "--cache", join(dir, "c"), "--no-cache"], /exclude each other/],
        [["--format", "oci", "-o", out, "--jobs", "0"], /--jobs must be at least 1/],
        [["-o", join(dir, "x.tar"), "--compression", "zstd"], /--compression applies to --format oci only/],
        [["--format", "tarball", "-o", out], /unknown --format "tarball"/],
      ];
      for (const [args, message] of cases) {
        const r = spawnCli(["build", "--nixpkgs-conf", conf, ...args]);
        expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      // A plan naming a path missing on disk: the message names it, nothing is written.
      const missing = "/nix/store/00000000000000000000000000000000-missing-1.0";
      const plan = join(dir, "plan.json");
      writeFileSync(plan, JSON.stringify([[missing]]));
      const r = spawnCli(["build", "--layers", plan, "--format", "oci", "-o", out, "--no-cache"]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(missing);
      expect(readdirSync(dir).sort()).toEqual(["grouped.conf.json", "plan.json"]);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );

  it("--help documents the OCI options and that zstd works on Node 20", () => {
    const r = spawnCli(["build", "--help"]);
    expect(r.status).toBe(0);
    for (const flag of ["--format NAME", "oci:", "--compression ALGO[:LEVEL]", "--cache DIR", "--no-cache", "--jobs N", "Node 20"])
      expect(r.stdout).toContain(flag);
  });
});

describe("buildImage({format: 'oci'})", () => {
  it(
    "writes the layout and returns compressed layer digests and sizes",
    async () => {
      const dir = tempDir("lib-oci");
      const c = compatCase("per-path");
      const r = await buildImage({
        layers: c.input.plan,
        customisation: { kind: "nixpkgs", dir: c.input.customisation_layer.path },
        output: join(dir, "oci"),
        format: "oci",
        oci: { cache: join(dir, "cache"), compression: "gzip:6" },
      });
      const { manifest, blob } = readLayout(join(dir, "oci"));
      expect(r.layers.map((l) => `sha256:${l.digest}`)).toEqual(manifest.layers.map((l) => l.digest));
      expect(r.layers.map((l) => l.size)).toEqual(manifest.layers.map((l) => l.size));
      expect(r.layers.map((l) => l.kind)).toEqual([...c.input.plan.map(() => "store"), "customisation"]);
      expect(`sha256:${r.imageId}`).toBe(manifest.config.digest);
      expect(sha(blob(manifest.config.digest))).toBe(r.imageId);
      expect(JSON.parse(r.config).rootfs.diff_ids).toEqual(c.expected.diff_ids);
      const e = await buildImage({ layers: c.input.plan, output: process.stdout, format: "oci" }).catch((x: unknown) => x);
      expect((e as Error).name).toBe("BuildError");
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});

describe("progress line", () => {
  it("shows layers done, cache hits and bytes against the narSize estimate, throttled, only on a terminal", () => {
    let t = 0;
    const out: string[] = [];
    const p = createProgress({ write: (s) => out.push(s), isTty: true, now: () => t });
    t = 1500;
    p.status(ociProgressText({ layers: 92, layersDone: 85, cacheHits: 82, bytesDone: 40 << 20, bytesTotal: 80 << 20 }));
    expect(out).toEqual(["\rstrata: layers 85/92 (82 cached), compressed 40.0 MiB of ~80.0 MiB (50%) (1.5 s)"]);
    t = 1550; // within the redraw interval
    p.status(ociProgressText({ layers: 92, layersDone: 86, cacheHits: 82, bytesDone: 41 << 20 }));
    expect(out).toHaveLength(1);
    t = 1700;
    p.status(ociProgressText({ layers: 92, layersDone: 86, cacheHits: 82, bytesDone: 41 << 20 }));
    expect(out[1]).toContain("layers 86/92 (82 cached), compressed 41.0 MiB (1.7 s)");
    const silent: string[] = [];
    const q = createProgress({ write: (s) => silent.push(s), isTty: false, now: () => 5000 });
    q.status("x");
    expect(silent).toEqual([]);
  });
});

describe("podman runs a store binary from an OCI layout", () => {
  for (const compression of ["gzip", "zstd"]) {
    it(
      `${compression}: podman pull oci:DIR:TAG + run busybox from a store mounted elsewhere`,
      () => {
        // podman names the image after the layout path (keep it lowercase) and wants a runroot under 50 characters.
        const dir = join("/tmp", `strata-run-${compression}-${process.pid}`);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
        const store = join(dir, "store");
        const { name, bin, narSize } = busyboxStore(store);
        const closure = join(dir, "closure.json");
        writeFileSync(closure, JSON.stringify([{ path: `/nix/store/${name}`, narSize, references: [] }]));
        const out = join(dir, "layout");
        const b = spawnCli([
          "build",
          closure,
          "--store-root",
          store,
          "--format",
          "oci",
          "-o",
          out,
          "--no-cache",
          "--compression",
          compression,
          "--tag",
          "strata-test/busybox:v1",
          "--entrypoint",
          JSON.stringify([bin]),
          "--cmd",
          JSON.stringify(["echo", "hello from an OCI layout"]),
        ]);
        expect(b.status, b.stderr).toBe(0);
        const podman = podmanStore(join(dir, "root"), join(dir, "runroot"), "runc");
        run("podman", [...podman, "pull", "-q", `oci:${out}:v1`]);
        const id = JSON.parse(run("podman", [...podman, "images", "--format", "json"]))[0].Id;
        const ran = run("podman", [...podman, ...podmanRun, id]);
        expect(ran).toBe("hello from an OCI layout\n");
        const ls = run("podman", [...podman, ...podmanRun, "--entrypoint", bin, id, "stat", "-c", "%a %u", `/nix/store/${name}/bin/busybox`]);
        expect(ls).toBe("555 0\n");
        run("podman", [...podman, "rmi", "-a", "-f"]);
        rmSync(dir, { recursive: true, force: true });
      },
      TIMEOUT,
    );
  }
});

describe("errors inside a layer worker", () => {
  it(
    "a FIFO in a store path: exit 2 naming it, no output, no cache entry or temporary file left",
    () => {
      const dir = tempDir("oci-fifo");
      const store = join(dir, "store");
      const name = "0123456789abcdfghijklmnpqrsvwxyz-fifo-1.0";
      mkdirSync(join(store, name, "share"), { recursive: true });
      writeFileSync(join(store, name, "share", "a"), "a file");
      const mk = spawnSync("mkfifo", [join(store, name, "share", "pipe")]);
      expect(mk.status).toBe(0);
      const closure = join(dir, "closure.json");
      writeFileSync(closure, JSON.stringify([{ path: `/nix/store/${name}`, narSize: 100, references: [] }]));
      const cache = join(dir, "cache");
      const r = spawnCli(["build", closure, "--store-root", store, "--format", "oci", "-o", join(dir, "out"), "--cache", cache]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`/nix/store/${name}/share/pipe`);
      expect(r.stderr).toMatch(/FIFO|fifo|pipe/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(dir).sort()).toEqual(["cache", "closure.json", "store"]);
      expect(readdirSync(join(cache, "v1", "entries"))).toEqual([]);
      expect(readdirSync(join(cache, "v1", "tmp"))).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});

describe("--from-image with --format oci", () => {
  it(
    "the base's layers go first (compressed, diff_ids kept), Env merged: the same config as the docker-archive",
    () => {
      const dir = tempDir("oci-base");
      const c = compatCase("per-path");
      const basePlan = join(dir, "base-plan.json");
      writeFileSync(basePlan, JSON.stringify([c.input.plan[0], c.input.plan[2]]));
      const appPlan = join(dir, "app-plan.json");
      writeFileSync(appPlan, JSON.stringify([c.input.plan[1]]));
      const base = spawnCli(["build", "--layers", basePlan, "--env", "BASE=1", "--env", "SHARED=base", "--tag", "base:v1", "-o", join(dir, "base.tar")]);
      expect(base.status, base.stderr).toBe(0);
      const app = ["build", "--layers", appPlan, "--from-image", join(dir, "base.tar"), "--env", "SHARED=app", "--tag", "app:v1"];
      const tar = spawnCli([...app, "-o", join(dir, "app.tar")]);
      expect(tar.status, tar.stderr).toBe(0);
      const dockerManifest = JSON.parse(run("tar", ["-xOf", join(dir, "app.tar"), "manifest.json"]));
      const dockerConfig = run("tar", ["-xOf", join(dir, "app.tar"), dockerManifest[0].Config]);
      const cache = join(dir, "cache");
      const oci = spawnCli([...app, "--format", "oci", "-o", join(dir, "oci"), "--cache", cache]);
      expect(oci.status, oci.stderr).toBe(0);
      expect(oci.stderr).toMatch(/3 layers, 0 from the cache, 3 built/);
      const { manifest, blob } = readLayout(join(dir, "oci"));
      expect(blob(manifest.config.digest).toString("utf8")).toBe(dockerConfig);
      const config = JSON.parse(dockerConfig);
      expect(config.rootfs.diff_ids).toEqual([c.expected.diff_ids[0], c.expected.diff_ids[2], c.expected.diff_ids[1]]);
      expect(config.config.Env).toEqual(["BASE=1", "SHARED=app"]);
      run("umoci", ["unpack", "--image", `${join(dir, "oci")}:v1`, join(dir, "bundle")]);
      expectRootfsHas(join(dir, "bundle", "rootfs"), [c.input.plan[0][0], c.input.plan[1][0], c.input.plan[2][0]]);
      // The base's layers come from the cache next time, also for another image on the same base.
      const again = spawnCli([...app, "--format", "oci", "-o", join(dir, "oci2"), "--cache", cache]);
      expect(again.stderr).toMatch(/3 layers, 3 from the cache, 0 built/);
      rmSync(dir, { recursive: true, force: true });
    },
    TIMEOUT,
  );
});
