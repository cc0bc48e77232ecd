// Issue 14: what strata build writes, read by the real tools: skopeo inspects
// the docker-archive, skopeo + umoci unpack it and the root filesystem equals
// the store paths (modes, links, contents, non-UTF-8 names), and podman loads
// it and runs a store binary (a static busybox in a store mounted elsewhere,
// --store-root). podman uses a private --root/--runroot and vfs storage.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readClosureInput } from "../src/node.js";
import { builtCli } from "./helpers/cli.js";
import { compatBuildDir, ensureCompatStore } from "./helpers/nix-store.js";
import { busyboxStore, podmanRun, podmanStore } from "./helpers/podman.js";

let dir: string;
let image: string;

function run(cmd: string, args: string[], timeout = 300_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout, maxBuffer: 1 << 26 });
  if (r.error !== undefined) throw new Error(`${cmd} could not run: ${r.error.message}`);
  return r;
}

beforeAll(() => {
  ensureCompatStore();
  dir = mkdtempSync(join(tmpdir(), "strata-build-tools-"));
  image = join(dir, "planned.tar");
  const r = run(process.execPath, [
    builtCli,
    "build",
    join(compatBuildDir, "store-closure.json"),
    "-o",
    image,
    "--tag",
    "strata-test/planned:v1",
    "--cmd",
    "/bin/app",
    "--env",
    "PATH=/bin",
    "--label",
    "org.example=yes",
    "--expose",
    "8080",
    "-q",
  ]);
  if (r.status !== 0) throw new Error(`strata build failed: ${r.stderr}`);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("skopeo and umoci read a strata-planned docker-archive", () => {
  it("skopeo inspect docker-archive: shows the layers, config and labels", async () => {
    const r = run("skopeo", ["inspect", `docker-archive:${image}`]);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { Layers: string[]; Architecture: string; Os: string; Env: string[]; Labels: Record<string, string> };
    expect(info.Os).toBe("linux");
    expect(info.Env).toEqual(["PATH=/bin"]);
    expect(info.Labels).toEqual({ "org.example": "yes" });
    const doc = await readClosureInput(join(compatBuildDir, "store-closure.json"));
    expect(info.Layers.length).toBeGreaterThanOrEqual(1);
    expect(info.Layers.length).toBeLessThanOrEqual(doc.entries.length);
    const raw = run("skopeo", ["inspect", "--config", `docker-archive:${image}`]);
    expect(raw.status, raw.stderr).toBe(0);
    const config = JSON.parse(raw.stdout) as { config: { ExposedPorts: Record<string, unknown>; Cmd: string[] }; rootfs: { diff_ids: string[] } };
    expect(config.config.ExposedPorts).toEqual({ "8080/tcp": {} });
    expect(config.config.Cmd).toEqual(["/bin/app"]);
    expect(config.rootfs.diff_ids).toEqual(info.Layers);
  }, 300_000);

  it("umoci unpacks it (through skopeo copy to an OCI layout) into exactly the store paths", async () => {
    const oci = join(dir, "oci");
    const copy = run("skopeo", ["copy", `docker-archive:${image}`, `oci:${oci}:v1`]);
    expect(copy.status, copy.stderr).toBe(0);
    const bundle = join(dir, "bundle");
    const unpack = run("umoci", ["unpack", "--rootless", "--image", `${oci}:v1`, bundle]);
    expect(unpack.status, unpack.stderr).toBe(0);
    const doc = await readClosureInput(join(compatBuildDir, "store-closure.json"));
    const excluded = new Set(doc.excludePaths ?? []);
    let compared = 0;
    for (const e of doc.entries) {
      if (excluded.has(e.path)) continue;
      const d = run("diff", ["-r", "--no-dereference", e.path, join(bundle, "rootfs", e.path)]);
      expect(d.stdout + d.stderr).toBe("");
      expect(d.status).toBe(0);
      // modes as in the store (diff does not compare them)
      expect(statSync(join(bundle, "rootfs", e.path), { throwIfNoEntry: true }).mode & 0o7777).toBe(statSync(e.path).mode & 0o7777);
      compared++;
    }
    expect(compared).toBe(8);
    expect(statSync(join(bundle, "rootfs", "nix", "store")).mode & 0o7777).toBe(0o755);
  }, 300_000);
});

describe("podman loads a strata image and runs a store binary", () => {
  it("podman load + run busybox from a store mounted elsewhere (--store-root)", () => {
    const store = join(dir, "fake-store");
    const { name, bin, narSize } = busyboxStore(store);
    chmodSync(join(store, name, "bin"), 0o555);
    chmodSync(join(store, name), 0o555);
    const closure = join(dir, "busybox-closure.json");
    writeFileSync(closure, JSON.stringify([{ path: `/nix/store/${name}`, narSize, references: [] }]));
    const tar = join(dir, "busybox.tar");
    const b = run(process.execPath, [
      builtCli,
      "build",
      closure,
      "--store-root",
      store,
      "-o",
      tar,
      "--tag",
      "strata-test/busybox:v1",
      "--entrypoint",
      JSON.stringify([bin]),
      "--cmd",
      JSON.stringify(["echo", "hello from the nix store"]),
    ]);
    expect(b.status, b.stderr).toBe(0);
    const root = join(dir, "podman-root");
    const runroot = join(dir, "podman-runroot");
    const podman = podmanStore(root, runroot, "runc");
    const load = run("podman", [...podman, "load", "-i", tar]);
    expect(load.status, load.stderr).toBe(0);
    expect(load.stdout).toContain("strata-test/busybox:v1");
    const ran = run("podman", [...podman, ...podmanRun, "strata-test/busybox:v1"]);
    expect(ran.stderr).toBe("");
    expect(ran.status).toBe(0);
    expect(ran.stdout).toBe("hello from the nix store\n");
    const ls = run("podman", [
      ...podman,
      ...podmanRun,
      "--entrypoint",
      bin,
      "strata-test/busybox:v1",
      "stat",
      "-c",
      "%a %u %n",
      "/nix",
      "/nix/store",
      `/nix/store/${name}`,
    ]);
    expect(ls.status, ls.stderr).toBe(0);
    expect(ls.stdout).toBe(`755 0 /nix\n755 0 /nix/store\n555 0 /nix/store/${name}\n`);
    run("podman", [...podman, "rmi", "-a", "-f"]);
  }, 600_000);
});
