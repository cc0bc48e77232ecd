// The min-pull strategy: plans that minimise the bytes clients pull on the
// next update (plan.ts), stable across rebuilds when given the previous plan.
import { PipelineError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import type { ClosureDocument } from "../../graph/document.js";
import { availableLayers, type Layers, type Strategy, type StrategyOptions, type StrategyResult } from "../types.js";
import { buildChangeModel, type ChangeModelOptions } from "../../model/change.js";
import { planMinPull, type Plan } from "./plan.js";

export interface MinPullOptions extends ChangeModelOptions {
  /** Store-path layers; default: nixpkgs' arithmetic from maxLayers/fromImageLayers (99). */
  readonly budget?: number;
  readonly maxLayers?: number;
  readonly fromImageLayers?: number;
  readonly minLayerSize?: number;
  readonly maxLayerSize?: number;
  /** The previous build's layers: those still valid are kept byte-identical. */
  readonly previous?: Layers;
  /** Paths planned with the rest but left out of the output (e.g. the image's own config). */
  readonly exclude?: readonly string[];
  readonly maxSources?: number;
}

export interface MinPullResult {
  readonly layers: Layers;
  readonly expectedBytes: number;
  readonly lowerBoundBytes: number;
  readonly lowerBoundExact: boolean;
  readonly budget: number;
  /** Per output layer: bytes and probability of changing in one update. */
  readonly layerInfo: readonly { readonly bytes: number; readonly changeProbability: number; readonly kept: boolean }[];
  readonly keptLayers: number;
}

export function minPullLayers(doc: ClosureDocument | Closure, options: MinPullOptions = {}): MinPullResult {
  const closure = doc instanceof Closure ? doc : Closure.fromDocument(doc);
  const budget = options.budget ?? availableLayers(options.maxLayers ?? 100, options.fromImageLayers ?? 0);
  const model = buildChangeModel(closure.paths, closure.narSize, options);
  const keep: number[][] = [];
  for (const layer of options.previous ?? []) {
    const vertices = layer.map((p) => closure.indexOf(p));
    // Input addressing: a path string still present means the path is unchanged.
    if (layer.length > 0 && vertices.every((v) => v !== undefined)) keep.push(vertices as number[]);
  }
  checkDisjoint(keep, closure);
  const plan: Plan = planMinPull({
    graph: closure,
    topo: closure.topo,
    size: closure.narSize,
    model,
    budget,
    minLayerSize: options.minLayerSize,
    maxLayerSize: options.maxLayerSize,
    keep,
    maxSources: options.maxSources,
  });
  const excluded = new Set(options.exclude ?? []);
  const layers: Layers = [];
  const layerInfo: MinPullResult["layerInfo"][number][] = [];
  for (const l of plan.layers) {
    const paths = l.vertices.map((v) => closure.paths[v]).filter((p) => !excluded.has(p));
    if (paths.length === 0) continue;
    layers.push(paths);
    layerInfo.push({ bytes: l.bytes, changeProbability: l.changeProbability, kept: l.kept });
  }
  return {
    layers,
    expectedBytes: plan.expectedBytes,
    lowerBoundBytes: plan.lowerBoundBytes,
    lowerBoundExact: plan.lowerBoundExact,
    budget,
    layerInfo,
    keptLayers: plan.layers.filter((l) => l.kept).length,
  };
}

function checkDisjoint(keep: readonly number[][], closure: Closure): void {
  const seen = new Uint8Array(closure.n);
  for (const layer of keep) {
    for (const v of layer) {
      if (seen[v]) throw new PipelineError("min-pull", `min-pull: "${closure.paths[v]}" appears in two layers of the previous plan`);
      seen[v] = 1;
    }
  }
}

function numberOption(options: StrategyOptions, name: string): number | undefined {
  const v = options[name];
  return typeof v === "number" ? v : undefined;
}

export const minPullStrategy: Strategy = {
  name: "min-pull",
  summary: "strata's optimizer: minimises the expected bytes pulled per update (stable with --previous)",
  plan(doc, options): StrategyResult {
    const result = minPullLayers(doc, {
      maxLayers: options.maxLayers,
      fromImageLayers: options.fromImageLayers,
      budget: numberOption(options, "budget"),
      minLayerSize: numberOption(options, "minLayerSize"),
      maxLayerSize: numberOption(options, "maxLayerSize"),
      changesPerUpdate: numberOption(options, "changesPerUpdate"),
      volatility: options.volatility as Record<string, number> | undefined,
      history: options.history as ClosureDocument[] | undefined,
      previous: options.previous as Layers | undefined,
      exclude: options.exclude,
    });
    return { layers: result.layers, detail: result };
  },
};
