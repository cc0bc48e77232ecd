// Real registry for tests: Debian's docker-registry (distribution 2.8) on
// 127.0.0.1 with a free port, a temporary storage directory and a config file
// of the test's own; its access log parsed. Plus a small HTTP proxy of the
// test's own in front of it, which can require Bearer tokens (issued by its own
// token endpoint) and inject faults (a 500, a cut connection, a hook).
// Also: OCI layouts written directly (blobs + manifest + index.json), since
// src/ has no image builder on this branch yet, and async child processes
// (the proxy lives in the test's event loop, so nothing may block it).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { builtCli } from "./cli.js";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export function requireTool(path: string, pkg: string): void {
  // FAIL, never skip: the tests exist to exercise the real tools.
  if (!existsSync(path)) throw new Error(`${path} is missing: install the Debian package ${pkg} (.ci/run does)`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForHttp(port: number, child?: ChildProcess, log?: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child && child.exitCode !== null)
      throw new Error(`docker-registry exited with ${child.exitCode}: ${log ? readFileSync(log, "utf8").slice(-2000) : ""}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/v2/", timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on("error", () => resolve(false));
      req.on("timeout", () => (req.destroy(), resolve(false)));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after 30 s`);
}

export interface AccessLine {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly agent: string;
}

export interface Registry {
  readonly port: number;
  readonly host: string;
  readonly dir: string;
  readonly logFile: string;
  /** Parsed Apache-style access lines, in order (every request, across restarts). */
  access(): AccessLine[];
  kill(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** htpasswd file: the registry requires Basic auth. */
  readonly htpasswd?: string;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  requireTool(REGISTRY_BIN, "docker-registry");
  const dir = mkdtempSync(join(tmpdir(), "strata-registry-"));
  const port = await freePort();
  const config = join(dir, "config.yml");
  const auth = options.htpasswd ? `auth: {htpasswd: {realm: strata-test, path: ${options.htpasswd}}}\n` : "";
  writeFileSync(
    config,
    `version: 0.1
log: {level: info, formatter: text, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: ${join(dir, "data")}}, delete: {enabled: true}, cache: {blobdescriptor: inmemory}}
http: {addr: 127.0.0.1:${port}, secret: strata-test-secret}
${auth}`,
  );
  const logFile = join(dir, "registry.log");
  let child: ChildProcess | undefined;
  // A killed registry may hold the port for a moment: start() waits for it to be gone, so the
  // readiness probe can only be answered by the new process.
  let dying: ChildProcess | undefined;
  const reg: Registry = {
    port,
    host: `127.0.0.1:${port}`,
    dir,
    logFile,
    access: () => parseAccess(readFileSync(logFile, "utf8")),
    kill() {
      child?.kill("SIGKILL");
      dying = child;
      child = undefined;
    },
    async start() {
      const old = dying;
      dying = undefined;
      if (old && old.exitCode === null && old.signalCode === null) await new Promise((r) => old.once("exit", r));
      const fd = openSync(logFile, "a");
      child = spawn(REGISTRY_BIN, ["serve", config], { stdio: ["ignore", fd, fd] });
      await waitForHttp(port, child, logFile);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once("exit", () => resolve());
        c.kill("SIGTERM");
        setTimeout(() => c.kill("SIGKILL"), 5000).unref();
      });
    },
  };
  await reg.start();
  return reg;
}

const ACCESS = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"/;

export function parseAccess(text: string): AccessLine[] {
  const out: AccessLine[] = [];
  for (const line of text.split("\n")) {
    if (line.includes("msg=")) continue; // the logrus twin of each line
    const m = ACCESS.exec(line);
    if (m) out.push({ method: m[1], path: m[2], status: Number(m[3]), bytes: m[4] === "-" ? 0 : Number(m[4]), agent: m[5] });
  }
  return out;
}

/** Bytes of blob GETs (what a client downloaded). */
export function pulledBlobBytes(lines: readonly AccessLine[]): number {
  return lines.filter((l) => l.method === "GET" && /\/blobs\/sha256:/.test(l.path) && l.status === 200).reduce((s, l) => s + l.bytes, 0);
}

