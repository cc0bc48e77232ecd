// `strata build --format oci`: an ImageSpec (from a plan or nixpkgs'
// conf.json) as an OCI image layout with compressed layers, through the layer
// cache. The config is the docker-archive's, byte for byte, so both formats
// describe the same image (same diff_ids, same image ID).
import { openBaseImage, withBaseEnv } from "../base-image.js";
import { LayerCache, defaultCacheDir } from "../cache/index.js";
import { checkCompression, defaultCompression, parseCompression, type CompressionSpec } from "../compress/index.js";
import { imageConfigBytes } from "../docker-archive.js";
import type { ImageSpec } from "../spec.js";
import type { LayerProgress, LayerSource } from "./layers.js";
import { writeOciLayout, type OciLayoutResult } from "./layout.js";

export interface OciImageOptions {
  readonly compression: CompressionSpec;
  /** undefined: no cache (every layer built). */
  readonly cache?: LayerCache;
  readonly narHashes?: ReadonlyMap<string, string>;
  readonly sizeOf?: (path: string) => number | undefined;
  readonly workers?: number;
  readonly onProgress?: (p: LayerProgress) => void;
}

/** The layers of a spec as layer sources: the store layers, then the customisation layer. */
export function layerSources(spec: ImageSpec): LayerSource[] {
  const layers: LayerSource[] = spec.storeLayers.map((paths) => ({ paths }));
  const c = spec.customisation;
  if (c !== undefined) {
    const label = c.label ?? c.dir;
    layers.push(c.kind === "nixpkgs" ? { tarFile: `${c.dir.replace(/\/+$/, "")}/layer.tar`, paths: [label] } : { tarDir: c.dir, paths: [label] });
  }
  return layers;
}

export async function writeOciImage(spec: ImageSpec, outDir: string, o: OciImageOptions): Promise<OciLayoutResult> {
  // A base image (nixpkgs' fromImage): its layer tars go first, read from the
  // (uncompressed) archive by the workers; only its Env is inherited.
  const base = spec.fromImage === undefined ? undefined : await openBaseImage(spec.fromImage);
  try {
    const baseLayers: LayerSource[] = (base?.layers ?? []).map((b) => ({
      fdRange: { fd: base!.fd, offset: b.member.dataOffset, length: b.member.size },
      // The base's own diff_id claim and size name the layer in the cache; the
      // layout's diff_id is the sha256 of the bytes actually compressed.
      identity: `base-layer:sha256:${b.digest}:${b.member.size}`,
      paths: [b.path],
    }));
    const layers = [...baseLayers, ...layerSources(spec)];
    const configSpec = withBaseEnv(spec, base);
    return await writeOciLayout({
      outDir,
      layers,
      settings: spec.tar,
      store: spec.store,
      compression: o.compression,
      cache: o.cache,
      narHashes: o.narHashes,
      sizeOf: o.sizeOf,
      workers: o.workers,
      onProgress: o.onProgress,
      tag: spec.repoTag,
      // History comments name the layer's paths (the customisation layer: its label; a base layer: its member), as in the docker-archive.
      config: (diffIds) =>
        imageConfigBytes(
          configSpec,
          diffIds.map((d, i) => ({ digest: d.replace(/^sha256:/, ""), paths: layers[i].paths ?? [] })),
        ),
    });
  } finally {
    base?.close();
  }
}

export interface OciBuildOptions {
  /** The output directory (replaced atomically). */
  readonly outDir: string;
  /** gzip (default, level 6) or zstd (level 3); a spec or text like "zstd:6". */
  readonly compression?: CompressionSpec | string;
  /** The layer cache directory; default the XDG cache dir; false: no cache. */
  readonly cache?: string | false;
  /** Worker threads (default: available cores). */
  readonly workers?: number;
  /** narHash per store path (cache key); default: none (keys use the paths). */
  readonly narHashes?: ReadonlyMap<string, string>;
  readonly onProgress?: (p: LayerProgress) => void;
}

/** writeOciImage with the cache opened and the compression parsed (the library's entry, used by buildImage). */
export async function writeOciImageTo(spec: ImageSpec, o: OciBuildOptions): Promise<OciLayoutResult> {
  const compression =
    o.compression === undefined
      ? defaultCompression
      : typeof o.compression === "string"
        ? parseCompression(o.compression, "compression")
        : checkCompression(o.compression);
  const cache = o.cache === false ? undefined : await LayerCache.open(o.cache ?? defaultCacheDir());
  return writeOciImage(spec, o.outDir, { compression, cache, narHashes: o.narHashes, workers: o.workers, onProgress: o.onProgress });
}
