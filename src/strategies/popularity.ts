// nixpkgs' layering through its pipeline language. Two registry entries:
//  * `popularity`: dockerTools' default when no layeringPipeline is set,
//    [["popularity_contest"], ["limit_layers", maxLayers - 1 - fromImageLayers]]
//    (the same layers the older referencesByPopularity + jq path made);
//  * `pipeline`: the document's own `pipeline` (or one given as the `pipeline`
//    option), falling back to the default above, exactly as
//    flatten_references_graph runs it.
// Both honour the document's exclude_paths unless `exclude` is given.
import type { ClosureDocument } from "../graph/document.js";
import { UsageError } from "../errors.js";
import { defaultPipeline, layersForDocument, pipelineFor } from "../pipeline/index.js";
import { availableLayers, type Strategy, type StrategyOptions, type StrategyResult } from "./types.js";

/** nixpkgs' default pipeline for maxLayers / fromImage layers, with its build-time check. */
export function defaultPipelineFor(maxLayers = 100, fromImageLayers = 0) {
  try {
    return defaultPipeline(availableLayers(maxLayers, fromImageLayers));
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
}

export const popularityStrategy: Strategy = {
  name: "popularity",
  summary: "nixpkgs' default: popularity_contest, then limit_layers maxLayers-1-fromImageLayers (referencesByPopularity order)",
  plan(doc: ClosureDocument, options: StrategyOptions): StrategyResult {
    const pipeline = defaultPipelineFor(options.maxLayers, options.fromImageLayers);
    return { layers: layersForDocument(doc, { pipeline, exclude: options.exclude, kernels: options.kernels }), detail: { pipeline } };
  },
};

export const pipelineStrategy: Strategy = {
  name: "pipeline",
  summary: "the document's layeringPipeline (or --pipeline), run as nixpkgs' flatten_references_graph does",
  plan(doc: ClosureDocument, options: StrategyOptions): StrategyResult {
    const lenient = options.lenient === true;
    const pipeline =
      options.pipeline !== undefined
        ? pipelineFor(doc, { pipeline: options.pipeline })
        : options.maxLayers !== undefined || options.fromImageLayers !== undefined
          ? defaultPipelineFor(options.maxLayers, options.fromImageLayers)
          : pipelineFor(doc);
    return { layers: layersForDocument(doc, { pipeline, exclude: options.exclude, kernels: options.kernels, lenient }), detail: { pipeline } };
  },
};