/** Digests of completed uploads (PUT .../blobs/uploads/...?digest=..., 201). */
export function completedUploads(lines: readonly AccessLine[]): string[] {
  return lines
    .filter((l) => l.method === "PUT" && l.path.includes("/blobs/uploads/") && l.status === 201)
    .map((l) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(l.path)?.[1] ?? ""));
}

// ---------------------------------------------------------------- proxy

export type Fault = "500" | "cut" | undefined;

export interface ProxyOptions {
  /**
   * Require Bearer tokens, issued by the proxy's /token to these Basic credentials (GET), or for
   * identityToken by OAuth2's refresh-token grant (a form POST), as docker's token servers do.
   */
  readonly bearer?: { readonly username: string; readonly password: string; readonly service: string; readonly identityToken?: string };
  /** Called per proxied request (n counts from 1); may return a fault or do something (kill the registry). */
  readonly fault?: (req: http.IncomingMessage, n: number) => Fault | Promise<Fault>;
}

export interface Proxy {
  readonly port: number;
  readonly host: string;
  /** Requests seen: method + url, and the status answered or the fault. */
  readonly seen: { method: string; url: string; outcome: string }[];
  /** Token requests: the scopes asked and whether the credentials were right. */
  readonly tokenRequests: { scopes: string[]; ok: boolean; service: string | null; grant: "basic" | "refresh_token" }[];
  close(): Promise<void>;
}

