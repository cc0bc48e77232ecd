// Image references: docker://HOST[:PORT]/REPO[:TAG|@DIGEST] as skopeo and
// podman write them, and the scheme/host rules for plain HTTP.
import { UsageError } from "../errors.js";

export interface ImageReference {
  /** Registry host as written, with port (docker.io for Docker Hub). */
  readonly host: string;
  /** The host requests go to (registry-1.docker.io for docker.io). */
  readonly endpoint: string;
  /** Repository path, e.g. "team/app" (Docker Hub: "library/alpine"). */
  readonly repository: string;
  /** Tag, when the reference names one. */
  readonly tag?: string;
  /** Digest, when the reference names one. */
  readonly digest?: string;
}

const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A tag as the distribution spec allows it. */
export function isValidTag(text: string): boolean {
  return TAG.test(text);
}

/**
 * Parses "docker://HOST/REPO:TAG" (the "docker://" prefix may be left out).
 * The first component is the registry host when it holds a "." or ":" or is
 * "localhost", as docker decides; otherwise the registry is Docker Hub.
 */
export function parseImageReference(text: string, what = "image reference"): ImageReference {
  const bad = (why: string): never => {
    throw new UsageError(`${what} "${text}": ${why} (expected docker://HOST/REPO:TAG, e.g. docker://127.0.0.1:5000/app:v2)`);
  };
  let rest = text.startsWith("docker://") ? text.slice("docker://".length) : text;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest) || rest.startsWith("oci:") || rest.startsWith("docker-archive:")) bad("only docker:// references name a registry");
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) bad(`"${digest}" is not a sha256 digest`);
  }
  const slash = rest.indexOf("/");
  let host = "docker.io";
  let path = rest;
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[")) {
      host = first;
      path = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!isValidTag(tag)) bad(`"${tag}" is not a valid tag`);
  }
  if (path === "") bad("no repository");
  if (host === "docker.io" && !path.includes("/")) path = `library/${path}`;
  if (!REPO.test(path)) bad(`"${path}" is not a valid repository name (lower case letters, digits, separators . _ - and /)`);
  const endpoint = host === "docker.io" || host === "index.docker.io" ? "registry-1.docker.io" : host;
  return { host, endpoint, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function formatReference(ref: ImageReference): string {
  return `docker://${ref.host}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** Host name without port or brackets. */
export function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon >= 0 && host.indexOf(":") === colon ? host.slice(0, colon) : host;
}

/** Loopback hosts, the only ones spoken to over plain HTTP without --insecure. */
export function isLoopback(host: string): boolean {
  const name = hostName(host).toLowerCase();
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}
