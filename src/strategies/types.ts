// What every layering strategy shares: it turns a closure document into an
// ordered list of layers (first = bottom), each an ordered list of paths.
// The order of paths inside a layer is part of the result: it decides the
// layer tarball's bytes and so its digest.
import type { ClosureDocument } from "../graph/document.js";
import type { Kernels } from "../kernels/types.js";

export type Layers = string[][];

/** Options common to the strategies; each strategy reads the ones it knows. */
export interface StrategyOptions {
  /** Image layer limit as dockerTools' maxLayers (default 100). */
  readonly maxLayers?: number;
  /** Layers of the base image (fromImage), subtracted from the limit. */
  readonly fromImageLayers?: number;
  /** Paths that take part in planning but are removed from the output. */
  readonly exclude?: readonly string[];
  /** Root paths, when the strategy needs them (Nixery). */
  readonly roots?: readonly string[];
  readonly kernels?: Kernels;
  /** Strategy-specific settings (popularity map, budget, thresholds, ...). */
  readonly [option: string]: unknown;
}

export interface StrategyResult {
  readonly layers: Layers;
  /** Strategy-specific extra data (e.g. debug info), for --format outputs. */
  readonly detail?: unknown;
}

export interface Strategy {
  readonly name: string;
  readonly summary: string;
  plan(doc: ClosureDocument, options: StrategyOptions): StrategyResult;
  /**
   * Output formats beyond the common ones (`nixpkgs`: the indented JSON list
   * nixpkgs' CLI prints), e.g. auto-layer's compact JSON or Nixery's
   * {contents, mergeRating, hash} list. Each returns the full stdout text.
   */
  readonly formats?: Readonly<Record<string, (result: StrategyResult) => string>>;
}

/**
 * nixpkgs' layer arithmetic: the store-path layers available when an image
 * may have `maxLayers` layers, one goes to the customisation layer and
 * `fromImageLayers` to the base image. nixpkgs fails the build when none is left.
 */
export function availableLayers(maxLayers = 100, fromImageLayers = 0): number {
  const used = 1 + fromImageLayers;
  if (!(used < maxLayers)) {
    throw new RangeError(
      `no layer left for store paths: maxLayers ${maxLayers} must exceed 1 (customisation layer) + ${fromImageLayers} (base image layers) = ${used}`,
    );
  }
  return maxLayers - used;
}