export async function startProxy(target: Registry, options: ProxyOptions = {}): Promise<Proxy> {
  const port = await freePort();
  const seen: Proxy["seen"] = [];
  const tokenRequests: Proxy["tokenRequests"] = [];
  const tokens = new Set<string>();
  let n = 0;
  /** A fresh token when ok, else 401. Some token servers answer "access_token" only; this one does, to exercise that branch. */
  const answerToken = (res: http.ServerResponse, ok: boolean, refusal: string) => {
    if (!ok) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ details: refusal }));
      return;
    }
    const token = randomBytes(16).toString("hex");
    tokens.add(token);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
    if (options.bearer && url.pathname === "/token" && req.method === "POST") {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const ok =
        req.headers["content-type"] === "application/x-www-form-urlencoded" &&
        form.get("grant_type") === "refresh_token" &&
        options.bearer.identityToken !== undefined &&
        form.get("refresh_token") === options.bearer.identityToken &&
        form.get("service") === options.bearer.service &&
        (form.get("client_id") ?? "") !== "";
      tokenRequests.push({ scopes: (form.get("scope") ?? "").split(" ").filter(Boolean), ok, service: form.get("service"), grant: "refresh_token" });
      answerToken(res, ok, "bad refresh token");
      return;
    }
    if (options.bearer && url.pathname === "/token") {
      const auth = req.headers.authorization ?? "";
      const expected = `Basic ${Buffer.from(`${options.bearer.username}:${options.bearer.password}`).toString("base64")}`;
      const ok = auth === expected && url.searchParams.get("service") === options.bearer.service;
      tokenRequests.push({ scopes: url.searchParams.getAll("scope"), ok, service: url.searchParams.get("service"), grant: "basic" });
      answerToken(res, ok, "bad credentials");
      return;
    }
    if (options.bearer) {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
      if (!m || !tokens.has(m[1])) {
        const repo = /^\/v2\/(.+?)\/(?:blobs|manifests|tags)\//.exec(url.pathname)?.[1];
        const scope = repo ? `,scope="repository:${repo}:pull,push"` : "";
        seen.push({ method: req.method ?? "", url: req.url ?? "", outcome: "401" });
        req.resume();
        res
          .writeHead(401, {
            "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="${options.bearer.service}"${scope}`,
            "content-type": "application/json",
          })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    const count = ++n;
    const fault = options.fault ? await options.fault(req, count) : undefined;
    if (fault === "500") {
      seen.push({ method: req.method ?? "", url: req.url ?? "", outcome: "fault 500" });
      req.resume();
      req.on("end", () =>
        res.writeHead(500, { "content-type": "application/json" }).end('{"errors":[{"code":"UNKNOWN","message":"injected by the test proxy"}]}'),
      );
      return;
    }
    if (fault === "cut") {
      seen.push({ method: req.method ?? "", url: req.url ?? "", outcome: "fault cut" });
      req.socket.destroy();
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = http.request({ host: "127.0.0.1", port: target.port, method: req.method, path: req.url, headers }, (upRes) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", outcome: String(upRes.statusCode) });
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", outcome: "upstream error" });
      req.socket.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    port,
    host: `127.0.0.1:${port}`,
    seen,
    tokenRequests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------- layouts

export interface LayerSpec {
  /** File name -> content, written under nix/store/. */
  readonly files: Record<string, string | Buffer>;
}

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A reproducible tar of the files (GNU tar: sorted, fixed mtime and owner), gzip-compressed. */
export function layerBlob(spec: LayerSpec): { tar: Buffer; gz: Buffer } {
  const src = mkdtempSync(join(tmpdir(), "strata-layer-"));
  for (const [name, content] of Object.entries(spec.files)) {
    const p = join(src, "nix", "store", name);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, content);
  }
  const r = spawnSync(
    "tar",
    [
      "--sort=name",
      "--mtime=@1",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--format=posix",
      "--pax-option=delete=atime,delete=ctime",
      "-C",
      src,
      "-cf",
      "-",
      "nix",
    ],
    { maxBuffer: 1 << 30 },
  );
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  const tar = r.stdout as Buffer;
  return { tar, gz: gzipSync(tar, { level: 6 }) };
}

/**
 * Writes (or adds to) an OCI layout: one image tagged `tag` with these layers.
 * Returns the manifest digest and the layer digests/sizes.
 */
export function writeLayout(dir: string, tag: string, layers: readonly LayerSpec[], created = "1970-01-01T00:00:01Z") {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const put = (b: Buffer) => {
    const d = sha256(b);
    writeFileSync(join(dir, "blobs", "sha256", d.slice(7)), b);
    return d;
  };
  const built = layers.map(layerBlob);
  const layerDescs = built.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: put(l.gz), size: l.gz.length }));
  const config = Buffer.from(
    JSON.stringify({
      created,
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin"], Labels: { tag } },
      rootfs: { type: "layers", diff_ids: built.map((l) => sha256(l.tar)) },
    }),
  );
  const configDesc = { mediaType: "application/vnd.oci.image.config.v1+json", digest: put(config), size: config.length };
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: configDesc, layers: layerDescs }),
  );
  const manifestDigest = put(manifest);
  const indexPath = join(dir, "index.json");
  const index = existsSync(indexPath)
    ? (JSON.parse(readFileSync(indexPath, "utf8")) as { manifests: { annotations?: Record<string, string> }[] })
    : { schemaVersion: 2, manifests: [] };
  index.manifests = index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] !== tag);
  index.manifests.push({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: manifestDigest,
    size: manifest.length,
    annotations: { "org.opencontainers.image.ref.name": tag },
  } as never);
  writeFileSync(indexPath, JSON.stringify(index));
  return { manifestDigest, config: configDesc, layers: layerDescs };
}

/** Deterministic pseudo-random bytes (incompressible content, so compressed sizes matter). */
export function noise(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------- processes

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A child process, asynchronously (the test's proxy keeps serving meanwhile). */
export function runAsync(cmd: string, args: string[], env?: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: env === undefined ? process.env : { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The built CLI (dist/cli/main.js), as a user runs it. HOME points at an empty directory unless given. */
export function strata(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runAsync(process.execPath, [builtCli, ...args], {
    HOME: emptyHome(),
    DOCKER_CONFIG: "",
    REGISTRY_AUTH_FILE: "",
    XDG_RUNTIME_DIR: "",
    XDG_CONFIG_HOME: "",
    ...env,
  });
}

let home: string | undefined;
function emptyHome(): string {
  home ??= mkdtempSync(join(tmpdir(), "strata-home-"));
  return home;
}

export function skopeo(args: string[]): Promise<Run> {
  requireTool("/usr/bin/skopeo", "skopeo");
  // Its own blob-info cache per run would change nothing for pulls; pushes are strata's.
  return runAsync("skopeo", args);
}
