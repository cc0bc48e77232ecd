// Node side of the worker API: start worker threads, wrap them, pool them.
// Node-only (node:worker_threads, node:os); the browser entry never imports it.
import { availableParallelism } from "node:os";
import { Worker, type ResourceLimits } from "node:worker_threads";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { wasmModule } from "../wasm/load.js";
import { failureReporter, StrataWorker, type WorkerHost } from "./client.js";
import { StrataPool } from "./pool.js";
import type { NamedClosure, Planner } from "../evaluate/evaluate.js";
import type { EvaluationRequest, PlannerSpec } from "./service.js";

export interface NodeWorkerOptions {
  /** V8 heap limits of the thread; exceeding them kills the worker (ERR_WORKER_OUT_OF_MEMORY). */
  readonly resourceLimits?: ResourceLimits;
}

export interface NodeWorkerHost extends WorkerHost {
  /** The thread itself (e.g. to watch its resource usage). */
  readonly thread: Worker;
}

/** Starts a worker thread running node-entry.js, as a WorkerHost. */
export function spawnNodeWorker(options: NodeWorkerOptions = {}): NodeWorkerHost {
  const worker = new Worker(new URL("./node-entry.js", import.meta.url), { resourceLimits: options.resourceLimits });
  const { report, onFailure, stopping } = failureReporter();
  worker.on("error", (e: Error) => {
    const code = (e as NodeJS.ErrnoException).code;
    report(new Error(code ? `${e.message} (${code})` : e.message));
  });
  worker.on("messageerror", (e: Error) => report(new Error(`message could not be deserialized: ${e.message}`)));
  worker.on("exit", (code) => report(new Error(`the worker thread exited with code ${code}`)));
  // An idle worker must not keep the process alive, a busy one must. Adding
  // a message listener refs the worker again, so the state is re-applied
  // after comlink adds its own.
  let busy = false;
  const apply = () => (busy ? worker.ref() : worker.unref());
  const endpoint = nodeEndpoint(worker);
  const addEventListener = endpoint.addEventListener.bind(endpoint);
  endpoint.addEventListener = (type, listener, options) => {
    addEventListener(type, listener, options);
    apply();
  };
  apply();
  return {
    thread: worker,
    endpoint,
    busy(b) {
      busy = b;
      apply();
    },
    onFailure,
    terminate() {
      stopping();
      void worker.terminate();
    },
  };
}

/** A worker thread with the kernels module posted in (compiled once per process). */
export async function createNodeWorker(options: NodeWorkerOptions = {}): Promise<StrataWorker> {
  const worker = new StrataWorker(spawnNodeWorker(options));
  await worker.init({ module: wasmModule() });
  return worker;
}

export interface NodePoolOptions extends NodeWorkerOptions {
  /** Default: the number of cores (os.availableParallelism). */
  readonly size?: number;
}

export function createNodePool(options: NodePoolOptions = {}): StrataPool {
  return new StrataPool({
    size: options.size ?? Math.max(1, availableParallelism()),
    spawn: () => spawnNodeWorker(options),
    module: wasmModule(),
  });
}

/** layerMany on a temporary pool: plans every closure, spread over the cores. */
export async function layerMany(...args: Parameters<StrataPool["layerMany"]>): ReturnType<StrataPool["layerMany"]> {
  const pool = createNodePool({ size: Math.min(Math.max(1, availableParallelism()), Math.max(1, args[0].length)) });
  try {
    return await pool.layerMany(...args);
  } finally {
    pool.close();
  }
}

/**
 * When `strata evaluate` plans in worker threads. Each worker starts cold
 * (imports, JIT) and receives a structured clone of its documents, and a
 * planner run on one closure cannot be split: on a 2-core machine the pool
 * lost in every case measured (desktop series, 11 x 1,480 paths x 4
 * planners: 2.3-3.0 s vs 0.5-2.0 s; archive + 6 images x 4: 5.3 s vs 2.7 s).
 * So the pool is used only with 4+ cores and 200k+ planned paths
 * (paths per closure x closures x planners), where several large closures
 * can run side by side.
 */
export const WORKER_EVALUATION_MIN_CORES = 4;
export const WORKER_EVALUATION_MIN_WORK = 200_000;

/**
 * `strata evaluate`'s planning spread over worker threads (StrataPool.planners),
 * when that helps: see WORKER_EVALUATION_MIN_*. Returns undefined when
 * planning in this thread is the better choice. The plans are the ones the
 * planners would make here.
 */
export async function plannersInWorkers(
  closures: readonly NamedClosure[],
  specs: readonly PlannerSpec[],
  request: EvaluationRequest,
  mode: "series" | "images",
  options: { readonly cores?: number; readonly minCores?: number; readonly minWork?: number } = {},
): Promise<Planner[] | undefined> {
  const cores = options.cores ?? availableParallelism();
  const paths = closures.reduce((a, c) => a + c.doc.entries.length, 0);
  if (cores < (options.minCores ?? WORKER_EVALUATION_MIN_CORES) || closures.length * specs.length < 2) return undefined;
  if (paths * specs.length < (options.minWork ?? WORKER_EVALUATION_MIN_WORK)) return undefined;
  const pool = createNodePool({ size: Math.max(1, Math.min(cores, closures.length * specs.length)) });
  try {
    return await pool.planners(closures, specs, request, mode);
  } catch {
    // Errors lose their class on the way back; planning here again reports
    // the failure exactly as the sequential path does.
    return undefined;
  } finally {
    pool.close();
  }
}
