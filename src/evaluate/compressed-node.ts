// Compressed bytes for `evaluate --series` (issue 15), Node only: the size of
// each layer as the image builder compresses it, taken from the layer cache
// (src/image/cache) and built into it where it is missing (which needs the
// store on disk). Clients pull compressed blobs, so this is what an update
// really costs, beside evaluate's narSize figures.
//
// Bounds, as for narSize: ideal = every changed path compressed alone (a
// one-path layer per path); worst = the whole image, taken as the sum of every
// path compressed alone (one gzip stream over all of them differs from that sum
// by the per-layer framing only). Per-path sizes are measured once per path
// (its one-path layer, through the same cache) and reused by every strategy and
// by min-pull's compressed weights (compressedWeights below).
import type { ClosureDocument } from "../graph/document.js";
import { LayerCache } from "../image/cache/index.js";
export { defaultCacheDir } from "../image/cache/index.js";
import { defaultCompression, type CompressionSpec } from "../image/compress/index.js";
import type { TarSettings } from "../image/layer-tar.js";
import { cacheLayers, layerSizes, type LayerProgress } from "../image/oci/layers.js";
import type { Layers } from "../strategies/types.js";
import type { NamedClosure } from "./evaluate.js";
import { layerKey } from "./evaluate.js";

export interface CompressedOptions {
  /** The layer cache directory (shared with `strata build --format oci`). */
  readonly cacheDir: string;
  /** Where the store directory is mounted on disk (default: the store directory itself). */
  readonly storeRoot?: string;
  readonly compression?: CompressionSpec;
  /** Tar settings; default streamLayeredImage's (mtime 1, root 0:0), as `strata build` uses. */
  readonly settings?: TarSettings;
  readonly workers?: number;
  readonly onProgress?: (p: LayerProgress) => void;
}

export interface CompressedUpdate {
  readonly from: string;
  readonly to: string;
  /** Compressed bytes of the layers of the new plan the old plan lacks. */
  readonly pulledBytes: number;
  readonly pulledLayers: number;
  /** Compressed bytes of the changed paths, each compressed alone. */
  readonly idealBytes: number;
  /** The whole image: every path compressed alone, summed. */
  readonly worstBytes: number;
  /** Compressed size of the new image (its layers). */
  readonly imageBytes: number;
}

export interface CompressedStrategy {
  readonly strategy: string;
  readonly updates: readonly CompressedUpdate[];
  readonly total: { readonly pulledBytes: number; readonly idealBytes: number; readonly worstBytes: number };
}

export interface CompressedSeries {
  /** Encoder id, e.g. "gzip:6". */
  readonly compression: string;
  readonly strategies: readonly CompressedStrategy[];
  /** Layers found in the cache / compressed now (one-path layers included). */
  readonly layersCached: number;
  readonly layersBuilt: number;
}

const defaultSettings: TarSettings = { mtime: 1, uid: 0, gid: 0, uname: "root", gname: "root" };

/** Compressed sizes of layers (lists of store paths), from the cache or built into it. */
export class CompressedSizer {
  cached = 0;
  built = 0;
  private readonly memo = new Map<string, number>();
  private constructor(
    private readonly cache: LayerCache,
    private readonly o: CompressedOptions,
  ) {}

  static async open(o: CompressedOptions): Promise<CompressedSizer> {
    return new CompressedSizer(await LayerCache.open(o.cacheDir), o);
  }

  /** Sizes of `layers` of one version. */
  async sizes(_doc: ClosureDocument, layers: readonly (readonly string[])[]): Promise<number[]> {
    const out = new Array<number>(layers.length);
    const todo: number[] = [];
    layers.forEach((l, i) => {
      const m = this.memo.get(layerKey(l));
      if (m !== undefined) out[i] = m;
      else todo.push(i);
    });
    if (todo.length === 0) return out;
    // The reader keeps no narHash; store paths name their contents, so the key is the paths and settings.
    const narHashes = new Map<string, string>();
    const storeDir = storeDirOf(layers);
    const common = {
      settings: this.o.settings ?? defaultSettings,
      store: { storeDir, ...(this.o.storeRoot !== undefined ? { storeRoot: this.o.storeRoot } : {}) },
      compression: this.o.compression ?? defaultCompression,
      narHashes,
    };
    const known = await layerSizes({ ...common, layers: todo.map((i) => ({ paths: layers[i] })), cache: this.cache });
    const missing: number[] = [];
    known.forEach((k, j) => {
      if (k.size !== undefined) {
        out[todo[j]] = k.size;
        this.cached++;
      } else missing.push(todo[j]);
    });
    if (missing.length > 0) {
      const built = await cacheLayers({
        ...common,
        layers: missing.map((i) => ({ paths: layers[i] })),
        cache: this.cache,
        ...(this.o.workers !== undefined ? { workers: this.o.workers } : {}),
        ...(this.o.onProgress ? { onProgress: this.o.onProgress } : {}),
      });
      built.forEach((b, j) => (out[missing[j]] = b.size));
      this.built += missing.length;
    }
    layers.forEach((l, i) => this.memo.set(layerKey(l), out[i]));
    return out;
  }

