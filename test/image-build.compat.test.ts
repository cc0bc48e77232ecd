// Issue 14: strata build writes exactly the bytes of nixpkgs'
// stream_layered_image.py, checked on the five recorded cases of
// ../shared/compat/build over the real Nix store built from its store.nix:
// each layer's size and diff_id, the config and manifest bytes and the whole
// stream's sha256 and size, through the library and through the built CLI.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage, buildImageFromConf, layerTarChunks, imageSpecFromConfFile, prepareImage } from "../src/node.js";
import { readClosureInput } from "../src/node.js";
import { builtCli } from "./helpers/cli.js";
import { buildCaseNames, compatBuildDir, ensureCompatStore, readBuildCase } from "./helpers/nix-store.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
let dir: string;

beforeAll(() => {
  ensureCompatStore();
  dir = mkdtempSync(join(tmpdir(), "strata-build-compat-"));
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConf(name: string): string {
  const c = readBuildCase(name);
  const file = join(dir, `${name}.conf.json`);
  writeFileSync(file, JSON.stringify(c.input.conf, null, 2));
  return file;
}

describe.each(buildCaseNames)("case %s", (name) => {
  const c = readBuildCase(name);

  it("every store layer tar: size and diff_id", async () => {
    const spec = await imageSpecFromConfFile(writeConf(name));
    expect(spec.storeLayers).toEqual(c.input.plan);
    for (let i = 0; i < c.input.plan.length; i++) {
      const h = createHash("sha256");
      let size = 0;
      let chunks = 0;
      for await (const chunk of layerTarChunks(c.input.plan[i], spec.tar, spec.store)) {
        h.update(chunk);
        size += chunk.length;
        chunks++;
      }
      expect({ layer: i, size, diffId: `sha256:${h.digest("hex")}` }).toEqual({ layer: i, size: c.expected.layers[i].size, diffId: c.expected.diff_ids[i] });
      expect(chunks).toBeGreaterThan(0);
    }
  }, 120_000);

  it("library: config, manifest and the whole stream from conf.json", async () => {
    const out = join(dir, `${name}.lib.tar`);
    const r = await buildImageFromConf(writeConf(name), { output: out });
    expect(r.config).toBe(c.expected.config);
    expect(r.manifest).toBe(c.expected.manifest);
    expect(`${r.imageId}.json`).toBe(c.expected.config_name);
    expect(r.layers.map((l) => `sha256:${l.digest}`)).toEqual(c.expected.diff_ids);
    const bytes = readFileSync(out);
    expect({ size: bytes.length, sha256: sha256(bytes) }).toEqual({ size: c.expected.stream.size, sha256: c.expected.stream.sha256 });
    expect(r.size).toBe(bytes.length);
  }, 120_000);

  it("CLI: strata build --nixpkgs-conf to stdout and to -o", () => {
    const conf = writeConf(name);
    const viaStdout = spawnSync(process.execPath, [builtCli, "build", "--nixpkgs-conf", conf], { maxBuffer: 1 << 26 });
    expect(viaStdout.stderr.toString()).toBe("");
    expect(viaStdout.status).toBe(0);
    expect({ size: viaStdout.stdout.length, sha256: sha256(viaStdout.stdout) }).toEqual(c.expected.stream);
    const out = join(dir, `${name}.cli.tar`);
    const viaFile = spawnSync(process.execPath, [builtCli, "build", "--nixpkgs-conf", conf, "-o", out], { encoding: "utf8" });
    expect(viaFile.status).toBe(0);
    const bytes = readFileSync(out);
    expect({ size: bytes.length, sha256: sha256(bytes) }).toEqual(c.expected.stream);
  }, 120_000);

  it("library buildImage and CLI --layers from the case's plan and settings give the same store layers", async () => {
    const conf = c.input.conf as Record<string, string | number>;
    const common = {
      created: String(conf.created),
      mtime: String(conf.mtime),
      uid: Number(conf.uid),
      gid: Number(conf.gid),
      uname: String(conf.uname),
      gname: String(conf.gname),
      architecture: String(conf.architecture),
      tag: String(conf.repo_tag),
      config: conf.config as unknown as Record<string, unknown>,
    };
    const out = join(dir, `${name}.build.tar`);
    const r = await buildImage({ ...common, layers: c.input.plan, customisation: { kind: "nixpkgs", dir: c.input.customisation_layer.path }, output: out });
    expect(r.layers.map((l) => `sha256:${l.digest}`)).toEqual(c.expected.diff_ids);
    // The config's keys are already sorted in every case, so Nix's ordering changes nothing: the whole stream matches.
    expect(sha256(readFileSync(out))).toBe(c.expected.stream.sha256);
    const plan = join(dir, `${name}.plan.json`);
    writeFileSync(plan, JSON.stringify(c.input.plan));
    const configFile = join(dir, `${name}.config.json`);
    writeFileSync(configFile, JSON.stringify(conf.config));
    const cliOut = join(dir, `${name}.cli-layers.tar`);
    const args = [
      "build",
      "--layers",
      plan,
      "-o",
      cliOut,
      "--created",
      common.created,
      "--mtime",
      common.mtime,
      "--uid",
      String(common.uid),
      "--gid",
      String(common.gid),
      "--uname",
      common.uname,
      "--gname",
      common.gname,
      "--architecture",
      common.architecture,
      "--tag",
      common.tag,
      "--config",
      configFile,
      "--customisation-layer",
      c.input.customisation_layer.path,
    ];
    const p = spawnSync(process.execPath, [builtCli, ...args], { encoding: "utf8" });
    expect(p.stderr).toBe("");
    expect(p.status).toBe(0);
    expect(sha256(readFileSync(cliOut))).toBe(c.expected.stream.sha256);
  }, 120_000);
});

describe("a strata-planned build of the compat closure", () => {
  it("plans with the default strategy, covers the closure and hashes every layer", async () => {
    const doc = await readClosureInput(join(compatBuildDir, "store-closure.json"));
    const out = join(dir, "planned.tar");
    const p = spawnSync(
      process.execPath,
      [builtCli, "build", join(compatBuildDir, "store-closure.json"), "-o", out, "--tag", "strata/planned:v1", "--cmd", "/bin/app", "-q"],
      { encoding: "utf8" },
    );
    expect(p.stderr).toBe("");
    expect(p.status).toBe(0);
    expect(existsSync(out)).toBe(true);
    const manifestText = spawnSync("tar", ["-xOf", out, "manifest.json"], { encoding: "utf8" }).stdout;
    const manifest = JSON.parse(manifestText) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(manifest[0].RepoTags).toEqual(["strata/planned:v1"]);
    const config = JSON.parse(spawnSync("tar", ["-xOf", out, manifest[0].Config], { encoding: "utf8" }).stdout) as {
      history: { comment: string }[];
      config: { Cmd: string[] };
    };
    expect(config.config.Cmd).toEqual(["/bin/app"]);
    const planned = config.history.map((h) => h.comment);
    const all = new Set(doc.entries.map((e) => e.path));
    for (const path of all) expect(planned.some((c) => c.includes(`'${path}'`))).toBe(true);
    // every layer member's bytes hash to its name
    for (const m of manifest[0].Layers) {
      const bytes = spawnSync("tar", ["-xOf", out, m], { maxBuffer: 1 << 26 }).stdout;
      expect(sha256(bytes)).toBe(m.split("/")[0]);
    }
  }, 120_000);

  it("prepareImage reports the same digests as the archive holds", async () => {
    const c = readBuildCase("grouped");
    const spec = await imageSpecFromConfFile(writeConf("grouped"));
    const image = await prepareImage(spec);
    expect(image.layers.map((l) => `sha256:${l.digest}`)).toEqual(c.expected.diff_ids);
    expect(Buffer.from(image.config).toString()).toBe(c.expected.config);
  }, 120_000);
});

describe("strata build options", () => {
  const closure = join(compatBuildDir, "store-closure.json");

  it("--contents DIR makes the top layer as nixpkgs' customisation layer, identical to the compat store's when the contents are", async () => {
    // custom-app's layer.tar holds ./bin/app -> app's bin/app and ./etc/motd -> motd; rebuild that directory
    const c = readBuildCase("per-path");
    const contents = join(dir, "contents");
    const { mkdirSync, symlinkSync, chmodSync } = await import("node:fs");
    mkdirSync(join(contents, "bin"), { recursive: true });
    mkdirSync(join(contents, "etc"), { recursive: true });
    symlinkSync("/nix/store/k0cfrvq239das4rcc13mzybyf58dmvd3-app-3.0/bin/app", join(contents, "bin", "app"));
    symlinkSync("/nix/store/0b3j9rshmwsy3hafg1axwj0hhx6alv7h-motd", join(contents, "etc", "motd"));
    for (const d of [contents, join(contents, "bin"), join(contents, "etc")]) chmodSync(d, 0o755);
    const out = join(dir, "contents.tar");
    const r = await buildImage({ layers: c.input.plan, customisation: { kind: "directory", dir: contents }, output: out, tag: "x:y" });
    expect(r.layers.map((l) => l.kind)).toEqual([...c.input.plan.map(() => "store"), "customisation"]);
    expect(r.layers[r.layers.length - 1].digest).toBe(c.input.customisation_layer.checksum);
    expect(r.layers[r.layers.length - 1].size).toBe(c.input.customisation_layer.layer_tar_size);
  }, 120_000);

  it("any strategy plans the image; --layers takes the debug format too; the plan is checked against the closure", () => {
    const out = join(dir, "auto.tar");
    const p = spawnSync(process.execPath, [builtCli, "build", closure, "--strategy", "auto-layer", "--max-layers", "4", "-o", out], { encoding: "utf8" });
    expect(p.status, p.stderr).toBe(0);
    const manifest = JSON.parse(spawnSync("tar", ["-xOf", out, "manifest.json"], { encoding: "utf8" }).stdout) as { Layers: string[] }[];
    expect(manifest[0].Layers.length).toBe(3);
    const debug = spawnSync(process.execPath, [builtCli, "layer", closure, "--strategy", "auto-layer", "--max-layers", "4", "--format", "debug"], {
      encoding: "utf8",
    });
    expect(debug.status).toBe(0);
    const planFile = join(dir, "debug-plan.json");
    writeFileSync(planFile, debug.stdout);
    const out2 = join(dir, "auto2.tar");
    const q = spawnSync(process.execPath, [builtCli, "build", closure, "--layers", planFile, "-o", out2], { encoding: "utf8" });
    expect(q.status, q.stderr).toBe(0);
    expect(sha256(readFileSync(out2))).toBe(sha256(readFileSync(out)));
  }, 120_000);

  it("library: buildImage to a writable stream equals the file output; the closure check runs", async () => {
    const c = readBuildCase("grouped");
    const doc = await readClosureInput(closure);
    const { PassThrough } = await import("node:stream");
    const sink = new PassThrough();
    const parts: Buffer[] = [];
    sink.on("data", (b: Buffer) => parts.push(b));
    const base = {
      layers: c.input.plan,
      created: "2024-06-01T12:00:00+00:00",
      customisation: { kind: "nixpkgs" as const, dir: c.input.customisation_layer.path },
    };
    const viaStream = await buildImage({ ...base, closure: doc, exclude: doc.excludePaths, output: sink });
    const file = join(dir, "lib-file.tar");
    const viaFile = await buildImage({ ...base, output: file });
    expect(sha256(Buffer.concat(parts))).toBe(sha256(readFileSync(file)));
    expect(viaStream.imageId).toBe(viaFile.imageId);
    expect(viaStream.layers.map((l) => `sha256:${l.digest}`)).toEqual(c.expected.diff_ids);
    await expect(buildImage({ ...base, layers: c.input.plan.slice(1), closure: doc, output: join(dir, "never.tar") })).rejects.toMatchObject({
      code: "plan-mismatch",
    });
    expect(existsSync(join(dir, "never.tar"))).toBe(false);
  }, 120_000);
});
