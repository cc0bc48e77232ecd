// A small client for the OCI distribution API (the registry side of
// `docker push`/`skopeo copy`), on Node's http/https. Written by hand because
// no maintained npm client pushes: docker-registry-client (2019, restify,
// schema 1 era), @snyk/docker-registry-v2-client (pull only) and
// oci-registry-client (0.2, pull only) do not upload, mount or chunk.
//
// What it does: a ping of /v2/ learns the auth scheme; Basic credentials or a
// Bearer token (from the WWW-Authenticate challenge's realm/service/scope) go on
// every request; a 401 later refreshes the token once. Idempotent requests
// (GET, HEAD, manifest PUT) retry on 5xx, 429 and dropped connections with
// exponential backoff; uploads retry as a whole (a new upload session), since a
// failed session cannot be trusted.
import { createReadStream } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { RegistryError } from "../errors.js";
import { basicHeader, lookupCredentials, parseChallenge, type Challenge, type Credentials } from "./auth.js";
import { isLoopback, type ImageReference } from "./reference.js";

export interface ClientOptions {
  /** Allow plain HTTP and unverified TLS for a non-loopback host. */
  readonly insecure?: boolean;
  /** Environment for the auth file lookup (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** An explicit auth file (docker config.json or containers auth.json). */
  readonly authfile?: string;
  /** Credentials given directly (tests, library use); override the files. */
  readonly credentials?: { username: string; password: string };
  /** Attempts after the first for a failed request or upload (default 4). */
  readonly retries?: number;
  /** First backoff delay in ms, doubled per attempt (default 200, capped at 5000). */
  readonly backoffMs?: number;
  /** Socket idle timeout in ms (default 60000). */
  readonly timeoutMs?: number;
  /** Called with one line per retry (for --verbose). */
  readonly onRetry?: (line: string) => void;
  readonly userAgent?: string;
}

export interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request body that can be sent again: bytes, or a byte range of a file. */
export type Body = Buffer | { readonly file: string; readonly start: number; readonly length: number };

interface RequestSpec {
  readonly method: string;
  /** A path below the registry root ("/v2/...") or an absolute URL (upload locations). */
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: Body;
  /** Whether a failure may be retried by sending the same request again. */
  readonly retry: boolean;
  /** Largest body to read (bytes). */
  readonly maxBody?: number;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNABORTED",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
]);

/** A network failure (no HTTP answer). */
export class NetworkFailure extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function isRetryable(e: unknown): boolean {
  if (e instanceof NetworkFailure) return true;
  if (e instanceof RegistryError) return e.code === "network" || (e.status !== undefined && RETRY_STATUS.has(e.status));
  return false;
}

