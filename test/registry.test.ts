// strata push and evaluate --against with real components: Debian's
// docker-registry (distribution 2.8) on 127.0.0.1, skopeo as the client that
// pulls what strata pushed, htpasswd for Basic auth, and small servers of the
// test's own for the Bearer token flow and for faults. Everything listens on
// 127.0.0.1 on free ports, in temporary directories, and is stopped afterwards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  completedUploads,
  freePort,
  noise,
  pulledBlobBytes,
  requireTool,
  skopeo,
  startProxy,
  startRegistry,
  strata,
  writeLayout,
  type Registry,
} from "./helpers/registry.js";
import { lookupCredentials, parseChallenge, runCredentialHelper } from "../src/registry/auth.js";
import { compatBuildDir, ensureCompatStore } from "./helpers/nix-store.js";
import { isLoopback, parseImageReference } from "../src/registry/reference.js";

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `strata-${p}-`));
const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

// Two versions of an image: v1 keeps the base and app layers, changes lib, adds one.
const base = { files: { "aaaa-glibc-2.40/lib/libc.so": noise(1, 400_000) } };
const lib = (v: number) => ({ files: { [`bbbb-libssl-3.${v}/lib/libssl.so`]: noise(10 + v, 120_000) } });
const text = { files: { "cccc-docs-1.0/share/README": "strata layers compress ".repeat(20_000) } };
const app = { files: { "dddd-app-1.0/bin/app": noise(3, 30_000) } };
const extra = { files: { "eeee-tzdata-2026a/share/zone": noise(4, 50_000) } };

let layout: string;
let v0: ReturnType<typeof writeLayout>;
let v1: ReturnType<typeof writeLayout>;
let reg: Registry;

