// Issue 14, bad input: every failure a user can cause while building is a
// BuildError naming the path, exit code 2, one line on stderr (no stack), and
// no output: no file, no temporary file left beside it, an existing file
// untouched.
import { spawnSync, execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildError, buildImage, buildImageFromConf } from "../src/node.js";
import { builtCli } from "./helpers/cli.js";
import { compatBuildDir, ensureCompatStore, readBuildCase } from "./helpers/nix-store.js";

let dir: string;
let store: string;
let server: Server;
const H = (c: string) => c.repeat(32);
const pkg = `/nix/store/${H("a")}-pkg`;
const sock = `/nix/store/${H("b")}-sock`;
const fifo = `/nix/store/${H("c")}-fifo`;
const secret = `/nix/store/${H("d")}-secret`;

beforeAll(async () => {
  ensureCompatStore();
  dir = mkdtempSync(join(tmpdir(), "strata-build-bad-"));
  chmodSync(dir, 0o777);
  store = join(dir, "store");
  mkdirSync(join(store, `${H("a")}-pkg`, "bin"), { recursive: true });
  writeFileSync(join(store, `${H("a")}-pkg`, "bin", "x"), "x");
  mkdirSync(join(store, `${H("b")}-sock`));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(join(store, `${H("b")}-sock`, "control.sock"), resolve));
  mkdirSync(join(store, `${H("c")}-fifo`));
  execFileSync("mkfifo", [join(store, `${H("c")}-fifo`, "pipe")]);
  mkdirSync(join(store, `${H("d")}-secret`));
  writeFileSync(join(store, `${H("d")}-secret`, "key"), "k");
  chmodSync(join(store, `${H("d")}-secret`, "key"), 0o000);
}, 300_000);
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built CLI (as nobody when we are root, so that file permissions apply) in a fresh output directory. */
function build(args: string[], asUser = false) {
  const outDir = mkdtempSync(join(dir, "out-"));
  chmodSync(outDir, 0o777);
  const out = join(outDir, "image.tar");
  const argv = [builtCli, "build", ...args, "-o", out];
  const r =
    asUser && process.getuid?.() === 0
      ? spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...argv], { encoding: "utf8" })
      : spawnSync(process.execPath, argv, { encoding: "utf8" });
  return { ...r, out, outDir };
}

function expectFailure(r: ReturnType<typeof build>, mention: string, code = 2): void {
  expect(r.stdout).toBe("");
  expect(r.status, r.stderr).toBe(code);
  expect(r.stderr).toContain(mention);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(readdirSync(r.outDir)).toEqual([]);
}

function planFile(layers: string[][]): string {
  const d = mkdtempSync(join(dir, "plan-"));
  chmodSync(d, 0o755);
  const f = join(d, "plan.json");
  writeFileSync(f, JSON.stringify(layers));
  return f;
}

