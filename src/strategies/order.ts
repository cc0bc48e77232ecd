// Layer order. A local store (overlay2) names each layer by a chain ID that
// depends on every layer below it, so after an update it reuses only the
// unchanged prefix of the stack. Ordering layers by their probability of
// changing (least likely at the bottom) keeps that prefix long.
//
// The probability comes from min-pull's change model: a layer changes when
// any path in its closure changes. Ties keep the strategy's order (stable).
import { Closure } from "../graph/closure.js";
import type { ClosureDocument } from "../graph/document.js";
import { buildChangeModel, exactClosureWeights, type ChangeModelOptions } from "../model/change.js";
import type { Layers } from "./types.js";

export type LayerOrder = "strategy" | "stable-first";

/** P(change in one update) of each layer, under the change model. */
export function layerChangeProbabilities(doc: ClosureDocument | Closure, layers: Layers, model: ChangeModelOptions = {}): number[] {
  const closure = doc instanceof Closure ? doc : Closure.fromDocument(doc);
  const layerOf = new Int32Array(closure.n).fill(-1);
  layers.forEach((layer, i) => {
    for (const p of layer) {
      const v = closure.indexOf(p);
      if (v !== undefined) layerOf[v] = i;
    }
  });
  // Paths in no layer (excluded) still change the layers above them: they
  // share one extra layer id, whose own weight is not reported.
  const unassigned = layers.length;
  for (let v = 0; v < closure.n; v++) if (layerOf[v] < 0) layerOf[v] = unassigned;
  const m = buildChangeModel(closure.paths, closure.narSize, model);
  const weights = exactClosureWeights(closure, closure.topo, m.weights, layerOf, layers.length + 1);
  return layers.map((_, i) => m.probability(weights[i]));
}

export function orderStableFirst(doc: ClosureDocument | Closure, layers: Layers, model: ChangeModelOptions = {}): Layers {
  const p = layerChangeProbabilities(doc, layers, model);
  return layers
    .map((layer, i) => ({ layer, i }))
    .sort((a, b) => p[a.i] - p[b.i] || a.i - b.i)
    .map((x) => x.layer);
}
