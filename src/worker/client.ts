// The caller's side of a strata worker: a typed facade over comlink's Remote
// that also notices when the worker dies. comlink alone would leave a call to
// a crashed worker pending forever; here every pending call rejects with a
// WorkerCrashedError naming the cause, and later calls reject at once.
import { releaseProxy, transfer, wrap, type Endpoint, type Remote } from "comlink";
import type { ClosureDocument } from "../graph/document.js";
import type { Layers } from "../strategies/types.js";
import type { FleetOptions, FleetPlan } from "../fleet/plan.js"; // issue 16
import { WorkerCrashedError } from "./errors.js";
import type { Explanation } from "../explain/index.js";
import type {
  ClosureInfo,
  ClosureInput,
  EvaluationRequest,
  ImagesResult,
  InitOptions,
  LayerRequest,
  LayerResult,
  PlannerSpec,
  SeriesResult,
  StrataService,
  StrategyInfo,
} from "./service.js";

/** The typed remote interface of a worker (every method returns a promise). */
export type StrataRemote = Remote<StrataService>;

/** A started worker of either kind (Node worker_threads, browser Worker). */
export interface WorkerHost {
  readonly endpoint: Endpoint;
  /** Registers the listener for an unrequested death (crash, out of memory, exit). */
  onFailure(listener: (error: Error) => void): void;
  terminate(): void;
  /** Told whether calls are pending (Node: keep the process alive only while busy). */
  busy?(busy: boolean): void;
}

/**
 * The failure half of a WorkerHost: reports the first unrequested death to the
 * registered listeners, and nothing once `stopping()` was called (a requested
 * terminate is not a failure).
 */
export function failureReporter(): {
  report(error: Error): void;
  onFailure(listener: (error: Error) => void): void;
  stopping(): void;
} {
  let stopping = false;
  let reported = false;
  const listeners: ((e: Error) => void)[] = [];
  return {
    report(e) {
      if (stopping || reported) return;
      reported = true;
      for (const l of listeners) l(e);
    },
    onFailure: (l) => void listeners.push(l),
    stopping: () => void (stopping = true),
  };
}

export class StrataWorker {
  /** comlink's proxy; prefer the methods below, which fail fast when the worker dies. */
  readonly remote: StrataRemote;
  private failure: Error | undefined;
  private readonly pending = new Set<(e: Error) => void>();

  constructor(private readonly host: WorkerHost) {
    this.remote = wrap<StrataService>(host.endpoint);
    host.onFailure((cause) => this.fail(new WorkerCrashedError(`strata worker crashed: ${cause.message}`, cause)));
  }

  /** Set once the worker has died or was terminated. */
  get failed(): Error | undefined {
    return this.failure;
  }

  init(options: InitOptions = {}): Promise<{ backend: string }> {
    return this.call((r) => r.init(options));
  }

  strategies(): Promise<StrategyInfo[]> {
    return this.call((r) => r.strategies());
  }

  /**
   * Loads a closure. Bytes are transferred, not copied: afterwards the given
   * ArrayBuffer is detached (a view over part of a larger buffer is copied first).
   * A Blob or File crosses by reference and the worker reads it piece by piece,
   * so a closure larger than one buffer (or one string) can load.
   */
  load(input: ClosureInput, name?: string): Promise<ClosureInfo> {
    if (typeof input !== "string" && (input instanceof ArrayBuffer || ArrayBuffer.isView(input))) {
      const buffer = ownBuffer(input);
      return this.call((r) => r.load(transfer(buffer, [buffer]), name));
    }
    return this.call((r) => r.load(input, name));
  }

  loadDocument(doc: ClosureDocument, name?: string): Promise<ClosureInfo> {
    return this.call((r) => r.loadDocument(doc, name));
  }

  paths(id: number): Promise<string[]> {
    return this.call((r) => r.paths(id));
  }

  layer(id: number, request?: LayerRequest): Promise<LayerResult> {
    return this.call((r) => r.layer(id, request));
  }

  explain(id: number, path: string, request?: LayerRequest): Promise<Explanation> {
    return this.call((r) => r.explain(id, path, request));
  }

  evaluateSeries(ids: readonly number[], request?: EvaluationRequest): Promise<SeriesResult> {
    return this.call((r) => r.evaluateSeries(ids, request));
  }

  evaluateImages(ids: readonly number[], request?: EvaluationRequest): Promise<ImagesResult> {
    return this.call((r) => r.evaluateImages(ids, request));
  }

  /** Joint plan of several loaded closures (issue 16). */
  fleet(ids: readonly number[], options?: FleetOptions, budgets?: Readonly<Record<number, number>>): Promise<FleetPlan> {
    return this.call((r) => r.fleet(ids, options, budgets));
  }

  plans(ids: readonly number[], planner: PlannerSpec, request?: EvaluationRequest, chained?: boolean): Promise<Layers[]> {
    return this.call((r) => r.plans(ids, planner, request, chained));
  }

  planEach(id: number, planners: readonly PlannerSpec[], request?: EvaluationRequest): Promise<Layers[]> {
    return this.call((r) => r.planEach(id, planners, request));
  }

  release(id: number): Promise<boolean> {
    return this.call((r) => r.release(id));
  }

  /** Stops the worker; pending calls reject. */
  terminate(): void {
    if (this.failure === undefined) this.fail(new WorkerCrashedError("strata worker was terminated"));
    this.remote[releaseProxy]();
    this.host.terminate();
  }

  /** Runs one remote call, rejecting if the worker dies first. */
  private call<T>(fn: (remote: StrataRemote) => Promise<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      if (this.pending.size === 1) this.host.busy?.(true);
      const settle = () => {
        this.pending.delete(reject);
        if (this.pending.size === 0) this.host.busy?.(false);
      };
      fn(this.remote).then(
        (v) => {
          settle();
          resolve(v);
        },
        (e: unknown) => {
          settle();
          reject(e);
        },
      );
    });
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    for (const reject of this.pending) reject(error);
    this.pending.clear();
    this.host.busy?.(false);
  }
}

/** An ArrayBuffer holding exactly these bytes, safe to transfer. */
function ownBuffer(input: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (input instanceof ArrayBuffer) return input;
  const whole = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
  if (whole) return input.buffer as ArrayBuffer;
  return new Uint8Array(input.buffer, input.byteOffset, input.byteLength).slice().buffer;
}
