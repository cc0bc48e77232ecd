// Browser side of the worker API: wrap a module Web Worker as a WorkerHost.
// The page creates the Worker itself, so its bundler sees the entry URL:
//   spawnWebWorker(() => new Worker(new URL("strata/worker", import.meta.url), { type: "module" }))
import { failureReporter, StrataWorker, type WorkerHost } from "./client.js";

/** Wraps a Web Worker. Browsers report worker crashes only as `error` events: any is treated as fatal. */
export function webWorkerHost(worker: Worker): WorkerHost {
  const { report, onFailure, stopping } = failureReporter();
  worker.addEventListener("error", (e: ErrorEvent) => {
    e.preventDefault();
    report(new Error(e.message || "the worker failed (an error event without a message: crash, out of memory or a failed load)"));
  });
  worker.addEventListener("messageerror", () => report(new Error("a message from the worker could not be deserialized")));
  return {
    endpoint: worker,
    onFailure,
    terminate() {
      stopping();
      worker.terminate();
    },
  };
}

export function createWebWorker(make: () => Worker): StrataWorker {
  return new StrataWorker(webWorkerHost(make()));
}
