// What a layer plan costs: bytes pulled between image versions and bytes
// shared across images, computed the same way for every strategy.
//
// A layer's identity is its ordered list of paths: the tarball, hence the
// digest, depends on which paths it holds and in which order. A client that
// holds version k-1 pulls every layer of version k whose identity it does not
// have. Example: v0 = [[a], [b, c]], v1 = [[a], [c, b]] -> the second layer
// is new (same paths, other order), so v1 pulls size(b) + size(c).
import { UsageError } from "../errors.js";
import type { ClosureDocument } from "../graph/document.js";
import type { Layers } from "../strategies/types.js";

/** Something that plans layers for a closure, optionally seeing the previous plan. */
export interface Planner {
  readonly name: string;
  plan(doc: ClosureDocument, previous?: PreviousPlan): Layers;
}

export interface PreviousPlan {
  readonly doc: ClosureDocument;
  readonly layers: Layers;
}

export interface NamedClosure {
  readonly name: string;
  readonly doc: ClosureDocument;
}

export interface UpdateCost {
  readonly from: string;
  readonly to: string;
  /** Bytes of the layers of the new plan the old plan does not have. */
  readonly pulledBytes: number;
  readonly pulledLayers: number;
  readonly layerCount: number;
  readonly imageBytes: number;
  /** Bytes of the paths new in this version: one layer per path would pull exactly this. */
  readonly idealBytes: number;
  /** One layer for everything: the whole image whenever anything changed. */
  readonly worstBytes: number;
  /** (pulled - ideal) / (worst - ideal): 0 = ideal, 1 = single-layer; null when the bounds coincide. */
  readonly fractionOfWorst: number | null;
  /**
   * Bytes a local store (overlay2 chain IDs) re-extracts: every layer from the
   * first position where the layer stacks differ upward, since a layer's chain
   * ID depends on every layer below it.
   */
  readonly localBytes: number;
}

export interface VersionSummary {
  readonly name: string;
  readonly layerCount: number;
  readonly imageBytes: number;
  readonly layerBytes: readonly number[];
}

export interface StrategySeries {
  readonly strategy: string;
  readonly versions: readonly VersionSummary[];
  readonly updates: readonly UpdateCost[];
  readonly total: {
    readonly pulledBytes: number;
    readonly idealBytes: number;
    readonly worstBytes: number;
    readonly fractionOfWorst: number | null;
    readonly localBytes: number;
  };
}

export interface SeriesEvaluation {
  readonly versions: readonly string[];
  readonly strategies: readonly StrategySeries[];
}

export function sizeTable(doc: ClosureDocument): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const e of doc.entries) sizes.set(e.path, e.narSize);
  return sizes;
}

export function layerKey(layer: readonly string[]): string {
  return layer.join("\n");
}

export function layerBytes(layer: readonly string[], sizes: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const p of layer) sum += sizes.get(p) ?? 0;
  return sum;
}

function fraction(pulled: number, ideal: number, worst: number): number | null {
  return worst > ideal ? (pulled - ideal) / (worst - ideal) : null;
}

/** The cost of moving from plan `before` to plan `after` (sizes of the new closure). */
export function updateCost(
  before: { name: string; doc: ClosureDocument; layers: Layers },
  after: { name: string; doc: ClosureDocument; layers: Layers },
  sizes: ReadonlyMap<string, number> = sizeTable(after.doc),
): UpdateCost {
  const had = new Set(before.layers.map(layerKey));
  let pulledBytes = 0;
  let pulledLayers = 0;
  let imageBytes = 0;
  for (const layer of after.layers) {
    const bytes = layerBytes(layer, sizes);
    imageBytes += bytes;
    if (!had.has(layerKey(layer))) {
      pulledBytes += bytes;
      pulledLayers++;
    }
  }
  const oldPaths = new Set(before.doc.entries.map((e) => e.path));
  let idealBytes = 0;
  let changed = oldPaths.size !== after.doc.entries.length;
  let closureBytes = 0;
  for (const e of after.doc.entries) {
    closureBytes += e.narSize;
    if (!oldPaths.has(e.path)) {
      idealBytes += e.narSize;
      changed = true;
    }
  }
  const worstBytes = changed ? closureBytes : 0;
  let common = 0;
  while (common < before.layers.length && common < after.layers.length && layerKey(before.layers[common]) === layerKey(after.layers[common])) {
    common++;
  }
  let localBytes = 0;
  for (let i = common; i < after.layers.length; i++) localBytes += layerBytes(after.layers[i], sizes);
  return {
    from: before.name,
    to: after.name,
    pulledBytes,
    pulledLayers,
    layerCount: after.layers.length,
    imageBytes,
    idealBytes,
    worstBytes,
    fractionOfWorst: fraction(pulledBytes, idealBytes, worstBytes),
    localBytes,
  };
}

