// nixpkgs' fromImage (from_image in conf.json): the base archive's layers go
// first with their own headers, their diff_ids come from the base config, Env
// is merged. The oracle is CPython's tarfile and json: a short program of ours
// assembles the expected archive the way reference/image-build.md section 5
// describes (base members copied with tarfile, store layers taken from
// strata's own output, which the compat cases check separately). Bases: one
// strata wrote, the same gzip-compressed, and one re-written by skopeo (Go's
// tar writer).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImageFromConf } from "../src/node.js";
// OCI builds run layer worker threads, which load the built worker module: the built library.
import { buildImageFromConf as builtBuildImageFromConf } from "../dist/node.js";
import { builtCli } from "./helpers/cli.js";
import { ensureCompatStore, readBuildCase } from "./helpers/nix-store.js";

let dir: string;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const ORACLE = `
import io, json, sys, tarfile, hashlib, datetime
a = json.load(sys.stdin)
conf = json.load(open(a["conf"]))
ours = tarfile.open(a["ours"])
base = tarfile.open(conf["from_image"])
manifest = json.load(base.extractfile(base.getmember("manifest.json")))
bconf = json.load(base.extractfile(base.getmember(manifest[0]["Config"])))
out = io.BytesIO()
mtime = int(datetime.datetime.fromisoformat(conf["mtime"]).timestamp())
created = datetime.datetime.fromisoformat(conf["created"]).isoformat()
layers = []
with tarfile.open(fileobj=out, mode="w|") as t:
    for name, d in zip(manifest[0]["Layers"], bconf["rootfs"]["diff_ids"]):
        m = base.getmember(name)
        t.addfile(m, base.extractfile(m))
        layers.append((d.split("sha256:")[-1], m.path, [m.path]))
    n = len(layers)
    om = json.loads(ours.extractfile("manifest.json").read())[0]["Layers"]
    for i, sl in enumerate(conf["store_layers"]):
        data = ours.extractfile(om[n + i]).read()
        ti = tarfile.TarInfo(om[n + i]); ti.size = len(data); ti.mtime = mtime
        t.addfile(ti, io.BytesIO(data))
        layers.append((om[n + i].split("/")[0], om[n + i], sl))
    cl = conf["customisation_layer"]
    chk = open(cl + "/checksum").read().strip()
    ti = t.gettarinfo(cl + "/layer.tar"); ti.name = chk + "/layer.tar"; ti.mtime = mtime
    t.addfile(ti, open(cl + "/layer.tar", "rb"))
    layers.append((chk, ti.name, [cl]))
    cfg = conf["config"]
    env = bconf["config"].get("Env", []) + cfg.get("Env", [])
    if env:
        cfg["Env"] = list({e.split("=", 1)[0]: e for e in env}.values())
    image = {"created": created, "architecture": conf["architecture"], "os": "linux", "config": cfg,
             "rootfs": {"diff_ids": ["sha256:" + l[0] for l in layers], "type": "layers"},
             "history": [{"created": created, "comment": f"store paths: {l[2]}"} for l in layers]}
    ib = json.dumps(image, indent=4).encode()
    name = hashlib.sha256(ib).hexdigest() + ".json"
    ti = tarfile.TarInfo(name); ti.size = len(ib); ti.mtime = mtime; t.addfile(ti, io.BytesIO(ib))
    mb = json.dumps([{"Config": name, "RepoTags": [conf["repo_tag"]], "Layers": [l[1] for l in layers]}], indent=4).encode()
    ti = tarfile.TarInfo("manifest.json"); ti.size = len(mb); ti.mtime = mtime; t.addfile(ti, io.BytesIO(mb))
b = out.getvalue()
print(json.dumps({"size": len(b), "sha256": hashlib.sha256(b).hexdigest(), "config": ib.decode()}))
`;