beforeAll(async () => {
  requireTool("/usr/bin/skopeo", "skopeo");
  layout = tmp("layout");
  v0 = writeLayout(layout, "v0", [base, lib(0), text, app]);
  v1 = writeLayout(layout, "v1", [base, lib(1), text, app, extra], "1970-01-01T00:00:02Z");
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

const blobsOf = (x: typeof v0) => [x.config, ...x.layers];
const bytesOf = (x: typeof v0) => blobsOf(x).reduce((s, b) => s + b.size, 0);

describe("strata push to a real registry", () => {
  it("pushes an OCI layout that skopeo pulls back byte for byte; a rerun uploads nothing", async () => {
    const r = await strata(["push", `${layout}:v0`, `docker://${reg.host}/app:v0`, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.manifestDigest).toBe(v0.manifestDigest);
    expect(report.bytesUploaded).toBe(bytesOf(v0));
    expect(report.bytesSkipped).toBe(0);

    // skopeo sees the manifest strata pushed, verbatim (same digest).
    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/app:v0`]);
    expect(raw.code).toBe(0);
    expect(sha(Buffer.from(raw.stdout))).toBe(v0.manifestDigest);
    const out = tmp("pulled");
    const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${reg.host}/app:v0`, `oci:${out}:v0`]);
    expect(copy.stderr).toBe("");
    expect(copy.code).toBe(0);
    for (const b of blobsOf(v0)) {
      const pulled = readFileSync(join(out, "blobs", "sha256", b.digest.slice(7)));
      expect(pulled.equals(readFileSync(join(layout, "blobs", "sha256", b.digest.slice(7))))).toBe(true);
    }

    // The rerun: every blob HEAD-skipped, no upload request at all.
    const mark = reg.access().length;
    const again = await strata(["push", `${layout}:v0`, `docker://${reg.host}/app:v0`, "--json"]);
    expect(again.code).toBe(0);
    const rep2 = JSON.parse(again.stdout);
    expect(rep2.bytesUploaded).toBe(0);
    expect(rep2.bytesExisting).toBe(bytesOf(v0));
    const lines = reg.access().slice(mark);
    expect(lines.filter((l) => l.path.includes("/blobs/uploads/"))).toEqual([]);
    expect(lines.filter((l) => l.method === "HEAD").length).toBe(blobsOf(v0).length);
  });

  it("uploads in chunks (PATCH with Content-Range, then PUT ?digest=) above --chunk-size", async () => {
    const mark = reg.access().length;
    const r = await strata(["push", `${layout}:v0`, `docker://${reg.host}/chunked:v0`, "--chunk-size", "64K", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const big = report.destinations[0].blobs.find((b: { digest: string }) => b.digest === v0.layers[0].digest);
    expect(big.chunks).toBe(Math.ceil(v0.layers[0].size / 65536));
    const patches = reg
      .access()
      .slice(mark)
      .filter((l) => l.method === "PATCH" && l.status === 202);
    const expectedPatches = blobsOf(v0).reduce((s, b) => s + (b.size > 65536 ? Math.ceil(b.size / 65536) : 0), 0);
    expect(patches.length).toBe(expectedPatches);
    const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${reg.host}/chunked:v0`, `oci:${tmp("chunked")}:v0`]);
    expect(copy.stderr).toBe("");
    expect(copy.code).toBe(0);
  });

  it("mounts blobs across repositories: from --mount-from and from earlier destinations of the same run", async () => {
    await strata(["push", `${layout}:v0`, `docker://${reg.host}/team/base:v0`]);
    const mark = reg.access().length;
    const r = await strata(["push", `${layout}:v0`, `docker://${reg.host}/team/app:v0`, "--mount-from", "team/base", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.bytesMounted).toBe(bytesOf(v0));
    expect(report.bytesUploaded).toBe(0);
    const mounts = reg
      .access()
      .slice(mark)
      .filter((l) => l.method === "POST" && l.path.includes("mount="));
    expect(mounts.map((l) => [l.status, l.path.includes("from=team%2Fbase")])).toEqual(blobsOf(v0).map(() => [201, true]));

    // One run, two destinations: uploaded once, then mounted into the second repository.
    const two = await strata(["push", `${layout}:v1`, `docker://${reg.host}/fleet/a:v1`, `docker://${reg.host}/fleet/b:v1`, "--tag", "latest", "--json"]);
    expect(two.code).toBe(0);
    const rep2 = JSON.parse(two.stdout);
    expect(rep2.destinations.map((d: { bytesUploaded: number; bytesMounted: number }) => [d.bytesUploaded, d.bytesMounted])).toEqual([
      [bytesOf(v1), 0],
      [0, bytesOf(v1)],
    ]);
    expect(rep2.destinations[1].tags).toEqual(["v1", "latest"]);
    const tags = await skopeo(["list-tags", "--tls-verify=false", `docker://${reg.host}/fleet/b`]);
    expect(JSON.parse(tags.stdout).Tags.sort()).toEqual(["latest", "v1"]);
  });

  it("evaluate --against predicts, to the byte, what skopeo pulls into a directory holding the old version", async () => {
    // A client holds v0 (pulled from the registry), v1 is the candidate.
    expect((await strata(["push", `${layout}:v0`, `docker://${reg.host}/rel:v0`])).code).toBe(0);
    const client = tmp("client");
    expect((await skopeo(["copy", "--src-tls-verify=false", `docker://${reg.host}/rel:v0`, `oci:${client}:v0`])).code).toBe(0);

    const ev = await strata(["evaluate", "--against", `docker://${reg.host}/rel:v0`, `${layout}:v1`, "--json"]);
    expect(ev.stderr).toBe("");
    expect(ev.code).toBe(0);
    const cost = JSON.parse(ev.stdout);
    // Only the manifest was read: no blob GET.
    expect(reg.access().filter((l) => l.method === "GET" && l.path.startsWith("/v2/rel/blobs/")).length).toBe(blobsOf(v0).length);
    expect(cost.newLayers).toBe(2);
    expect(cost.keptLayers).toBe(3);
    expect(cost.pullBytes).toBe(v1.config.size + v1.layers[1].size + v1.layers[4].size);
    expect(cost.imageBytes).toBe(bytesOf(v1));

    // Release v1 and let skopeo pull it into the directory that holds v0.
    expect((await strata(["push", `${layout}:v1`, `docker://${reg.host}/rel:v1`])).code).toBe(0);
    const mark = reg.access().length;
    const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${reg.host}/rel:v1`, `oci:${client}:v1`]);
    expect(copy.code).toBe(0);
    expect(pulledBlobBytes(reg.access().slice(mark))).toBe(cost.pullBytes);

    // The CI gate: exit 3 above --max-pull, 0 at or below it.
    const over = await strata(["evaluate", "--against", `docker://${reg.host}/rel:v0`, `${layout}:v1`, "--max-pull", String(cost.pullBytes - 1)]);
    expect(over.code).toBe(3);
    expect(over.stderr).toContain("above --max-pull");
    expect(over.stdout).toContain("EXCEEDED");
    const within = await strata(["evaluate", "--against", `docker://${reg.host}/rel:v0`, `${layout}:v1`, "--max-pull", String(cost.pullBytes)]);
    expect(within.code).toBe(0);
    expect(within.stdout).toMatch(new RegExp(`pull: ${cost.pullBytes} bytes`));
  });

  it("evaluate --against reads docker v2s2 manifests and picks the platform from an index", async () => {
    // skopeo rewrites v0 as a docker v2 schema 2 manifest (same layer blobs).
    const conv = await skopeo([
      "copy",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      "--format",
      "v2s2",
      `docker://${reg.host}/app:v0`,
      `docker://${reg.host}/v2s2:v0`,
    ]);
    expect(conv.code).toBe(0);
    const raw = JSON.parse((await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/v2s2:v0`])).stdout);
    expect(raw.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const ev = await strata(["evaluate", "--against", `docker://${reg.host}/v2s2:v0`, `${layout}:v1`, "--json"]);
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.stdout).pullBytes).toBe(v1.config.size + v1.layers[1].size + v1.layers[4].size);

    // An OCI index: linux/arm64 -> the v1 manifest, linux/amd64 -> v0 (the image's own platform is amd64).
    expect((await strata(["push", `${layout}:v1`, `docker://${reg.host}/multi:v1`])).code).toBe(0);
    expect((await strata(["push", `${layout}:v0`, `docker://${reg.host}/multi:v0`])).code).toBe(0);
    const entry = (x: typeof v0, architecture: string) => ({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: x.manifestDigest,
      size: readFileSync(join(layout, "blobs", "sha256", x.manifestDigest.slice(7))).length,
      platform: { os: "linux", architecture },
    });
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [entry(v1, "arm64"), entry(v0, "amd64")],
    });
    const put = await fetch(`http://${reg.host}/v2/multi/manifests/idx`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    expect(put.status).toBe(201);
    const viaIndex = JSON.parse((await strata(["evaluate", "--against", `docker://${reg.host}/multi:idx`, `${layout}:v1`, "--json"])).stdout);
    expect(viaIndex.againstDigest).toBe(v0.manifestDigest);
    expect(viaIndex.pullBytes).toBe(v1.config.size + v1.layers[1].size + v1.layers[4].size);
    const arm = JSON.parse(
      (await strata(["evaluate", "--against", `docker://${reg.host}/multi:idx`, `${layout}:v1`, "--platform", "linux/arm64", "--json"])).stdout,
    );
    expect(arm.pullBytes).toBe(0);
    const none = await strata(["evaluate", "--against", `docker://${reg.host}/multi:idx`, `${layout}:v1`, "--platform", "linux/s390x"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("index without linux/s390x (it has linux/arm64, linux/amd64)");
    const missing = await strata(["evaluate", "--against", `docker://${reg.host}/multi:nope`, `${layout}:v1`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such manifest");
  });
});

describe("strata build --push", () => {
  it("builds an OCI layout of the real store (min-pull on compressed weights) and pushes it; skopeo sees the same manifest", async () => {
    ensureCompatStore();
    const dir = tmp("build-push");
    const out = join(dir, "oci");
    const closure = join(compatBuildDir, "store-closure.json");
    const r = await strata([
      "build",
      closure,
      "--format",
      "oci",
      "-o",
      out,
      "--tag",
      "built:v1",
      "--strategy",
      "min-pull",
      "--budget",
      "3",
      "--weights",
      "compressed",
      "--cache",
      join(dir, "cache"),
      "--push",
      `docker://${reg.host}/built:v1`,
      "--push",
      `docker://${reg.host}/built-copy:v1`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`docker://${reg.host}/built:v1: manifest sha256:`);
    expect(r.stderr).toMatch(/mounted +\d+ blob/);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
    const digest = index.manifests[0].digest;
    for (const repo of ["built", "built-copy"]) {
      const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/${repo}:v1`]);
      expect(sha(Buffer.from(raw.stdout))).toBe(digest);
    }
    const layers = JSON.parse((await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/built:v1`])).stdout).layers;
    expect(layers.length).toBe(3);
  });
});

describe("auth", () => {
  it("Basic auth (htpasswd) with credentials from docker's config.json or containers' auth.json", async () => {
    requireTool("/usr/bin/htpasswd", "apache2-utils");
    const dir = tmp("htpasswd");
    const h = spawnSync("htpasswd", ["-Bbn", "builder", "s3cret pass"], { encoding: "utf8" });
    expect(h.status).toBe(0);
    writeFileSync(join(dir, "htpasswd"), h.stdout);
    const secured = await startRegistry({ htpasswd: join(dir, "htpasswd") });
    try {
      const anon = await strata(["push", `${layout}:v0`, `docker://${secured.host}/app:v0`]);
      expect(anon.code).toBe(2);
      expect(anon.stderr).toContain(`${secured.host} requires credentials for app: none found in`);
      expect(anon.stderr).not.toContain("    at "); // no stack

      const auth = (user: string, pass: string) => ({ auths: { [secured.host]: { auth: Buffer.from(`${user}:${pass}`).toString("base64") } } });
      const dockerDir = join(dir, "docker");
      mkdirSync(dockerDir);
      writeFileSync(join(dockerDir, "config.json"), JSON.stringify(auth("builder", "s3cret pass")));
      const viaDocker = await strata(["push", `${layout}:v0`, `docker://${secured.host}/app:v0`], { DOCKER_CONFIG: dockerDir });
      expect(viaDocker.stderr).toBe("");
      expect(viaDocker.code).toBe(0);

      writeFileSync(join(dir, "auth.json"), JSON.stringify(auth("builder", "s3cret pass")));
      const viaAuthJson = await strata(["push", `${layout}:v1`, `docker://${secured.host}/app:v1`], { REGISTRY_AUTH_FILE: join(dir, "auth.json") });
      expect(viaAuthJson.code).toBe(0);
      const inspect = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", "builder:s3cret pass", `docker://${secured.host}/app:v1`]);
      expect(sha(Buffer.from(inspect.stdout))).toBe(v1.manifestDigest);

      writeFileSync(join(dir, "wrong.json"), JSON.stringify(auth("builder", "nope")));
      const wrong = await strata(["push", `${layout}:v0`, `docker://${secured.host}/app:v0`, "--authfile", join(dir, "wrong.json")]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain(`denied`);
      expect(wrong.stderr).toContain(`builder (from ${join(dir, "wrong.json")})`);
    } finally {
      await secured.stop();
    }
  });

  it("credential helpers (credsStore, credHelpers) are asked first, with the host on stdin; the file's entries are the fallback", async () => {
    requireTool("/usr/bin/htpasswd", "apache2-utils");
    const dir = tmp("helpers");
    const h = spawnSync("htpasswd", ["-Bbn", "builder", "s3cret pass"], { encoding: "utf8" });
    expect(h.status).toBe(0);
    writeFileSync(join(dir, "htpasswd"), h.stdout);
    const secured = await startRegistry({ htpasswd: join(dir, "htpasswd") });
    try {
      const bin = join(dir, "bin");
      const log = join(dir, "asked.log");
      mkdirSync(bin);
      // Real helper programs speaking docker-credential-helpers' protocol: "get", the address on stdin, JSON out.
      credentialHelper(bin, "strata-test", log, { [secured.host]: { Username: "builder", Secret: "s3cret pass" } });
      credentialHelper(bin, "strata-empty", log, {});
      writeFileSync(join(bin, "docker-credential-strata-broken"), "#!/bin/sh\necho 'keyring is locked' >&2\nexit 1\n", { mode: 0o755 });
      const PATH = `${bin}:${process.env.PATH}`;
      const config = (doc: object) => {
        const d = mkdtempSync(join(dir, "docker-"));
        writeFileSync(join(d, "config.json"), JSON.stringify(doc));
        return d;
      };
      const push = (tag: string, dockerDir: string) =>
        strata(["push", `${layout}:${tag}`, `docker://${secured.host}/helped:${tag}`], { PATH, DOCKER_CONFIG: dockerDir });

      const store = await push("v0", config({ auths: { [secured.host]: {} }, credsStore: "strata-test" }));
      expect(store.stderr).toBe("");
      expect(store.code).toBe(0);
      expect(readFileSync(log, "utf8").split("\n")).toContain(secured.host);

      const named = await push("v1", config({ credsStore: "strata-empty", credHelpers: { [secured.host]: "strata-test" } }));
      expect(named.code).toBe(0);
      const inspect = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", "builder:s3cret pass", `docker://${secured.host}/helped:v1`]);
      expect(sha(Buffer.from(inspect.stdout))).toBe(v1.manifestDigest);

      // The helper has nothing for this host: the file's own entry is used.
      const entry = { auth: Buffer.from("builder:s3cret pass").toString("base64") };
      const fallback = await push("v0", config({ credsStore: "strata-empty", auths: { [secured.host]: entry } }));
      expect(fallback.code).toBe(0);

      const none = await push("v0", config({ credsStore: "strata-empty" }));
      expect(none.code).toBe(2);
      expect(none.stderr).toContain(`requires credentials for helped: the credential helper docker-credential-strata-empty has none for ${secured.host}`);

      const brokenDir = config({ credHelpers: { [secured.host]: "strata-broken" } });
      const broken = await push("v0", brokenDir);
      expect(broken.code).toBe(2);
      expect(broken.stderr).toContain(
        `the credential helper docker-credential-strata-broken (configured in ${join(brokenDir, "config.json")}) failed for ${secured.host} (exit 1): keyring is locked`,
      );
      const absent = await push("v0", config({ credsStore: "strata-absent" }));
      expect(absent.code).toBe(2);
      expect(absent.stderr).toContain("docker-credential-strata-absent");
      expect(absent.stderr).toContain("is not on PATH");
      expect(absent.stderr).not.toContain("    at ");
    } finally {
      await secured.stop();
    }
  });

  it("an identity token from a credential helper is exchanged by OAuth2's refresh-token grant", async () => {
    const proxy = await startProxy(reg, { bearer: { username: "ci", password: "unused", service: "strata-test", identityToken: "id-t0ken" } });
    try {
      const dir = tmp("idtoken");
      const bin = join(dir, "bin");
      mkdirSync(bin);
      credentialHelper(bin, "strata-oauth", join(dir, "asked.log"), { [proxy.host]: { Username: "<token>", Secret: "id-t0ken" } });
      credentialHelper(bin, "strata-stale", join(dir, "asked.log"), { [proxy.host]: { Username: "<token>", Secret: "revoked" } });
      const env = (helper: string) => {
        writeFileSync(join(dir, "config.json"), JSON.stringify({ credHelpers: { [proxy.host]: helper } }));
        return { PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: dir };
      };
      const r = await strata(["push", `${layout}:v1`, `docker://${proxy.host}/oauth/app:v1`, "--json"], env("strata-oauth"));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(proxy.tokenRequests.length).toBeGreaterThanOrEqual(1);
      expect(proxy.tokenRequests.every((t) => t.ok && t.grant === "refresh_token")).toBe(true);
      expect(proxy.tokenRequests[0].scopes).toContain("repository:oauth/app:pull,push");
      const pulled = await strata(["evaluate", "--against", `docker://${proxy.host}/oauth/app:v1`, `${layout}:v1`, "--json"], env("strata-oauth"));
      expect(JSON.parse(pulled.stdout).pullBytes).toBe(0);

      const stale = await strata(["push", `${layout}:v1`, `docker://${proxy.host}/oauth/app:v1`], env("strata-stale"));
      expect(stale.code).toBe(2);
      expect(stale.stderr).toContain(`token server http://${proxy.host} refused the identity token (from the credential helper docker-credential-strata-stale`);
    } finally {
      await proxy.close();
    }
  });

  it("the Bearer token flow: challenge, token from the realm with Basic credentials, scoped to the repository", async () => {
    // A proxy of the test's own requires Bearer tokens in front of the registry and issues them at /token
    // (distribution's own token auth needs a signing certificate and a full token server).
    const proxy = await startProxy(reg, { bearer: { username: "ci", password: "t0ken-pass", service: "strata-test" } });
    try {
      const dir = tmp("bearer");
      mkdirSync(join(dir, "containers"));
      const entry = (pass: string) => JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`ci:${pass}`).toString("base64") } } });
      writeFileSync(join(dir, "containers", "auth.json"), entry("t0ken-pass"));
      const r = await strata(["push", `${layout}:v1`, `docker://${proxy.host}/bearer/app:v1`, "--json"], { XDG_RUNTIME_DIR: dir });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).bytesUploaded).toBe(bytesOf(v1));
      expect(proxy.tokenRequests.length).toBeGreaterThanOrEqual(1);
      expect(proxy.tokenRequests.every((t) => t.ok && t.service === "strata-test")).toBe(true);
      expect(proxy.tokenRequests[0].scopes).toContain("repository:bearer/app:pull,push");
      // Every registry request after the token carried it: nothing but the ping was challenged.
      expect(proxy.seen.filter((s) => s.outcome === "401").map((s) => s.url)).toEqual(["/v2/"]);
      const ev = await strata(["evaluate", "--against", `docker://${proxy.host}/bearer/app:v1`, `${layout}:v1`, "--json"], { XDG_RUNTIME_DIR: dir });
      expect(JSON.parse(ev.stdout).pullBytes).toBe(0);

      writeFileSync(join(dir, "containers", "auth.json"), entry("wrong"));
      const bad = await strata(["push", `${layout}:v1`, `docker://${proxy.host}/bearer/app:v1`], { XDG_RUNTIME_DIR: dir });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`token server http://${proxy.host} refused the credentials for ci`);
    } finally {
      await proxy.close();
    }
  });
});