/**
 * Plans every version with every planner (each version independently, except
 * that a planner is shown its own previous plan, which stateful strategies
 * use) and prices each update k-1 -> k.
 */
export function evaluateSeries(versions: readonly NamedClosure[], planners: readonly Planner[]): SeriesEvaluation {
  if (versions.length < 2) throw new UsageError("evaluateSeries: a series needs at least two versions");
  const sizes = versions.map((v) => sizeTable(v.doc));
  const strategies = planners.map((planner): StrategySeries => {
    const plans: Layers[] = [];
    versions.forEach((v, k) => {
      plans.push(planner.plan(v.doc, k === 0 ? undefined : { doc: versions[k - 1].doc, layers: plans[k - 1] }));
    });
    const summaries = versions.map((v, k): VersionSummary => {
      const layerSizes = plans[k].map((l) => layerBytes(l, sizes[k]));
      return { name: v.name, layerCount: plans[k].length, imageBytes: layerSizes.reduce((a, b) => a + b, 0), layerBytes: layerSizes };
    });
    const updates: UpdateCost[] = [];
    for (let k = 1; k < versions.length; k++) {
      updates.push(
        updateCost(
          { name: versions[k - 1].name, doc: versions[k - 1].doc, layers: plans[k - 1] },
          { name: versions[k].name, doc: versions[k].doc, layers: plans[k] },
          sizes[k],
        ),
      );
    }
    const sum = (f: (u: UpdateCost) => number) => updates.reduce((a, u) => a + f(u), 0);
    const pulledBytes = sum((u) => u.pulledBytes);
    const idealBytes = sum((u) => u.idealBytes);
    const worstBytes = sum((u) => u.worstBytes);
    return {
      strategy: planner.name,
      versions: summaries,
      updates,
      total: { pulledBytes, idealBytes, worstBytes, fractionOfWorst: fraction(pulledBytes, idealBytes, worstBytes), localBytes: sum((u) => u.localBytes) },
    };
  });
  return { versions: versions.map((v) => v.name), strategies };
}

export interface StrategyImages {
  readonly strategy: string;
  readonly images: readonly { readonly name: string; readonly layerCount: number; readonly imageBytes: number }[];
  /** Sum of the image sizes: what a registry would store without sharing. */
  readonly totalImageBytes: number;
  /** Distinct layers (by identity) stored once. */
  readonly registryBytes: number;
  readonly distinctLayers: number;
  /** Bytes of the distinct layers that two or more images use. */
  readonly sharedBytes: number;
  readonly sharedLayers: number;
  /** totalImageBytes / registryBytes (1 = nothing shared); null for empty images. */
  readonly dedupRatio: number | null;
}

export interface ImagesEvaluation {
  readonly images: readonly string[];
  readonly strategies: readonly StrategyImages[];
}

/** Layer sharing across images of one package-set revision. */
export function evaluateImages(images: readonly NamedClosure[], planners: readonly Planner[]): ImagesEvaluation {
  if (images.length === 0) throw new UsageError("evaluateImages: no images given");
  const strategies = planners.map((planner): StrategyImages => {
    const layerUse = new Map<string, { bytes: number; users: Set<number> }>();
    const summaries = images.map((img, i) => {
      const sizes = sizeTable(img.doc);
      const layers = planner.plan(img.doc);
      let imageBytes = 0;
      for (const layer of layers) {
        const bytes = layerBytes(layer, sizes);
        imageBytes += bytes;
        const key = layerKey(layer);
        const use = layerUse.get(key) ?? { bytes, users: new Set<number>() };
        use.users.add(i);
        layerUse.set(key, use);
      }
      return { name: img.name, layerCount: layers.length, imageBytes };
    });
    let registryBytes = 0;
    let sharedBytes = 0;
    let sharedLayers = 0;
    for (const use of layerUse.values()) {
      registryBytes += use.bytes;
      if (use.users.size >= 2) {
        sharedBytes += use.bytes;
        sharedLayers++;
      }
    }
    const totalImageBytes = summaries.reduce((a, s) => a + s.imageBytes, 0);
    return {
      strategy: planner.name,
      images: summaries,
      totalImageBytes,
      registryBytes,
      distinctLayers: layerUse.size,
      sharedBytes,
      sharedLayers,
      dedupRatio: registryBytes > 0 ? totalImageBytes / registryBytes : null,
    };
  });
  return { images: images.map((i) => i.name), strategies };
}
