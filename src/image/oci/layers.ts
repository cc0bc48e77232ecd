// Compressed layer blobs for a plan, through the layer cache: layers built
// before are copied out of the cache (digest checked on the way), the others
// are tarred and compressed in parallel worker threads and added to it.
// Used by the OCI writer; also the API for anyone who needs per-layer
// compressed sizes and digests (layerSizes).
import { createReadStream } from "node:fs";
import { mkdtemp, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../../errors.js";
import { LayerCache, layerKey, placeFile, type CacheEntry, type LayerIdentity } from "../cache/index.js";
import { digestChunks } from "../docker-archive.js";
import { directoryTarChunks } from "../gnu-tar.js";
import { encoderInfo, type CompressionSpec, type EncoderInfo } from "../compress/index.js";
import type { LayerBlobRequest, LayerBlobResult } from "../compress/layer.js";
import type { StoreLocation, TarSettings } from "../layer-tar.js";
import { writeLayerBlobs } from "../parallel/pool.js";

/** A layer to build: store paths (archived as stream_layered_image.py does), or a prebuilt tar file. */
export type LayerSource =
  | { readonly paths: readonly string[] }
  | { readonly tarFile: string; readonly paths?: readonly string[] }
  | { readonly tarDir: string; readonly paths?: readonly string[] }
  /** a layer tar stored in a byte range of an open file (a base image's member), keyed by `identity` */
  | {
      readonly fdRange: { readonly fd: number; readonly offset: number; readonly length: number };
      readonly identity: string;
      readonly paths?: readonly string[];
    };

export interface BuildLayersOptions {
  readonly layers: readonly LayerSource[];
  readonly settings: TarSettings;
  readonly store: StoreLocation;
  readonly compression: CompressionSpec;
  /** narHash per store path (from the closure), part of each layer's cache key. */
  readonly narHashes?: ReadonlyMap<string, string>;
  /** The layer cache; undefined builds everything (--no-cache). */
  readonly cache?: LayerCache;
  /** Worker threads (default: available cores). */
  readonly workers?: number;
  readonly onProgress?: (p: LayerProgress) => void;
  /** narSize of a path (progress estimate of the bytes to compress). */
  readonly sizeOf?: (path: string) => number | undefined;
}

export interface LayerProgress {
  readonly layers: number;
  readonly layersDone: number;
  readonly cacheHits: number;
  /** Uncompressed tar bytes compressed so far / expected (narSize-based estimate, when known). */
  readonly bytesDone: number;
  readonly bytesTotal?: number;
}

export interface BuiltLayer {
  readonly digest: string;
  readonly size: number;
  readonly diffId: string;
  readonly tarSize: number;
  readonly mediaType: string;
  readonly encoder: EncoderInfo;
  /** Store paths in the layer (for a prebuilt tar: what the caller said it holds). */
  readonly paths: readonly string[];
  /** Served from the cache. */
  readonly cached: boolean;
  /** The cache key (also computed without a cache). */
  readonly key: string;
}

interface Planned {
  readonly source: LayerSource;
  readonly paths: readonly string[];
  readonly key: string;
}

async function sha256File(file: string): Promise<string> {
  try {
    return (await digestChunks(createReadStream(file))).digest;
  } catch (e) {
    throw new BuildError("unreadable", `cannot read the layer tar ${file}: ${(e as Error).message}`, file);
  }
}

async function plan(o: BuildLayersOptions, encoder: EncoderInfo): Promise<Planned[]> {
  const out: Planned[] = [];
  for (const source of o.layers) {
    const paths = source.paths ?? [];
    const prebuilt = "tarFile" in source || "tarDir" in source || "fdRange" in source;
    const id: LayerIdentity = {
      paths: prebuilt ? [] : paths,
      narHashes: prebuilt ? [] : paths.map((p) => o.narHashes?.get(p) ?? null),
      storeDir: o.store.storeDir,
      settings: o.settings,
      encoder,
      // A prebuilt tar is identified by its content (the tar's sha256).
      source:
        "tarFile" in source
          ? `sha256:${await sha256File(source.tarFile)}`
          : "tarDir" in source
            ? `sha256:${(await digestChunks(directoryTarChunks(source.tarDir))).digest}`
            : "fdRange" in source
              ? source.identity
              : undefined,
    };
    out.push({ source, paths, key: layerKey(id) });
  }
  return out;
}

/**
 * Writes every layer's compressed blob into `blobDir` (as `<hex>`; a blob
 * already there is kept) and returns their descriptors in layer order.
 */
export async function buildLayers(o: BuildLayersOptions, blobDir: string): Promise<BuiltLayer[]> {
  const encoder = encoderInfo(o.compression);
  const planned = await plan(o, encoder);
  const results = new Map<string, { entry: Omit<CacheEntry, "paths" | "key">; cached: boolean }>();
  let hits = 0;
  let done = 0;
  let bytesDone = 0;
  const distinct = [...new Map(planned.map((p) => [p.key, p])).values()];
  const report = (bytesTotal?: number) => o.onProgress?.({ layers: distinct.length, layersDone: done, cacheHits: hits, bytesDone, bytesTotal });

  // 1. Candidates: entries the cache has (blob present, right size).
  const candidates: [Planned, CacheEntry][] = [];
  const missing: Planned[] = [];
  for (const p of distinct) {
    const entry = o.cache === undefined ? undefined : await o.cache.peek(p.key);
    if (entry !== undefined) candidates.push([p, entry]);
    else missing.push(p);
  }
  const estimate = (p: Planned) => p.paths.reduce((m, q) => m + (o.sizeOf?.(q) ?? 0), 0);
  let bytesTotal = o.sizeOf === undefined ? undefined : missing.reduce((n, p) => n + estimate(p), 0);

  // 2. Hits are digest-checked and linked out while the misses compress;
  // a candidate that fails the check is built in a second round.
  const verify = async (): Promise<Planned[]> => {
    const failed: Planned[] = [];
    for (const [p, entry] of candidates) {
      if (await placeVerified(o.cache!, entry, blobDir)) {
        o.cache!.hits++;
        hits++;
        done++;
        results.set(p.key, { entry, cached: true });
        report(bytesTotal);
      } else {
        failed.push(p);
        if (bytesTotal !== undefined) bytesTotal += estimate(p);
      }
    }
    return failed;
  };
  const compress = async (batch: Planned[]): Promise<void> => {
    if (o.cache !== undefined) o.cache.misses += batch.length;
    // Largest layers first (by narSize, when known): the workers then finish
    // together instead of one compressing the biggest layer alone at the end.
    if (o.sizeOf !== undefined) batch.sort((a, b) => estimate(b) - estimate(a));
    const requests: LayerBlobRequest[] = batch.map((p, i) => ({
      paths: p.paths,
      tarFile: "tarFile" in p.source ? p.source.tarFile : undefined,
      tarDir: "tarDir" in p.source ? p.source.tarDir : undefined,
      fdRange: "fdRange" in p.source ? p.source.fdRange : undefined,
      settings: o.settings,
      store: o.store,
      compression: o.compression,
      outFile: o.cache !== undefined ? o.cache.tempFile() : join(blobDir, `.strata-${process.pid}-${p.key.slice(0, 16)}-${i}.part`),
    }));
    let blobs: LayerBlobResult[];
    try {
      blobs = await writeLayerBlobs(requests, {
        workers: o.workers,
        onTarBytes: (n) => {
          bytesDone += n;
          report(bytesTotal);
        },
      });
    } catch (e) {
      await Promise.all(requests.map((r) => unlink(r.outFile).catch(() => undefined)));
      throw e;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const blob = blobs[i];
      const dest = join(blobDir, blob.digest.slice("sha256:".length));
      if (o.cache !== undefined) {
        // Link this build's own finished file before handing it to the cache: the cache's
        // path is shared with other processes (one may evict it after a failed check), ours is not.
        if (!(await exists(dest))) await placeFile(requests[i].outFile, dest);
        await o.cache.commit(p.key, requests[i].outFile, blob, encoder, p.paths);
      } else {
        await rename(requests[i].outFile, dest);
      }
      done++;
      results.set(p.key, { entry: { ...blob, mediaType: encoder.mediaType, encoder: encoder.id }, cached: false });
    }
  };
  report(bytesTotal);
  // Both settle before any error propagates (the caller then removes blobDir).
  const [verified, compressed] = await Promise.allSettled([verify(), compress(missing)]);
  if (verified.status === "rejected") throw verified.reason;
  if (compressed.status === "rejected") throw compressed.reason;
  if (verified.value.length > 0) await compress(verified.value);
  report(bytesTotal);

  return planned.map((p) => {
    const r = results.get(p.key)!;
    return {
      digest: r.entry.digest,
      size: r.entry.size,
      diffId: r.entry.diffId,
      tarSize: r.entry.tarSize,
      mediaType: encoder.mediaType,
      encoder,
      paths: p.paths,
      cached: r.cached,
      key: p.key,
    };
  });
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function placeVerified(cache: LayerCache, entry: CacheEntry, blobDir: string): Promise<boolean> {
  const dest = join(blobDir, entry.digest.slice("sha256:".length));
  if (await exists(dest)) return true; // the same blob, already verified in this build
  return cache.copyVerified(entry, dest);
}

export interface LayerSize {
  readonly key: string;
  /** Compressed size, when the cache holds the layer. */
  readonly size?: number;
  readonly digest?: string;
  readonly diffId?: string;
  readonly tarSize?: number;
}

/**
 * Per-layer compressed sizes as far as the cache knows them, without building
 * anything (a layer not in the cache has only its key). To fill the cache,
 * run buildLayers (or `strata build --format oci`) once.
 */
export async function layerSizes(
  o: Omit<BuildLayersOptions, "cache" | "workers" | "onProgress" | "sizeOf"> & { readonly cache: LayerCache },
): Promise<LayerSize[]> {
  const planned = await plan(o, encoderInfo(o.compression));
  const out: LayerSize[] = [];
  for (const p of planned) {
    const e = await o.cache.peek(p.key);
    out.push(e === undefined ? { key: p.key } : { key: p.key, size: e.size, digest: e.digest, diffId: e.diffId, tarSize: e.tarSize });
  }
  return out;
}

/**
 * Makes sure the cache holds every layer (building the missing ones in
 * parallel) and returns each layer's compressed size, digest and diff_id: the
 * compressed-size oracle for tools that price plans by bytes pulled.
 */
export async function cacheLayers(o: Omit<BuildLayersOptions, "cache"> & { readonly cache: LayerCache }): Promise<Required<LayerSize>[]> {
  const scratch = await mkdtemp(join(o.cache.dir, "v1", "tmp", `${process.pid}-layers-`));
  try {
    const built = await buildLayers(o, scratch);
    return built.map((l) => ({ key: l.key, size: l.size, digest: l.digest, diffId: l.diffId, tarSize: l.tarSize }));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