/** The server does not speak TLS (a plain-HTTP registry asked over https). */
const isTlsMismatch = (e: unknown) =>
  e instanceof NetworkFailure && (e.code === "EPROTO" || /^ERR_SSL_/.test(e.code ?? "") || /wrong version number|packet length too long/i.test(e.message));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RegistryClient {
  readonly host: string;
  private base: URL | undefined;
  private pinged = false;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly httpsAgent: https.Agent;
  private authorization: string | undefined;
  private challenge: Challenge | undefined;
  private credentials: Credentials | undefined;
  private credentialsLooked = false;
  private helper: string | undefined;
  private authFilesRead: readonly string[] = [];
  /** Scopes the current token was issued for. */
  private scopes = new Set<string>();
  readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly ref: Pick<ImageReference, "host" | "endpoint" | "repository">,
    private readonly options: ClientOptions = {},
  ) {
    this.host = ref.endpoint;
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: !options.insecure });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private lookup(): Credentials | undefined {
    if (!this.credentialsLooked) {
      this.credentialsLooked = true;
      if (this.options.credentials) this.credentials = { ...this.options.credentials, source: "the given credentials" };
      else {
        const found = lookupCredentials(this.ref.host, this.ref.repository, this.options.env ?? process.env, this.options.authfile);
        this.credentials = found.credentials;
        this.helper = found.helper;
        this.authFilesRead = found.files;
      }
    }
    return this.credentials;
  }

  /**
   * Picks the scheme (https; plain http only for loopback hosts or with
   * --insecure, after https fails at the connection level) and learns the
   * registry's auth scheme from GET /v2/.
   */
  async ping(): Promise<void> {
    if (this.pinged) return;
    const plainAllowed = isLoopback(this.host) || this.options.insecure === true;
    const spec: RequestSpec = { method: "GET", url: "/v2/", retry: true, maxBody: 1 << 16 };
    let res: Response;
    try {
      this.base = new URL(`https://${this.host}/`);
      try {
        res = await this.sendRetrying(spec, plainAllowed ? 0 : this.retries);
      } catch (e) {
        if (!plainAllowed && isTlsMismatch(e)) {
          throw new RegistryError(
            "network",
            `${this.host} does not answer over HTTPS (${(e as Error).message.trim()}); strata uses plain HTTP only for loopback hosts (localhost, 127.0.0.0/8, ::1) or with --insecure`,
          );
        }
        if (!plainAllowed || !(e instanceof NetworkFailure)) throw e;
        this.base = new URL(`http://${this.host}/`);
        res = await this.sendRetrying(spec, this.retries);
      }
    } catch (e) {
      if (e instanceof NetworkFailure)
        throw new RegistryError("network", `cannot reach the registry ${this.host}: ${e.message} (after ${this.retries + 1} attempts)`);
      throw e;
    }
    if (res.status === 401) this.challenge = parseChallengeHeader(res);
    else if (res.status !== 200)
      throw new RegistryError("protocol", `${this.host} does not answer as an OCI registry: GET /v2/ returned ${res.status}`, res.status);
    this.pinged = true;
  }

  private async sendRetrying(spec: RequestSpec, retries: number): Promise<Response> {
    for (let attempt = 0; ;) {
      try {
        const res = await this.send(spec, false);
        if (RETRY_STATUS.has(res.status) && attempt < retries) {
          await this.backoff(++attempt, `${spec.method} ${shortUrl(spec.url)}: HTTP ${res.status}`);
          continue;
        }
        return res;
      } catch (e) {
        if (e instanceof NetworkFailure && attempt < retries && !isTlsMismatch(e)) {
          await this.backoff(++attempt, `${spec.method} ${this.base?.protocol}//${this.host}${shortUrl(spec.url)}: ${e.message}`);
          continue;
        }
        throw e;
      }
    }
  }

  /** Makes sure the next requests carry authorization for these scopes ("repository:team/app:pull,push"). */
  async authorize(scopes: readonly string[]): Promise<void> {
    await this.ping();
    const c = this.challenge;
    if (c === undefined) return;
    if (c.scheme === "basic") {
      const creds = this.lookup();
      if (!creds) throw this.noCredentials();
      if (creds.identityToken !== undefined)
        throw new RegistryError(
          "auth",
          `${this.host} asks for Basic authentication, but ${creds.source} gave an identity token, which only a Bearer token server takes`,
        );
      this.authorization = basicHeader(creds);
      return;
    }
    if (c.scheme !== "bearer")
      throw new RegistryError("auth", `${this.host} asks for "${c.scheme}" authentication, which strata does not speak (Basic and Bearer only)`);
    if (this.authorization !== undefined && scopes.every((s) => this.scopes.has(s))) return;
    for (const s of scopes) this.scopes.add(s);
    this.authorization = `Bearer ${await this.fetchToken(c, [...this.scopes])}`;
  }

  private noCredentials(): RegistryError {
    const files = this.authFilesRead;
    const why = this.helper
      ? `the credential helper docker-credential-${this.helper} has none for ${this.ref.host}, and none found in ${files.join(", ")}`
      : `none found in ${files.join(", ")}`;
    return new RegistryError("auth", `${this.host} requires credentials for ${this.ref.repository}: ${why}`, 401);
  }

  private async fetchToken(c: Challenge, scopes: readonly string[]): Promise<string> {
    const realm = c.params.realm;
    if (!realm) throw new RegistryError("auth", `${this.host}'s Bearer challenge has no realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError("auth", `${this.host}'s Bearer challenge has an invalid realm "${realm}"`);
    }
    if (url.protocol === "http:" && !isLoopback(url.host) && !this.options.insecure) {
      throw new RegistryError("auth", `token server ${realm} is plain HTTP; strata sends credentials over HTTP only to loopback hosts or with --insecure`);
    }
    if (c.params.service) url.searchParams.set("service", c.params.service);
    const all = new Set(scopes);
    if (c.params.scope) for (const s of c.params.scope.split(" ")) all.add(s);
    for (const s of all) url.searchParams.append("scope", s);
    const creds = this.lookup();
    let spec: RequestSpec;
    if (creds?.identityToken !== undefined) {
      // OAuth2's refresh-token grant (what docker does with an identity token): a form POST to the realm.
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "strata" });
      if (c.params.service) form.set("service", c.params.service);
      form.set("scope", [...all].join(" "));
      spec = {
        method: "POST",
        url: realm,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: Buffer.from(form.toString()),
        retry: true,
        maxBody: 1 << 20,
      };
    } else {
      const headers: Record<string, string> = {};
      if (creds) {
        headers.authorization = basicHeader(creds);
        url.searchParams.set("account", creds.username);
      }
      spec = { method: "GET", url: url.toString(), headers, retry: true, maxBody: 1 << 20 };
    }
    let res: Response;
    try {
      res = await this.sendRetrying(spec, this.retries);
    } catch (e) {
      if (e instanceof NetworkFailure) throw new RegistryError("network", `cannot reach the token server ${url.origin}: ${e.message}`);
      throw e;
    }
    if (res.status === 401 || res.status === 403) {
      if (!creds) throw this.noCredentials();
      throw new RegistryError(
        "auth",
        `token server ${url.origin} refused ${creds.identityToken !== undefined ? "the identity token" : `the credentials for ${creds.username}`} (from ${creds.source}): HTTP ${res.status}`,
        res.status,
      );
    }
    if (res.status !== 200) throw new RegistryError("auth", `token server ${url.origin} returned HTTP ${res.status}`, res.status);
    let doc: { token?: unknown; access_token?: unknown };
    try {
      doc = JSON.parse(res.body.toString("utf8")) as typeof doc;
    } catch {
      throw new RegistryError("auth", `token server ${url.origin} returned no JSON`);
    }
    const token = typeof doc.token === "string" && doc.token !== "" ? doc.token : doc.access_token;
    if (typeof token !== "string" || token === "") throw new RegistryError("auth", `token server ${url.origin} returned no token`);
    return token;
  }

  /**
   * One request with auth, retried (when spec.retry) on 5xx/429/network
   * failures with exponential backoff. A 401 refreshes the token once.
   */
  async request(spec: RequestSpec): Promise<Response> {
    await this.ping();
    let attempt = 0;
    let reauthorized = false;
    for (;;) {
      try {
        const res = await this.send(spec, true);
        if (res.status === 401 && !reauthorized) {
          reauthorized = true;
          const c = parseChallengeHeader(res);
          if (c) {
            this.challenge = c;
            this.authorization = undefined;
            const scope = c.params.scope ? c.params.scope.split(" ") : [];
            await this.authorize(scope);
            continue;
          }
        }
        if (res.status === 401 || res.status === 403) {
          const who = this.credentials ? `${this.credentials.username} (from ${this.credentials.source})` : "anonymous";
          throw new RegistryError("auth", `${this.host} denied ${spec.method} ${shortUrl(spec.url)} to ${who}: ${errorText(res)}`, res.status);
        }
        if (RETRY_STATUS.has(res.status) && spec.retry && attempt < this.retries) {
          await this.backoff(++attempt, `${spec.method} ${shortUrl(spec.url)}: HTTP ${res.status}`);
          continue;
        }
        return res;
      } catch (e) {
        if (e instanceof NetworkFailure && spec.retry && attempt < this.retries) {
          await this.backoff(++attempt, `${spec.method} ${shortUrl(spec.url)}: ${e.message}`);
          continue;
        }
        if (e instanceof NetworkFailure)
          throw new RegistryError(
            "network",
            `${spec.method} ${this.host}${shortUrl(spec.url)}: ${e.message}${spec.retry ? ` (after ${attempt + 1} attempts)` : ""}`,
          );
        throw e;
      }
    }
  }

  async backoff(attempt: number, why: string): Promise<void> {
    const ms = Math.min(5000, this.backoffMs * 2 ** (attempt - 1));
    this.options.onRetry?.(`${why}; retry ${attempt}/${this.retries} in ${ms} ms`);
    await sleep(ms);
  }

  /** Resolves an upload Location (relative or absolute) against the registry. */
  resolve(location: string): string {
    return new URL(location, this.base ?? `https://${this.host}/`).toString();
  }

  private send(spec: RequestSpec, withAuth: boolean): Promise<Response> {
    const url = new URL(spec.url, this.base);
    const isHttps = url.protocol === "https:";
    const headers: Record<string, string | number> = { "user-agent": this.options.userAgent ?? "strata", ...spec.headers };
    // Authorization only to the registry itself (upload locations may point elsewhere, e.g. storage).
    if (withAuth && this.authorization !== undefined && url.host === this.base?.host) headers.authorization = this.authorization;
    const body = spec.body;
    if (body !== undefined) headers["content-length"] = body.length;
    else if (spec.method === "PUT" || spec.method === "POST" || spec.method === "PATCH") headers["content-length"] = 0;
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error & { code?: string }) => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(new NetworkFailure(e.message || String(e.code), e.code));
      };
      const req = (isHttps ? https : http).request(
        url,
        { method: spec.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const limit = spec.maxBody ?? 1 << 20;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size <= limit) chunks.push(c);
          });
          res.on("error", fail);
          res.on("aborted", () => fail(Object.assign(new Error("connection closed while reading the response"), { code: "ECONNRESET" })));
          res.on("end", () => {
            if (settled) return;
            settled = true;
            if (size > limit && spec.method !== "HEAD") {
              reject(new RegistryError("protocol", `${spec.method} ${url.pathname}: response larger than ${limit} bytes`));
              return;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on("timeout", () => fail(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: "ETIMEDOUT" })));
      req.on("error", (e: Error & { code?: string }) => {
        if (e.code !== undefined && !NETWORK_CODES.has(e.code) && !/^(ERR_SSL|EPROTO|ERR_TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(e.code)) {
          if (!settled) {
            settled = true;
            reject(new RegistryError("network", `${spec.method} ${url.host}${url.pathname}: ${e.message}`));
          }
          return;
        }
        fail(e);
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else if (body.length === 0) req.end();
      else {
        const stream = createReadStream(body.file, { start: body.start, end: body.start + body.length - 1 });
        stream.on("error", (e) => {
          if (!settled) {
            settled = true;
            req.destroy();
            reject(e);
          }
        });
        stream.pipe(req);
      }
    });
  }
}

/** A response header's (first) value. */
export function header(res: Response, name: string): string | undefined {
  const h = res.headers[name];
  return Array.isArray(h) ? h[0] : h;
}

function parseChallengeHeader(res: Response): Challenge | undefined {
  const text = header(res, "www-authenticate");
  return text ? parseChallenge(text) : undefined;
}

function shortUrl(url: string): string {
  const q = url.indexOf("?");
  const path = url.startsWith("http") ? new URL(url).pathname : q >= 0 ? url.slice(0, q) : url;
  return path.replace(/(sha256:[0-9a-f]{12})[0-9a-f]{52}/g, "$1…");
}

/** The registry's error text from an OCI error body ({"errors":[{"code","message"}]}). */
export function errorText(res: Response): string {
  try {
    const doc = JSON.parse(res.body.toString("utf8")) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    if (Array.isArray(doc.errors) && doc.errors.length > 0) return doc.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}
