// The browser entry of the library (ESM bundle: dist-web/lib/strata.js): the
// public, browser-safe API (src/index.ts) plus the Web Worker side of the
// worker API. Nothing here may import Node built-ins (src/io/node.ts,
// src/cli/, src/worker/node.ts); scripts/web-build.mjs fails the build if
// anything does. The Wasm kernels are inlined.
//
// Heavy work belongs in a Web Worker; the bundle ships one
// (dist-web/lib/strata-worker.js):
//   const w = createWebWorker(() => new Worker(new URL("./strata-worker.js", import.meta.url), { type: "module" }));
//   const info = await w.load(await file.arrayBuffer(), file.name); // transferred, not copied
//   const { layers } = await w.layer(info.id, { strategy: "auto-layer" });
export * from "./index.js";
export { StrataService } from "./worker/service.js";
export type {
  ClosureInfo,
  ClosureInput,
  LayerRequest,
  LayerResult,
  StrategyInfo,
  EvaluationRequest,
  SeriesResult,
  ImagesResult,
  InitOptions,
} from "./worker/service.js";
export { StrataWorker, type StrataRemote, type WorkerHost } from "./worker/client.js";
export { StrataPool, type PoolOptions, type PoolClosure } from "./worker/pool.js";
export { WorkerCrashedError } from "./worker/errors.js";
export { webWorkerHost, createWebWorker } from "./worker/web.js";
export { strategyPlanner, pipelinePlanner } from "./evaluate/planners.js";
export type { Explanation, Fact } from "./explain/index.js";