  /** Each path of the version compressed alone (its one-path layer). */
  async pathSizes(doc: ClosureDocument): Promise<Map<string, number>> {
    const paths = doc.entries.map((e) => e.path);
    const sizes = await this.sizes(
      doc,
      paths.map((p) => [p]),
    );
    return new Map(paths.map((p, i) => [p, sizes[i]]));
  }
}

function storeDirOf(layers: readonly (readonly string[])[]): string {
  const first = layers.find((l) => l.length > 0)?.[0] ?? "/nix/store/x";
  return first.slice(0, first.lastIndexOf("/")) || "/nix/store";
}

/** Compressed cost of each strategy's plans over the series. */
export async function compressedSeries(
  versions: readonly NamedClosure[],
  plans: ReadonlyMap<string, readonly Layers[]>,
  o: CompressedOptions,
): Promise<CompressedSeries> {
  const sizer = await CompressedSizer.open(o);
  const pathSizes: Map<string, number>[] = [];
  for (const v of versions) pathSizes.push(await sizer.pathSizes(v.doc));
  const strategies: CompressedStrategy[] = [];
  for (const [strategy, versionPlans] of plans) {
    const layerSizes: number[][] = [];
    for (let k = 0; k < versions.length; k++) layerSizes.push(await sizer.sizes(versions[k].doc, versionPlans[k]));
    const updates: CompressedUpdate[] = [];
    for (let k = 1; k < versions.length; k++) {
      const had = new Set(versionPlans[k - 1].map(layerKey));
      let pulledBytes = 0;
      let pulledLayers = 0;
      const seen = new Set<string>();
      versionPlans[k].forEach((l, i) => {
        const key = layerKey(l);
        if (!had.has(key) && !seen.has(key)) {
          pulledBytes += layerSizes[k][i];
          pulledLayers++;
          seen.add(key);
        }
      });
      const old = new Set(versions[k - 1].doc.entries.map((e) => e.path));
      let idealBytes = 0;
      let worstBytes = 0;
      let changed = old.size !== versions[k].doc.entries.length;
      for (const [p, s] of pathSizes[k]) {
        worstBytes += s;
        if (!old.has(p)) {
          idealBytes += s;
          changed = true;
        }
      }
      updates.push({
        from: versions[k - 1].name,
        to: versions[k].name,
        pulledBytes,
        pulledLayers,
        idealBytes,
        worstBytes: changed ? worstBytes : 0,
        imageBytes: layerSizes[k].reduce((a, b) => a + b, 0),
      });
    }
    const sum = (f: (u: CompressedUpdate) => number) => updates.reduce((a, u) => a + f(u), 0);
    strategies.push({
      strategy,
      updates,
      total: { pulledBytes: sum((u) => u.pulledBytes), idealBytes: sum((u) => u.idealBytes), worstBytes: sum((u) => u.worstBytes) },
    });
  }
  const c = o.compression ?? defaultCompression;
  return { compression: `${c.algorithm}:${c.level}`, strategies, layersCached: sizer.cached, layersBuilt: sizer.built };
}

/**
 * min-pull on compressed cost: the closure with each path's narSize replaced by
 * its compressed size alone (measured once per path through the layer cache).
 * Planning this document weighs paths by what clients download; the plan's
 * paths are the same, so it builds against the real closure.
 */
export async function compressedWeights(doc: ClosureDocument, o: CompressedOptions): Promise<ClosureDocument> {
  const sizer = await CompressedSizer.open(o);
  const sizes = await sizer.pathSizes(doc);
  // A new document with only the entries (a streamed document also carries its sizes in columns, which must not win).
  return {
    format: doc.format,
    entries: doc.entries.map((e) => ({ ...e, narSize: sizes.get(e.path) ?? e.narSize })),
    ...(doc.pipeline !== undefined ? { pipeline: doc.pipeline } : {}),
    ...(doc.excludePaths !== undefined ? { excludePaths: doc.excludePaths } : {}),
    ...(doc.roots !== undefined ? { roots: doc.roots } : {}),
  };
}