function oracle(conf: string, ours: string): { size: number; sha256: string; config: string } {
  const r = spawnSync("python3", ["-c", ORACLE], { input: JSON.stringify({ conf, ours }), encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.error !== undefined) throw new Error(`python3 could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { size: number; sha256: string; config: string };
}

beforeAll(async () => {
  ensureCompatStore();
  dir = mkdtempSync(join(tmpdir(), "strata-build-base-"));
  const perPath = join(dir, "per-path.conf.json");
  writeFileSync(perPath, JSON.stringify({ ...readBuildCase("per-path").input.conf, config: { Env: ["PATH=/bin", "LANG=C"], Cmd: ["/bin/app"] } }));
  await buildImageFromConf(perPath, { output: join(dir, "base.tar") });
  writeFileSync(join(dir, "base.tar.gz"), gzipSync(readFileSync(join(dir, "base.tar"))));
  const sk = spawnSync("skopeo", ["copy", `docker-archive:${join(dir, "base.tar")}`, `docker-archive:${join(dir, "skopeo-base.tar")}:strata/base:v1`], {
    encoding: "utf8",
  });
  if (sk.error !== undefined || sk.status !== 0) throw new Error(`skopeo copy failed: ${sk.error?.message ?? sk.stderr}`);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(["base.tar", "base.tar.gz", "skopeo-base.tar"])("from_image %s", (baseName) => {
  it("equals CPython tarfile's assembly: base members with their own headers, diff_ids from the base, Env merged", async () => {
    const c = readBuildCase("grouped");
    const conf = join(dir, `grouped-on-${baseName}.json`);
    writeFileSync(
      conf,
      JSON.stringify({ ...c.input.conf, from_image: join(dir, baseName), config: { Env: ["PATH=/usr/bin:/bin", "EXTRA=1"], User: "nobody" } }),
    );
    const out = join(dir, `out-${baseName}.tar`);
    const r = await buildImageFromConf(conf, { output: out });
    const expected = oracle(conf, out);
    expect(r.config).toBe(expected.config);
    const bytes = readFileSync(out);
    expect({ size: bytes.length, sha256: sha256(bytes) }).toEqual({ size: expected.size, sha256: expected.sha256 });
    // the store layers on top are unchanged by the base
    expect(r.layers.filter((l) => l.kind === "store").map((l) => `sha256:${l.digest}`)).toEqual(c.expected.diff_ids.slice(0, 3));
    expect(JSON.parse(r.config).config.Env).toEqual(["PATH=/usr/bin:/bin", "LANG=C", "EXTRA=1"]);
    // the CLI, streaming to stdout (two passes), writes the same bytes
    const p = spawnSync(process.execPath, [builtCli, "build", "--nixpkgs-conf", conf], { maxBuffer: 1 << 27 });
    expect(p.status, p.stderr.toString()).toBe(0);
    expect(sha256(p.stdout)).toBe(expected.sha256);
    // the OCI build labels its layers as the docker-archive does: base, store, customisation
    const oci = await builtBuildImageFromConf(conf, { output: join(dir, `oci-${baseName}`), format: "oci", oci: { cache: false } });
    expect(oci.layers.map((l) => l.kind)).toEqual(r.layers.map((l) => l.kind));
    expect(r.layers.map((l) => l.kind)).toEqual([...Array(9).fill("base"), "store", "store", "store", "customisation"]);
  }, 300_000);
});

it("a base that is not a docker-archive is a BuildError naming it, and nothing is written", async () => {
  const c = readBuildCase("grouped");
  const conf = join(dir, "bad-base.json");
  const notImage = join(dir, "not-an-image.tar");
  writeFileSync(notImage, Buffer.alloc(10240));
  writeFileSync(conf, JSON.stringify({ ...c.input.conf, from_image: notImage }));
  const p = spawnSync(process.execPath, [builtCli, "build", "--nixpkgs-conf", conf, "-o", join(dir, "never.tar")], { encoding: "utf8" });
  expect(p.status).toBe(2);
  expect(p.stderr).toContain(notImage);
  expect(p.stderr).toContain("manifest.json");
  expect(spawnSync("ls", [dir], { encoding: "utf8" }).stdout).not.toContain("never.tar");
});

it("strata build --layers ... --from-image gives the same archive as the conf.json with from_image", async () => {
  const c = readBuildCase("grouped");
  const conf = join(dir, "grouped-on-base-cli.json");
  const config = { Env: ["PATH=/usr/bin:/bin", "EXTRA=1"], User: "nobody" };
  writeFileSync(conf, JSON.stringify({ ...c.input.conf, from_image: join(dir, "base.tar"), config }));
  const viaConf = join(dir, "via-conf.tar");
  await buildImageFromConf(conf, { output: viaConf });
  const plan = join(dir, "grouped-plan.json");
  writeFileSync(plan, JSON.stringify(c.input.plan));
  const configFile = join(dir, "grouped-config.json");
  writeFileSync(configFile, JSON.stringify(config));
  const viaCli = join(dir, "via-cli.tar");
  const cc = c.input.conf as Record<string, unknown>;
  const p = spawnSync(
    process.execPath,
    [
      builtCli,
      "build",
      "--layers",
      plan,
      "--from-image",
      join(dir, "base.tar"),
      "--config",
      configFile,
      "--created",
      String(cc.created),
      "--architecture",
      String(cc.architecture),
      "--tag",
      String(cc.repo_tag),
      "--customisation-layer",
      c.input.customisation_layer.path,
      "-o",
      viaCli,
    ],
    { encoding: "utf8" },
  );
  expect(p.status, p.stderr).toBe(0);
  expect(sha256(readFileSync(viaCli))).toBe(sha256(readFileSync(viaConf)));
}, 300_000);
