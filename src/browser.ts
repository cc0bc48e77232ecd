// The browser entry of the library (ESM bundle: dist-web/lib/strata.js).
// Everything here is platform-neutral: no Node built-ins, so nothing from
// src/io/node.ts, src/cli/ or src/worker/node.ts. The Wasm kernels are inlined.
//
// Heavy work belongs in a Web Worker: the bundle ships one
// (dist-web/lib/strata-worker.js), driven through createWebWorker:
//   const w = createWebWorker(() => new Worker(new URL("./strata-worker.js", import.meta.url), { type: "module" }));
//   const info = await w.load(await file.arrayBuffer(), file.name);
//   const { layers } = await w.layer(info.id, { strategy: "auto-layer" });
export { InputError, PipelineError, UsageError, StrataError, isStrataError } from "./errors.js";
export { readClosureDocument, parseJsonText, type ClosureDocument, type ClosureEntry, type ClosureFormat } from "./graph/document.js";
export { Closure } from "./graph/closure.js";
export { isGzip, gunzipWeb, decodeUtf8 } from "./io/decode.js";
export { kernels, tsKernels, WasmKernels, type BackendName, type Kernels } from "./kernels/index.js";
export { wasmModule, wasmBytes } from "./wasm/load.js";
export { strategies, findStrategy, defaultStrategyName, type Strategy, type StrategyOptions, type StrategyResult, type Layers } from "./strategies/index.js";
export { availableLayers } from "./strategies/types.js";
export {
  parsePipeline,
  checkPipeline,
  layersForDocument,
  pipelineExtensions,
  pipelineToJson,
  defaultPipeline,
  type Pipeline,
  type Step,
  type Issue,
} from "./pipeline/index.js";
export { evaluateSeries, evaluateImages, type SeriesEvaluation, type ImagesEvaluation, type Planner } from "./evaluate/evaluate.js";
export { seriesHtml, imagesHtml, seriesTable, imagesTable, htmlPage } from "./evaluate/render.js";
export { formatLayersIndented, formatLayersCompact } from "./format/python-json.js";
export { formatBytes, escapeHtml } from "./report/format.js";
export { groupedBarChart, logLineChart } from "./report/svg.js";
// Workers: the same service runs in Node worker_threads and in Web Workers.
export { StrataService, type ClosureInfo, type ClosureInput, type LayerRequest, type LayerResult, type StrategyInfo, type EvaluationRequest } from "./worker/service.js";
export { StrataWorker, type StrataRemote, type WorkerHost } from "./worker/client.js";
export { StrataPool, type PoolOptions, type PoolClosure } from "./worker/pool.js";
export { WorkerCrashedError } from "./worker/errors.js";
export { webWorkerHost, createWebWorker } from "./worker/web.js";
export { strategyPlanner, pipelinePlanner } from "./worker/planners.js";
export type { Explanation } from "./worker/explain.js";
