// strata's public library API. Browser-safe: nothing here imports Node
// built-ins (file and stdin reading live in "strata/node").
export { StrataError, InputError, PipelineError, UsageError, isStrataError } from "./errors.js";

// Reading closures and the graph model
export { readClosureDocument, parseJsonText } from "./graph/document.js";
export type { ClosureDocument, ClosureEntry, ClosureFormat, ReadOptions } from "./graph/document.js";
export { Closure } from "./graph/closure.js";
export type { ClosureOptions } from "./graph/closure.js";
export { csrFromLists, assertCsr } from "./graph/csr.js";
export type { CsrGraph } from "./graph/csr.js";
export { isGzip, gunzipWeb, decodeUtf8 } from "./io/decode.js";
export { readClosureWeb, type WebClosureSource } from "./io/stream-web.js";
export { readClosureChunks, ClosureStreamParser, type ChunkReadOptions, type StreamReadOptions } from "./io/stream-json.js";

// Kernels (Wasm and their TypeScript twins)
export { kernels, tsKernels, WasmKernels } from "./kernels/index.js";
export type { BackendName, GraphRef, Kernels } from "./kernels/index.js";
export { wasmModule, wasmBytes, instantiateKernels } from "./wasm/load.js";

// nixpkgs' pipeline language
export * from "./pipeline/index.js";

// Strategies
export { strategies, findStrategy, defaultStrategyName, strategyRegistry, StrategyRegistry } from "./strategies/index.js";
export type { Strategy, StrategyOptions, StrategyResult, Layers, AnyStrategy, OptionDescriptor } from "./strategies/index.js";
export { availableLayers, defineStrategy } from "./strategies/types.js";
export type { ExplainContext, HelpSection, OptionContext, StepDescriptor } from "./strategies/types.js";
export { explainPath, explainPlannedPath, explanationRows, popularityRanks } from "./explain/index.js";
export type { Explanation, FullExplanation, Fact } from "./explain/index.js";
export { autoLayer, autoLayerLimit, autoLayerStrategy } from "./strategies/auto-layer/index.js";
export { nixeryLayers, nixeryStrategy, popcount } from "./strategies/nixery/index.js";
export type { NixeryOptions, NixeryResult } from "./strategies/nixery/index.js";
export { minPullLayers, minPullStrategy } from "./strategies/min-pull/index.js";
export type { MinPullOptions, MinPullResult } from "./strategies/min-pull/index.js";
export { buildChangeModel, learnFromHistory } from "./model/change.js";
export { planWithGroups, parseGroupArgument, compileMatcher } from "./strategies/groups.js";
export type { GroupSpec, GroupOptions, GroupedPlan } from "./strategies/groups.js";
export { orderStableFirst, layerChangeProbabilities } from "./strategies/order.js";

// Evaluation and output
export { evaluateSeries, evaluateImages, updateCost } from "./evaluate/evaluate.js";
export type { Planner, SeriesEvaluation, ImagesEvaluation, UpdateCost } from "./evaluate/evaluate.js";
export { seriesTable, imagesTable, seriesHtml, imagesHtml, htmlPage } from "./evaluate/render.js";
export { formatLayersIndented, formatLayersCompact, pyJsonString, pyJsonDumps } from "./format/python-json.js";

// Fleets: joint planning of many images (issue 16)
export * from "./fleet/index.js";