describe("faults", () => {
  it("a 500 on a blob upload and a connection cut mid-upload are retried; skopeo pulls the result", async () => {
    let failed500 = 0;
    let cut = 0;
    const proxy = await startProxy(reg, {
      fault: (req) => {
        if (req.method === "PUT" && req.url?.includes("/blobs/uploads/") && failed500 === 0) return (failed500++, "500");
        if (req.method === "PATCH" && cut === 0) return (cut++, "cut");
        return undefined;
      },
    });
    try {
      const r = await strata(["push", `${layout}:v0`, `docker://${proxy.host}/faulty:v0`, "--chunk-size", "200K", "--json"]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(failed500).toBe(1);
      expect(cut).toBe(1);
      expect(report.retries).toBeGreaterThanOrEqual(2);
      expect(r.stderr).toMatch(/HTTP 500|retry/);
      expect(report.bytesUploaded).toBe(bytesOf(v0));
      expect(report.bytesSent).toBeGreaterThan(report.bytesUploaded);
      const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${reg.host}/faulty:v0`, `oci:${tmp("faulty")}:v0`]);
      expect(copy.stderr).toBe("");
      expect(copy.code).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("a chunked upload that fails at a chunk boundary resumes in its session: only the failed chunk is sent again", async () => {
    let failed: string | undefined;
    const proxy = await startProxy(reg, {
      fault: (req) => {
        const range = req.headers["content-range"];
        if (failed === undefined && req.method === "PATCH" && typeof range === "string" && range.startsWith("131072-")) return ((failed = range), "500");
        return undefined;
      },
    });
    try {
      const r = await strata(["push", `${layout}:v0`, `docker://${proxy.host}/resumed:v0`, "--chunk-size", "64K", "--json"]);
      expect(r.code).toBe(0);
      expect(failed).toBeDefined();
      const [start, end] = failed!.split("-").map(Number);
      const report = JSON.parse(r.stdout);
      expect(report.bytesUploaded).toBe(bytesOf(v0));
      // The two chunks before the failure stayed on the registry; the failed one went twice (bytesSent also counts the manifest).
      const manifestBytes = readFileSync(join(layout, "blobs", "sha256", v0.manifestDigest.slice(7))).length;
      expect(report.bytesSent - report.bytesUploaded - manifestBytes).toBe(end - start + 1);
      // The client asked the session where it stood (GET on the upload: 204 with its Range).
      expect(proxy.seen.some((s) => s.method === "GET" && s.url.includes("/blobs/uploads/") && s.outcome === "204")).toBe(true);
      const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${reg.host}/resumed:v0`, `oci:${tmp("resumed")}:v0`]);
      expect(copy.stderr).toBe("");
      expect(copy.code).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it("the registry killed mid-push: no manifest without its blobs; the rerun completes and uploads nothing twice", async () => {
    const victim = await startRegistry();
    let killed = false;
    const proxy = await startProxy(victim, {
      fault: async (req) => {
        // Kill the registry at the upload of the biggest layer, once some other blob has completed.
        if (!killed && req.method === "PUT" && req.url?.includes(encodeURIComponent(v1.layers[0].digest))) {
          for (let i = 0; i < 100 && completedUploads(victim.access()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
          killed = true;
          victim.kill();
        }
        return undefined;
      },
    });
    try {
      const first = await strata(["push", `${layout}:v1`, `docker://${proxy.host}/killed:v1`, "--retries", "1"]);
      expect(killed).toBe(true);
      expect(first.code).toBe(2);
      expect(first.stderr).not.toContain("internal error");
      const firstUploads = completedUploads(victim.access());
      expect(firstUploads.length).toBeGreaterThanOrEqual(1);
      expect(firstUploads).not.toContain(v1.layers[0].digest);
      expect(victim.access().filter((l) => l.method === "PUT" && l.path.includes("/manifests/"))).toEqual([]);

      await victim.start();
      const gone = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${victim.host}/killed:v1`]);
      expect(gone.code).not.toBe(0);
      const second = await strata(["push", `${layout}:v1`, `docker://${proxy.host}/killed:v1`, "--json"]);
      expect(second.code, second.stderr).toBe(0);
      const report = JSON.parse(second.stdout);
      const existing = report.destinations[0].blobs.filter((b: { action: string }) => b.action === "existing").map((b: { digest: string }) => b.digest);
      const uploaded = report.destinations[0].blobs.filter((b: { action: string }) => b.action === "uploaded").map((b: { digest: string }) => b.digest);
      // What the first run completed is skipped (a blob the registry stored just before
      // the kill, without logging it, is skipped too); the rest is uploaded once.
      for (const d of firstUploads) expect(existing).toContain(d);
      expect([...existing, ...uploaded].sort()).toEqual(
        blobsOf(v1)
          .map((b) => b.digest)
          .sort(),
      );
      expect(uploaded).toContain(v1.layers[0].digest);
      const all = completedUploads(victim.access());
      expect(new Set(all).size).toBe(all.length); // no blob completed twice
      for (const d of uploaded) expect(firstUploads).not.toContain(d);
      const copy = await skopeo(["copy", "--src-tls-verify=false", `docker://${victim.host}/killed:v1`, `oci:${tmp("killed")}:v1`]);
      expect(copy.code).toBe(0);
    } finally {
      await proxy.close();
      await victim.stop();
    }
  });
});

describe("bad usage: one clear message, exit 2, nothing sent", () => {
  it("names the layout, the tag or the reference at fault", async () => {
    const empty = tmp("not-a-layout");
    const cases: [string[], string][] = [
      [["push", empty, `docker://${reg.host}/x:v0`], `${empty} is not an OCI image layout (no oci-layout and index.json)`],
      [["push", layout, `docker://${reg.host}/x:v0`], `${layout} holds 2 images; name one as ${layout}:TAG (tags: v0, v1)`],
      [["push", `${layout}:v9`, `docker://${reg.host}/x:v0`], `${layout} has no image tagged "v9" (tags: v0, v1)`],
      [["push", `${layout}:v0`, `docker://${reg.host}/Bad:v0`], `"Bad" is not a valid repository name`],
      [["push", `${layout}:v0`, `oci:${empty}:v0`], "only docker:// references name a registry"],
      [["push", `${layout}:v0`], "expected LAYOUT[:TAG] and at least one docker://HOST/REPO:TAG"],
      [["push", `${layout}:v0`, `docker://${reg.host}/x:v0`, "--chunk-size", "lots"], '--chunk-size expects a size such as 500M, 2GiB or 1048576, got "lots"'],
      [["evaluate", "--against", `docker://${reg.host}/x:v0`], "expected one IMAGE (an OCI layout DIR or DIR:TAG), got 0"],
      [
        ["build", "closure.json", "--push", `docker://${reg.host}/x:v0`, "-o", join(empty, "image.tar")],
        "build: --push pushes an OCI layout: use --format oci -o DIR (got --format docker-archive)",
      ],
      [["build", "closure.json", "--mount-from", "team/base", "-o", join(empty, "image.tar")], "build: --mount-from goes with --push"],
      [["evaluate", "--against", `docker://${reg.host}/x:v0`, `${layout}:v1`, "--max-pull", "big"], "--max-pull expects a size"],
      [["evaluate", "--against", `docker://${reg.host}/x:v0`, `${layout}:v1`, "--platform", "linux"], "--platform expects OS/ARCH[/VARIANT]"],
    ];
    const mark = reg.access().length;
    for (const [args, message] of cases) {
      const r = await strata(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(message);
      expect(r.stderr).not.toContain("    at ");
    }
    expect(
      reg
        .access()
        .slice(mark)
        .filter((l) => l.method !== "GET" || l.path !== "/v2/"),
    ).toEqual([]);
  });

  it("a layout whose blob is missing fails before anything is uploaded", async () => {
    const broken = tmp("broken");
    const img = writeLayout(broken, "v0", [base, app]);
    rmSync(join(broken, "blobs", "sha256", img.layers[1].digest.slice(7)));
    const mark = reg.access().length;
    const r = await strata(["push", `${broken}:v0`, `docker://${reg.host}/broken:v0`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${broken}: blob ${img.layers[1].digest} (application/vnd.oci.image.layer.v1.tar+gzip) is missing from the layout`);
    expect(reg.access().slice(mark)).toEqual([]);
  });

  it("plain HTTP only for loopback names or with --insecure", async () => {
    // "127.1" reaches 127.0.0.1 but is not a loopback name to strata: HTTPS is required.
    const other = `127.1:${reg.port}`;
    const refused = await strata(["push", `${layout}:v0`, `docker://${other}/plain:v0`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${other} does not answer over HTTPS`);
    expect(refused.stderr).toContain("plain HTTP only for loopback hosts (localhost, 127.0.0.0/8, ::1) or with --insecure");
    const insecure = await strata(["push", `${layout}:v0`, `docker://${other}/plain:v0`, "--insecure", "--json"]);
    expect(insecure.code).toBe(0);
    expect(JSON.parse(insecure.stdout).manifestDigest).toBe(v0.manifestDigest);
    const evalRefused = await strata(["evaluate", "--against", `docker://${other}/plain:v0`, `${layout}:v1`]);
    expect(evalRefused.code).toBe(2);
    expect((await strata(["evaluate", "--against", `docker://${other}/plain:v0`, `${layout}:v1`, "--insecure"])).code).toBe(0);
  });

  it("an unreachable registry is an error after the retries, not a hang or a stack", async () => {
    const port = await freePort();
    const r = await strata(["push", `${layout}:v0`, `docker://127.0.0.1:${port}/x:v0`, "--retries", "2"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reach the registry 127.0.0.1:${port}`);
    expect(r.stderr).toContain("(after 3 attempts)");
    expect(r.stderr.match(/retry \d\/2/g)?.length).toBe(2);
  });
});

describe("references, auth files, challenges", () => {
  it("parses docker:// references like docker does", () => {
    expect(parseImageReference("docker://127.0.0.1:5000/team/app:v2")).toEqual({
      host: "127.0.0.1:5000",
      endpoint: "127.0.0.1:5000",
      repository: "team/app",
      tag: "v2",
    });
    expect(parseImageReference("alpine:3")).toMatchObject({ host: "docker.io", endpoint: "registry-1.docker.io", repository: "library/alpine", tag: "3" });
    expect(parseImageReference("localhost/app")).toMatchObject({ host: "localhost", repository: "app" });
    expect(() => parseImageReference("docker://h.io/App:v1")).toThrow(/not a valid repository name/);
    expect(() => parseImageReference("oci:dir:v1")).toThrow(/only docker:\/\//);
    expect(isLoopback("127.0.0.1:5000")).toBe(true);
    expect(isLoopback("[::1]:5000")).toBe(true);
    expect(isLoopback("localhost")).toBe(true);
    expect(isLoopback("registry.example.com:5000")).toBe(false);
    expect(isLoopback("127.0.0.1.example.com")).toBe(false);
  });

  it("finds credentials in the documented order, most specific key first", () => {
    const dir = tmp("authfiles");
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    mkdirSync(join(dir, "run", "containers"), { recursive: true });
    mkdirSync(join(dir, "docker"));
    writeFileSync(
      join(dir, "run", "containers", "auth.json"),
      JSON.stringify({ auths: { "r.example:5000": { auth: b64("xdg:1") }, "r.example:5000/team/app": { auth: b64("repo:2") } } }),
    );
    writeFileSync(
      join(dir, "docker", "config.json"),
      JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: b64("hub:3") } }, credHelpers: { "gcr.io": "gcloud" } }),
    );
    const env = { HOME: dir, XDG_RUNTIME_DIR: join(dir, "run"), DOCKER_CONFIG: join(dir, "docker") };
    expect(lookupCredentials("r.example:5000", "team/app", env).credentials?.username).toBe("repo");
    expect(lookupCredentials("r.example:5000", "team/other", env).credentials?.username).toBe("xdg");
    expect(lookupCredentials("docker.io", "library/alpine", env).credentials).toMatchObject({ username: "hub", password: "3" });
    // gcr.io's helper is asked first; there is none on this PATH, which is an error naming it and its file.
    expect(() => lookupCredentials("gcr.io", "p/app", { ...env, PATH: dir })).toThrow(
      `the credential helper docker-credential-gcloud (configured in ${join(dir, "docker", "config.json")}) is not on PATH`,
    );
    expect(lookupCredentials("r.example:5000", "team/app", { ...env, REGISTRY_AUTH_FILE: join(dir, "docker", "config.json") }).credentials?.username).toBe(
      "repo",
    );
    expect(() => lookupCredentials("x", "y", env, join(dir, "missing.json"))).toThrow(/--authfile .*missing\.json: no such file/);
  });

  it("a credential helper that exits without reading its input is judged by its exit status and message", () => {
    const dir = tmp("helper-epipe");
    writeFileSync(join(dir, "docker-credential-strata-quick"), "#!/bin/sh\necho 'no keyring here' >&2\nexit 1\n", { mode: 0o755 });
    // A long address makes the write to its stdin fail (EPIPE) every time.
    const address = `r.example/${"x".repeat(1 << 20)}`;
    expect(() => runCredentialHelper("strata-quick", "config.json", address, { PATH: dir })).toThrow(/failed for r\.example\/x+ \(exit 1\): no keyring here/);
  });

  it("parses WWW-Authenticate challenges", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" },
    });
    expect(parseChallenge('Basic realm="strata-test"')).toEqual({ scheme: "basic", params: { realm: "strata-test" } });
    expect(parseChallenge('Bearer realm="https://x/t", error="invalid_token"')?.params.error).toBe("invalid_token");
  });
});

/** Writes docker-credential-NAME into bin: logs each address asked, answers from `answers`, else "not found". */
function credentialHelper(bin: string, name: string, log: string, answers: Record<string, { Username: string; Secret: string }>): void {
  const cases = Object.entries(answers)
    .map(([addr, a]) => `  '${addr}') printf '%s' '${JSON.stringify({ ServerURL: addr, ...a })}' ;;`)
    .join("\n");
  const script = `#!/bin/sh
[ "$1" = get ] || { echo "unsupported: $1" >&2; exit 1; }
read -r address
echo "$address" >> '${log}'
case "$address" in
${cases}
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  writeFileSync(join(bin, `docker-credential-${name}`), script, { mode: 0o755 });
}
