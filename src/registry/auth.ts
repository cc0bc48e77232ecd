// Registry credentials as users already have them, and the challenge parser.
// Files, first match wins (containers/image's order, then docker's):
//   --authfile FILE, $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json,
//   ~/.config/containers/auth.json, $DOCKER_CONFIG/config.json or ~/.docker/config.json.
// Entries are keyed by host[:port] (also "https://host/v1/" and "host/repo" for
// a repository-scoped login); the value's "auth" is base64("user:password").
// A credential helper named for the host (credHelpers) or for every host
// (credsStore) is asked first, as docker does: `docker-credential-NAME get`
// with the server address on stdin, JSON {Username, Secret} on stdout; when it
// has nothing for the host, the file's own entries are read. A Username of
// "<token>" makes Secret an identity token (an OAuth2 refresh token), which is
// exchanged at the Bearer token server.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../errors.js";

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** Where they came from (a file, a credential helper; for messages). */
  readonly source: string;
  /** An identity token from a credential helper: exchanged for a Bearer token by OAuth2 (password is empty). */
  readonly identityToken?: string;
}

export interface AuthLookup {
  /** Credentials for a registry host (and repository, for repository-scoped entries). */
  readonly credentials?: Credentials;
  /** Files read, in order (for messages). */
  readonly files: readonly string[];
  /** The credential helper consulted for this host (it had nothing, when credentials is undefined). */
  readonly helper?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The auth files to consult, in order. */
export function authFiles(env: Env, authfile?: string): string[] {
  if (authfile !== undefined) return [authfile];
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  const home = env.HOME || homedir();
  files.push(join(env.XDG_CONFIG_HOME || join(home, ".config"), "containers", "auth.json"));
  files.push(join(env.DOCKER_CONFIG || join(home, ".docker"), "config.json"));
  return files;
}

function normaliseKey(key: string): string {
  let k = key.replace(/^https?:\/\//, "");
  if (k.endsWith("/v1/") || k.endsWith("/v2/")) k = k.slice(0, -4);
  else if (k.endsWith("/v1") || k.endsWith("/v2")) k = k.slice(0, -3);
  k = k.replace(/\/+$/, "");
  if (k === "index.docker.io" || k === "registry-1.docker.io") k = "docker.io";
  return k;
}

/**
 * Looks up credentials for HOST/REPOSITORY. The most specific key wins
 * ("host/team/app" over "host/team" over "host"), as containers' auth.json allows.
 * A missing file is skipped; a file that exists but is not valid is an error
 * (an explicit --authfile must exist).
 */
export function lookupCredentials(host: string, repository: string, env: Env, authfile?: string): AuthLookup {
  const files = authFiles(env, authfile);
  const wanted = normaliseKey(host === "registry-1.docker.io" ? "docker.io" : host);
  let consulted: string | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      if (authfile !== undefined)
        throw new UsageError(`--authfile ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`registry auth file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    const helper = helperFor(doc, wanted);
    if (helper !== undefined) {
      const creds = runCredentialHelper(helper, file, serverAddress(wanted), env);
      if (creds !== undefined) return { credentials: creds, files, helper };
      consulted ??= helper;
    }
    const auths = (doc as { auths?: unknown })?.auths;
    const entries = typeof auths === "object" && auths !== null ? (auths as Record<string, unknown>) : {};
    const byKey = new Map<string, unknown>();
    for (const [k, v] of Object.entries(entries)) byKey.set(normaliseKey(k), v);
    const parts = repository.split("/");
    for (let n = parts.length; n >= 0; n--) {
      const key = n === 0 ? wanted : `${wanted}/${parts.slice(0, n).join("/")}`;
      const entry = byKey.get(key);
      if (entry === undefined) continue;
      const creds = decodeEntry(entry, file, key);
      if (creds) return { credentials: creds, files, helper: consulted };
    }
  }
  return { files, helper: consulted };
}

/** The helper for this host: credHelpers' entry for it, else credsStore. */
function helperFor(doc: unknown, wanted: string): string | undefined {
  const helpers = (doc as { credHelpers?: unknown })?.credHelpers;
  if (typeof helpers === "object" && helpers !== null) {
    const named = Object.entries(helpers as Record<string, unknown>).find(([k]) => normaliseKey(k) === wanted)?.[1];
    if (typeof named === "string" && named !== "") return named;
  }
  const store = (doc as { credsStore?: unknown })?.credsStore;
  return typeof store === "string" && store !== "" ? store : undefined;
}

/** The server address a helper is asked about: docker's legacy URL for Docker Hub, else host[:port]. */
function serverAddress(wanted: string): string {
  return wanted === "docker.io" ? "https://index.docker.io/v1/" : wanted;
}

/** What helpers print when they hold nothing for the address (docker-credential-helpers' wording). */
const NOT_FOUND = /credentials not found|not found in native keychain/i;

/**
 * Runs `docker-credential-NAME get`. Undefined when the helper has nothing
 * for the address; a helper that is missing, fails otherwise or answers
 * something else is an error naming it and the file that configured it.
 */
export function runCredentialHelper(name: string, file: string, address: string, env: Env): Credentials | undefined {
  const program = `docker-credential-${name}`;
  const where = `the credential helper ${program} (configured in ${file})`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`${file}: "${name}" is not a credential helper name`);
  const r = spawnSync(program, ["get"], { input: address, encoding: "utf8", env: { ...env }, timeout: 60_000, maxBuffer: 1 << 20 });
  // EPIPE: the helper exited without reading the address (a helper that fails at once); its exit status says the rest.
  if (r.error !== undefined && !((r.error as NodeJS.ErrnoException).code === "EPIPE" && r.status !== null)) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UsageError(`${where} is not on PATH`);
    throw new UsageError(`${where} did not run: ${code === "ETIMEDOUT" ? "no answer in 60 s" : r.error.message}`);
  }
  const said = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.status !== 0) {
    if (NOT_FOUND.test(said)) return undefined;
    throw new UsageError(`${where} failed for ${address} (exit ${r.status ?? r.signal}): ${said || "no message"}`);
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch {
    throw new UsageError(`${where} answered for ${address} with something that is not JSON`);
  }
  if (typeof doc?.Secret !== "string" || (doc.Username !== undefined && typeof doc.Username !== "string"))
    throw new UsageError(`${where} answered for ${address} without a string "Secret" (and "Username")`);
  const username = (doc.Username as string | undefined) ?? "";
  if (doc.Secret === "" && username === "") return undefined;
  if (username === "<token>") return { username, password: "", identityToken: doc.Secret, source: where };
  return { username, password: doc.Secret, source: where };
}

function decodeEntry(entry: unknown, file: string, key: string): Credentials | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const e = entry as { auth?: unknown; username?: unknown; password?: unknown };
  if (typeof e.auth === "string" && e.auth !== "") {
    const text = Buffer.from(e.auth, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon < 0) throw new UsageError(`registry auth file ${file}: the "auth" of "${key}" is not base64 of user:password`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1), source: file };
  }
  if (typeof e.username === "string" && typeof e.password === "string") return { username: e.username, password: e.password, source: file };
  return undefined;
}

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2])) !== null && p[0] !== "") params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
  return { scheme: m[1].toLowerCase(), params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64")}`;
}
