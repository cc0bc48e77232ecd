// nixpkgs' layering through its pipeline language. Two registry entries:
//  * `popularity`: dockerTools' default when no layeringPipeline is set,
//    [["popularity_contest"], ["limit_layers", maxLayers - 1 - fromImageLayers]]
//    (the same layers the older referencesByPopularity + jq path made);
//  * `pipeline`: the document's own `pipeline` (or one given as the `pipeline`
//    option), falling back to the default above, exactly as
//    flatten_references_graph runs it.
// Both honour the document's exclude_paths unless `exclude` is given.
import type { ClosureDocument } from "../graph/document.js";
import {
  assertPipelineValid,
  defaultPipeline,
  layersForDocument,
  parsePipeline,
  pipelineExtensions,
  pipelineFor,
  pipelineToJson,
  type ExtensionRegistry,
  type Pipeline,
} from "../pipeline/index.js";
import { availableLayers, defineStrategy, type ExplainContext, type StrategyOptions, type StrategyResult } from "./types.js";

/** nixpkgs' default pipeline for maxLayers / fromImage layers, with its build-time check. */
export function defaultPipelineFor(maxLayers = 100, fromImageLayers = 0) {
  return defaultPipeline(availableLayers(maxLayers, fromImageLayers));
}

export interface PipelineDetail {
  /** The pipeline that ran. */
  readonly pipeline: Pipeline;
}

export interface PipelineOptions extends StrategyOptions {
  /** A pipeline (nixpkgs JSON, or a parsed model) instead of the document's. */
  readonly pipeline?: unknown;
  /** "over" on a key the data lacks passes the data through (nixpkgs: KeyError). */
  readonly lenient?: boolean;
  /** The extension steps the pipeline may use (default: the shared registry). */
  readonly extensions?: ExtensionRegistry;
}

/** Why a path sits where it does under a pipeline: popularity_contest + limit_layers is spelled out. */
function explainPipeline(detail: PipelineDetail | undefined, cx: ExplainContext): void {
  const pipeline = detail?.pipeline;
  const n = cx.closure.n;
  const rank = cx.popularityRank;
  if (pipeline !== undefined) cx.fact("pipeline", JSON.stringify(pipelineToJson(pipeline)));
  const limit = pipeline?.length === 2 && pipeline[0].op === "popularity_contest" && pipeline[1].op === "limit_layers" ? pipeline[1].count : undefined;
  if (limit !== undefined) {
    cx.why(
      rank < limit
        ? `popularity_contest ranks it #${rank} of ${n}; limit_layers ${limit} gives each of the ${limit - 1} most popular paths its own layer.`
        : `popularity_contest ranks it #${rank} of ${n}, below the ${limit - 1} most popular paths, so limit_layers ${limit} merges it into the last layer.`,
    );
  } else {
    cx.why(`The pipeline decides; popularity_contest would rank it #${rank} of ${n}.`);
  }
}

export const popularityStrategy = defineStrategy<StrategyOptions, PipelineDetail>({
  name: "popularity",
  summary: "nixpkgs' default: popularity_contest, then limit_layers maxLayers-1-fromImageLayers (referencesByPopularity order)",
  plan(doc: ClosureDocument, options: StrategyOptions): StrategyResult<PipelineDetail> {
    const pipeline = defaultPipelineFor(options.maxLayers, options.fromImageLayers);
    return { layers: layersForDocument(doc, { pipeline, exclude: options.exclude, kernels: options.kernels }), detail: { pipeline } };
  },
  explain: explainPipeline,
});

export const pipelineStrategy = defineStrategy<PipelineOptions, PipelineDetail>({
  name: "pipeline",
  summary: "the document's layeringPipeline (or --pipeline), run as nixpkgs' flatten_references_graph does",
  takesPipeline: true,
  // Its options join the common "Strategy:" block of the help.
  options: [
    {
      flag: "pipeline",
      type: "string",
      helpAfter: "strategy",
      help: `  --pipeline P            (pipeline) run pipeline P: inline JSON or a file (a
                          pipeline list, or a document with a "pipeline" key)`,
      async parse(value, cx) {
        // Read and checked first: a broken pipeline fails before the closure is read.
        const json = await cx.readPipeline(value as string, "--pipeline");
        assertPipelineValid(parsePipeline(json, { extensions: pipelineExtensions }), { lenient: cx.values.lenient === true });
        return { pipeline: json };
      },
    },
    {
      flag: "lenient",
      type: "boolean",
      helpAfter: "exclude",
      help: `  --lenient               (pipeline) "over" on a key the data lacks passes the
                          data through (nixpkgs: KeyError)`,
      parse: (value) => (value === true ? { lenient: true } : {}),
    },
  ],
  plan(doc: ClosureDocument, options: PipelineOptions): StrategyResult<PipelineDetail> {
    const lenient = options.lenient === true;
    const extensions = options.extensions;
    const pipeline =
      options.pipeline !== undefined
        ? pipelineFor(doc, { pipeline: options.pipeline, extensions })
        : options.maxLayers !== undefined || options.fromImageLayers !== undefined
          ? defaultPipelineFor(options.maxLayers, options.fromImageLayers)
          : pipelineFor(doc, { extensions });
    return { layers: layersForDocument(doc, { pipeline, exclude: options.exclude, kernels: options.kernels, lenient, extensions }), detail: { pipeline } };
  },
  explain: explainPipeline,
});
