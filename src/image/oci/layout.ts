// An OCI image layout directory (image-spec v1.1 "image-layout"):
//   DIR/oci-layout           {"imageLayoutVersion":"1.0.0"}
//   DIR/index.json           one manifest, tagged with org.opencontainers.image.ref.name
//   DIR/blobs/sha256/<hex>   config, manifest, compressed layers
// The config is the docker-archive's config, byte for byte (its diff_ids are
// the uncompressed layer tars' digests, the same for every compression).
//
// Layer annotations (stable keys, documented in docs/build.md):
//   org.strata.store-paths   JSON array of the layer's store paths, in archive order
//   org.strata.compression   encoder id: package@version, algorithm, level, block size
//   org.strata.diff-id       sha256 of the uncompressed tar (also in the config)
//
// Atomic: everything is written into a temporary directory beside DIR, which
// replaces DIR by rename only once complete; on any error it is removed and
// DIR is left as it was.
import { createHash } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { BuildError } from "../../errors.js";
import { processAlive, tempOwner, tempSibling } from "../../io/node.js";
import { buildLayers, type BuildLayersOptions, type BuiltLayer } from "./layers.js";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const STORE_PATHS_ANNOTATION = "org.strata.store-paths";
export const COMPRESSION_ANNOTATION = "org.strata.compression";
export const DIFF_ID_ANNOTATION = "org.strata.diff-id";
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

export interface OciLayoutOptions extends BuildLayersOptions {
  /** Output directory: must not exist, be empty, or hold an OCI layout (which is replaced). */
  readonly outDir: string;
  /** The config bytes for the given diff_ids (bottom layer first), as in the docker-archive. */
  readonly config: (diffIds: readonly string[]) => Uint8Array;
  /** `name:tag` or `tag`: the tag becomes index.json's ref.name annotation. */
  readonly tag?: string;
}

export interface OciLayoutResult {
  readonly outDir: string;
  readonly manifestDigest: string;
  readonly manifestSize: number;
  readonly configDigest: string;
  readonly layers: readonly BuiltLayer[];
  readonly refName?: string;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** The config and manifest JSON text. */
  readonly config: string;
  readonly manifest: string;
}

const sha256 = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The tag part of `name:tag` (after the last ':' not followed by '/'), or the whole string. */
export function refNameOf(tag: string): string {
  const colon = tag.lastIndexOf(":");
  return colon >= 0 && !tag.slice(colon + 1).includes("/") ? tag.slice(colon + 1) : tag;
}

export async function writeOciLayout(o: OciLayoutOptions): Promise<OciLayoutResult> {
  const outDir = resolve(o.outDir);
  await checkTarget(outDir);
  await removeDeadTemps(outDir);
  const tmp = tempSibling(outDir);
  try {
    const blobs = join(tmp, "blobs", "sha256");
    try {
      await mkdir(blobs, { recursive: true });
    } catch (e) {
      throw new BuildError("output", `cannot create the output directory ${outDir}: ${(e as Error).message}`, outDir);
    }
    const hits0 = o.cache?.hits ?? 0;
    const misses0 = o.cache?.misses ?? 0;
    const layers = await buildLayers(o, blobs);
    const config = o.config(layers.map((l) => l.diffId));
    const configDigest = sha256(config);
    const manifest = utf8(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
        layers: layers.map((l) => ({
          mediaType: l.mediaType,
          digest: l.digest,
          size: l.size,
          annotations: {
            [STORE_PATHS_ANNOTATION]: JSON.stringify(l.paths),
            [COMPRESSION_ANNOTATION]: l.encoder.id,
            [DIFF_ID_ANNOTATION]: l.diffId,
          },
        })),
      }),
    );
    const manifestDigest = sha256(manifest);
    const refName = o.tag === undefined ? undefined : refNameOf(o.tag);
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: manifestDigest,
          size: manifest.length,
          ...(refName === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: refName } }),
        },
      ],
    };
    await writeFile(join(blobs, configDigest.slice(7)), config);
    await writeFile(join(blobs, manifestDigest.slice(7)), manifest);
    await writeFile(join(tmp, "oci-layout"), `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
    await writeFile(join(tmp, "index.json"), `${JSON.stringify(index)}\n`);
    await replaceDir(tmp, outDir);
    return {
      outDir,
      manifestDigest,
      manifestSize: manifest.length,
      configDigest,
      layers,
      refName,
      cacheHits: (o.cache?.hits ?? 0) - hits0,
      cacheMisses: o.cache === undefined ? layers.length : o.cache.misses - misses0,
      config: Buffer.from(config).toString("utf8"),
      manifest: Buffer.from(manifest).toString("utf8"),
    };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

/** Temporary directories of earlier builds of outDir whose process is gone (killed mid-build). */
async function removeDeadTemps(outDir: string): Promise<void> {
  const names = await readdir(dirname(outDir)).catch(() => [] as string[]);
  for (const name of names) {
    const owner = tempOwner(outDir, name);
    if (owner === undefined || processAlive(owner)) continue;
    await rm(join(dirname(outDir), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** What may be replaced: nothing, an empty directory, or an OCI layout. */
async function checkTarget(outDir: string): Promise<void> {
  const st = await stat(outDir).catch(() => undefined);
  if (st === undefined) return;
  if (!st.isDirectory()) throw new BuildError("output", `output ${outDir} exists and is not a directory`, outDir);
  const names = await readdir(outDir);
  if (names.length === 0 || names.includes("oci-layout")) return;
  throw new BuildError("output", `output directory ${outDir} is not empty and not an OCI layout; refusing to replace it`, outDir);
}

async function replaceDir(tmp: string, outDir: string): Promise<void> {
  const st = await stat(outDir).catch(() => undefined);
  if (st === undefined) {
    await rename(tmp, outDir);
    return;
  }
  // Swap: the old layout moves aside, the new one in, the old one is removed.
  const old = `${tmp}.old`;
  await rename(outDir, old);
  try {
    await rename(tmp, outDir);
  } catch (e) {
    await rename(old, outDir).catch(() => undefined);
    throw e;
  }
  await rm(old, { recursive: true, force: true });
}
