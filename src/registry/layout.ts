// Reading an OCI image layout (oci-layout + index.json + blobs/sha256/...) for
// push and evaluate --against: the manifest of one tag, its config and layers.
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError, UsageError } from "../errors.js";

export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

export interface ImageManifest {
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export interface LayoutImage {
  readonly dir: string;
  /** The tag chosen (org.opencontainers.image.ref.name), if any. */
  readonly tag?: string;
  /** The manifest's descriptor in index.json. */
  readonly descriptor: Descriptor;
  /** The manifest bytes, exactly as stored (pushed verbatim, so its digest holds). */
  readonly manifestBytes: Buffer;
  readonly manifest: ImageManifest;
  /** The platform from the image config (for picking from a remote index). */
  readonly platform?: Platform;
  /** Path of a blob in the layout. */
  blobPath(digest: string): string;
}

/**
 * Splits "DIR[:TAG]": the whole argument when it is a directory, else at the last ":".
 */
export function splitLayoutArgument(arg: string): { dir: string; tag?: string } {
  if (existsSync(arg) && statSync(arg).isDirectory()) return { dir: arg };
  const colon = arg.lastIndexOf(":");
  if (colon > 0) return { dir: arg.slice(0, colon), tag: arg.slice(colon + 1) };
  return { dir: arg };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The config and the layers of a manifest, each digest once, config first. */
export function uniqueBlobs(manifest: ImageManifest): Descriptor[] {
  const seen = new Set<string>();
  const out: Descriptor[] = [];
  for (const d of [manifest.config, ...manifest.layers]) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    out.push(d);
  }
  return out;
}

function checkDescriptor(d: unknown, where: string): Descriptor {
  const x = d as Descriptor;
  if (
    typeof x !== "object" ||
    x === null ||
    typeof x.digest !== "string" ||
    !DIGEST.test(x.digest) ||
    !Number.isSafeInteger(x.size) ||
    x.size < 0 ||
    typeof x.mediaType !== "string"
  ) {
    throw new InputError("bad-entry", `${where}: not a descriptor with mediaType, sha256 digest and size`);
  }
  return x;
}

/** Reads an OCI manifest or docker v2s2 manifest document. */
export function parseImageManifest(bytes: Buffer, where: string): ImageManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new InputError("invalid-json", `${where}: manifest is not valid JSON: ${(e as Error).message}`);
  }
  return imageManifestOf(doc, where);
}

/** The image manifest in an already parsed OCI or docker v2s2 manifest document. */
export function imageManifestOf(value: unknown, where: string): ImageManifest {
  const doc = value as { mediaType?: unknown; config?: unknown; layers?: unknown };
  if (!Array.isArray(doc.layers) || doc.config === undefined)
    throw new InputError("unsupported-shape", `${where}: not an image manifest (no config and layers)`);
  const mediaType = typeof doc.mediaType === "string" ? doc.mediaType : MEDIA.ociManifest;
  return {
    mediaType,
    config: checkDescriptor(doc.config, `${where}: config`),
    layers: doc.layers.map((l, i) => checkDescriptor(l, `${where}: layers[${i}]`)),
  };
}

export async function readLayout(arg: string): Promise<LayoutImage> {
  const { dir, tag } = splitLayoutArgument(arg);
  if (!existsSync(join(dir, "oci-layout")) || !existsSync(join(dir, "index.json"))) {
    throw new UsageError(
      `${dir} is not an OCI image layout (no oci-layout and index.json); build one with 'strata build --format oci -o DIR' or 'skopeo copy ... oci:DIR:TAG'`,
    );
  }
  let index: { manifests?: unknown };
  try {
    index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as typeof index;
  } catch (e) {
    throw new InputError("invalid-json", `${join(dir, "index.json")}: ${(e as Error).message}`);
  }
  if (!Array.isArray(index.manifests)) throw new InputError("unsupported-shape", `${join(dir, "index.json")}: no "manifests" list`);
  const all = index.manifests.map((m, i) => checkDescriptor(m, `${join(dir, "index.json")}: manifests[${i}]`));
  const refName = (d: Descriptor) => d.annotations?.["org.opencontainers.image.ref.name"];
  let chosen: Descriptor | undefined;
  if (tag !== undefined) {
    chosen = all.find((d) => refName(d) === tag);
    if (!chosen) {
      const tags = all.map(refName).filter((t) => t !== undefined);
      throw new UsageError(`${dir} has no image tagged "${tag}"${tags.length ? ` (tags: ${tags.join(", ")})` : " (its images carry no tags)"}`);
    }
  } else if (all.length === 1) chosen = all[0];
  else {
    throw new UsageError(`${dir} holds ${all.length} images; name one as ${dir}:TAG (tags: ${all.map(refName).filter(Boolean).join(", ") || "none"})`);
  }
  if (chosen.mediaType === MEDIA.ociIndex || chosen.mediaType === MEDIA.dockerList) {
    throw new UsageError(`${dir}${tag ? `:${tag}` : ""} is an image index; strata pushes and prices single-platform images`);
  }
  const blobPath = (digest: string) => join(dir, "blobs", "sha256", digest.slice("sha256:".length));
  let manifestBytes: Buffer;
  try {
    manifestBytes = await readFile(blobPath(chosen.digest));
  } catch {
    throw new InputError("unsupported-shape", `${dir}: manifest blob ${chosen.digest} is missing`);
  }
  const manifest = parseImageManifest(manifestBytes, `${dir} manifest ${chosen.digest.slice(0, 19)}`);
  let platform: Platform | undefined;
  try {
    const config = JSON.parse(await readFile(blobPath(manifest.config.digest), "utf8")) as { architecture?: unknown; os?: unknown; variant?: unknown };
    if (typeof config.architecture === "string" && typeof config.os === "string") {
      platform = { architecture: config.architecture, os: config.os, ...(typeof config.variant === "string" ? { variant: config.variant } : {}) };
    }
  } catch {
    // a missing or foreign config leaves the platform unknown; push checks blobs separately
  }
  return { dir, ...(tag !== undefined ? { tag } : {}), descriptor: chosen, manifestBytes, manifest, ...(platform ? { platform } : {}), blobPath };
}
