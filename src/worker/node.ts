// Node side of the worker API: start worker threads, wrap them, pool them.
// Node-only (node:worker_threads, node:os); the browser entry never imports it.
import { availableParallelism } from "node:os";
import { Worker, type ResourceLimits } from "node:worker_threads";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { wasmModule } from "../wasm/load.js";
import { StrataWorker, type WorkerHost } from "./client.js";
import { StrataPool } from "./pool.js";

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
  let stopping = false;
  let reported = false;
  const listeners: ((e: Error) => void)[] = [];
  const report = (e: Error) => {
    if (stopping || reported) return;
    reported = true;
    for (const l of listeners) l(e);
  };
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
    onFailure: (l) => void listeners.push(l),
    terminate() {
      stopping = true;
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
