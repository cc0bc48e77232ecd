// Layers compressed in parallel: a few worker threads (one per core by
// default, never more than there are layers to build) take layer jobs from one
// queue. Each job streams its layer's tar through the compressor into a file
// inside the worker (writeLayerBlob), so the main thread only schedules,
// reports progress and collects digests. The threads reuse src/worker/'s
// pieces: comlink over the Node adapter, the failure reporter that turns an
// unrequested thread death into an error for the pending call, and the error
// fields (code, path) that survive the trip back.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { proxy, releaseProxy, wrap, type Remote } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { BuildError, StrataError, type BuildErrorCode } from "../../errors.js";
import { failureReporter } from "../../worker/client.js";
import { WorkerCrashedError } from "../../worker/errors.js";
import { writeLayerBlob, type LayerBlobRequest, type LayerBlobResult } from "../compress/layer.js";
import type { LayerWorkerApi } from "./worker-entry.js";

export interface ParallelOptions {
  /** Worker threads (default: available cores); 0 runs every job in this thread. */
  readonly workers?: number;
  /** Called with tar bytes as they are compressed (any job). */
  readonly onTarBytes?: (bytes: number) => void;
}

/** Builds each request's blob; results in request order. Rejects with the first failure. */
export async function writeLayerBlobs(requests: readonly LayerBlobRequest[], options: ParallelOptions = {}): Promise<LayerBlobResult[]> {
  const results: LayerBlobResult[] = new Array(requests.length);
  if (requests.length === 0) return results;
  const wanted = options.workers ?? availableParallelism();
  if (!Number.isInteger(wanted) || wanted < 0) throw new BuildError("bad-option", `workers: expected a whole number >= 0, got ${wanted}`);
  if (wanted === 0) {
    for (let i = 0; i < requests.length; i++) results[i] = await writeLayerBlob(requests[i], options.onTarBytes);
    return results;
  }
  const n = Math.min(wanted, requests.length);
  const threads = Array.from({ length: n }, () => startThread());
  let next = 0;
  let failed: unknown;
  const onBytes = options.onTarBytes === undefined ? undefined : proxy(options.onTarBytes);
  try {
    await Promise.all(
      threads.map(async (t) => {
        while (failed === undefined && next < requests.length) {
          const i = next++;
          try {
            results[i] = await t.call(requests[i], onBytes);
          } catch (e) {
            failed ??= e;
          }
        }
      }),
    );
  } finally {
    for (const t of threads) t.stop();
  }
  if (failed !== undefined) throw rebuildError(failed);
  return results;
}

interface Thread {
  call(req: LayerBlobRequest, onBytes?: (bytes: number) => void): Promise<LayerBlobResult>;
  stop(): void;
}

function startThread(): Thread {
  const worker = new Worker(new URL("./worker-entry.js", import.meta.url));
  const { report, onFailure, stopping } = failureReporter();
  worker.on("error", (e: Error) => report(e));
  worker.on("exit", (code) => report(new Error(`the layer worker thread exited with code ${code}`)));
  const remote: Remote<LayerWorkerApi> = wrap<LayerWorkerApi>(nodeEndpoint(worker));
  let crash: ((e: Error) => void) | undefined;
  onFailure((e) => crash?.(new WorkerCrashedError(`strata layer worker crashed: ${e.message}`, e)));
  return {
    call(req, onBytes) {
      return new Promise<LayerBlobResult>((resolve, reject) => {
        crash = reject;
        remote.writeLayerBlob(req, onBytes).then(resolve, reject);
      });
    },
    stop() {
      stopping();
      remote[releaseProxy]();
      void worker.terminate();
    },
  };
}

/** A worker's StrataError arrives as a plain Error with name/code/path: make it typed again. */
function rebuildError(e: unknown): unknown {
  if (e instanceof StrataError || !(e instanceof Error)) return e;
  const f = e as Error & { code?: string; path?: string };
  if (f.name === "BuildError" && typeof f.code === "string") return new BuildError(f.code as BuildErrorCode, f.message, f.path);
  return e;
}