describe("store contents", () => {
  it("a store path missing on disk", () => {
    const missing = `/nix/store/${H("e")}-gone`;
    expectFailure(build(["--layers", planFile([[pkg], [missing]]), "--store-root", store]), missing);
  });

  it("a socket in a store path", () => {
    const r = build(["--layers", planFile([[pkg, sock]]), "--store-root", store]);
    expectFailure(r, `${sock}/control.sock`);
    expect(r.stderr).toContain("socket");
  });

  it("a named pipe in a store path", () => {
    const r = build(["--layers", planFile([[fifo]]), "--store-root", store]);
    expectFailure(r, `${fifo}/pipe`);
    expect(r.stderr).toContain("FIFO");
  });

  it("an unreadable file", () => {
    const r = build(["--layers", planFile([[pkg], [secret]]), "--store-root", store], true);
    expectFailure(r, `${secret}/key`);
    expect(r.stderr).toContain("permission denied");
  });

  it("library: the same errors are BuildError with a code and the path", async () => {
    const out = join(mkdtempSync(join(dir, "lib-")), "image.tar");
    const err = await buildImage({ layers: [[pkg, fifo]], storeRoot: store, output: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("special-file");
    expect((err as BuildError).path).toBe(`${fifo}/pipe`);
    expect(existsSync(out)).toBe(false);
  });

  it("an existing output file is left untouched when the build fails", () => {
    const r = build(["--layers", planFile([[fifo]]), "--store-root", store]);
    expect(r.status).toBe(2);
    writeFileSync(r.out, "previous image");
    const again = spawnSync(process.execPath, [builtCli, "build", "--layers", planFile([[fifo]]), "--store-root", store, "-o", r.out], { encoding: "utf8" });
    expect(again.status).toBe(2);
    expect(readFileSync(r.out, "utf8")).toBe("previous image");
    expect(readdirSync(r.outDir)).toEqual(["image.tar"]);
  });
});

describe("plans", () => {
  const closure = join(compatBuildDir, "store-closure.json");
  const plan = readBuildCase("per-path").input.plan;

  it("a plan naming a path outside the closure", () => {
    const outside = `/nix/store/${H("f")}-stranger`;
    const r = build([closure, "--layers", planFile([...plan, [outside]])]);
    expectFailure(r, outside);
    expect(r.stderr).toContain("not in the closure");
  });

  it("a plan missing a path of the closure", () => {
    const r = build([closure, "--layers", planFile(plan.slice(1))]);
    expectFailure(r, plan[0][0]);
    expect(r.stderr).toContain("misses");
  });

  it("a path under a different store directory", () => {
    const r = build(["--layers", planFile([[plan[0][0]], ["/gnu/store/0000000000000000000000000000000a-guile"]])]);
    expectFailure(r, "/gnu/store/0000000000000000000000000000000a-guile");
    expect(r.stderr).toContain("store directory");
  });

  it("a plan file that is not a plan", () => {
    const f = planFile([] as string[][]);
    writeFileSync(f, '{"pipeline": []}');
    expectFailure(build(["--layers", f]), f);
  });
});

describe("nixpkgs conf.json", () => {
  const conf = readBuildCase("grouped").input.conf;
  const confFile = (c: Record<string, unknown>) => {
    const f = join(mkdtempSync(join(dir, "conf-")), "conf.json");
    writeFileSync(f, JSON.stringify(c));
    return f;
  };

  it.each([
    "created",
    "mtime",
    "uid",
    "gid",
    "uname",
    "gname",
    "store_dir",
    "from_image",
    "store_layers",
    "customisation_layer",
    "architecture",
    "config",
    "repo_tag",
  ])("missing key %s", (key) => {
    const c: Record<string, unknown> = { ...conf };
    delete c[key];
    const r = build(["--nixpkgs-conf", confFile(c)]);
    expectFailure(r, `missing key "${key}"`);
  });

  it("a store path not under store_dir", () => {
    const r = build(["--nixpkgs-conf", confFile({ ...conf, store_dir: "/gnu/store" })]);
    expectFailure(r, conf.store_layers[0][0]);
  });

  it("a customisation layer without a valid checksum", () => {
    const custom = join(dir, "custom-bad");
    mkdirSync(custom, { recursive: true });
    writeFileSync(join(custom, "checksum"), "abc\n");
    writeFileSync(join(custom, "layer.tar"), Buffer.alloc(10240));
    const r = build(["--nixpkgs-conf", confFile({ ...conf, customisation_layer: custom })]);
    expectFailure(r, join(custom, "checksum"));
  });

  it("a customisation layer whose layer.tar is missing", () => {
    const custom = join(dir, "custom-missing");
    mkdirSync(custom, { recursive: true });
    writeFileSync(join(custom, "checksum"), "a".repeat(64));
    symlinkSync("nowhere", join(custom, "unused"));
    expectFailure(build(["--nixpkgs-conf", confFile({ ...conf, customisation_layer: custom })]), join(custom, "layer.tar"));
  });

  it("a malformed time and a non-numeric uid", () => {
    expectFailure(build(["--nixpkgs-conf", confFile({ ...conf, created: "yesterday" })]), "yesterday");
    expectFailure(build(["--nixpkgs-conf", confFile({ ...conf, uid: "root" })]), '"uid"');
  });

  it("a from_image that does not exist", async () => {
    const f = confFile({ ...conf, from_image: "/tmp/strata-no-such-base.tar" });
    expectFailure(build(["--nixpkgs-conf", f]), "/tmp/strata-no-such-base.tar");
    await expect(buildImageFromConf(f, { output: join(dir, "never.tar") })).rejects.toMatchObject({ code: "bad-base-image" });
    expect(existsSync(join(dir, "never.tar"))).toBe(false);
  });

  it("uid and gid given as strings are accepted (newer streamLayeredImage passes them so)", async () => {
    const c = readBuildCase("grouped");
    const out = join(mkdtempSync(join(dir, "ok-")), "image.tar");
    const r = await buildImageFromConf(confFile({ ...conf, uid: "0", gid: " 0 " }), { output: out });
    expect(r.layers.map((l) => `sha256:${l.digest}`)).toEqual(c.expected.diff_ids);
  });
});

describe("usage", () => {
  it("refuses an unknown format and conflicting inputs", () => {
    expectFailure(build(["x.json", "--format", "tarball"]), "--format");
    expectFailure(build(["--nixpkgs-conf", "c.json", "--tag", "a:b"]), "--tag");
    expectFailure(build(["--contents", "a", "--customisation-layer", "b", "--layers", "p.json"]), "exclude each other");
  });
});

describe("output", () => {
  it("-o into a directory that does not exist: exit 2, the directory named", () => {
    const closure = join(compatBuildDir, "store-closure.json");
    const r = spawnSync(process.execPath, [builtCli, "build", closure, "-o", join(dir, "no-such-dir", "image.tar")], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`strata: cannot write ${join(dir, "no-such-dir", "image.tar")}: no directory ${join(dir, "no-such-dir")}\n`);
  });

  it("a reader that closes the pipe early: exit 2 with one line, no stack", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [builtCli, "build", join(compatBuildDir, "store-closure.json")], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(2);
    expect(err).toBe("strata: cannot write the image: the reader closed the pipe\n");
  }, 120_000);
});
