// A pool of strata workers that spreads many images over the cores. Each
// worker runs one task at a time; tasks wait in order for a free worker.
// A worker that dies rejects its task with a WorkerCrashedError and is
// replaced by a fresh one, so the rest of the queue carries on.
import { UsageError } from "../errors.js";
import type { ClosureDocument } from "../graph/document.js";
import type { Layers } from "../strategies/types.js";
import { StrataWorker, type WorkerHost } from "./client.js";
import { WorkerCrashedError } from "./errors.js";
import type { NamedClosure, Planner } from "../evaluate/evaluate.js";
import type { ClosureInput, EvaluationRequest, LayerRequest, LayerResult, PlannerSpec } from "./service.js";

export interface PoolOptions {
  /** Number of workers (started on demand). */
  readonly size: number;
  /** Starts one worker (Node: spawnNodeWorker; browser: spawnWebWorker). */
  readonly spawn: () => WorkerHost;
  /** Compiled kernels module posted to every worker, so none compiles it again. */
  readonly module?: WebAssembly.Module;
}

/** One image for layerMany: its bytes (transferred) or a parsed document, and a name for messages. */
export type PoolClosure = ClosureInput | { readonly doc: ClosureDocument; readonly name?: string } | { readonly input: ClosureInput; readonly name?: string };

export class StrataPool {
  readonly size: number;
  /** Workers started to replace dead ones. */
  replaced = 0;
  private readonly idle: StrataWorker[] = [];
  private readonly waiting: ((w: StrataWorker) => void)[] = [];
  private readonly ready = new Map<StrataWorker, Promise<void>>();
  private started = 0;
  private closed = false;

  constructor(private readonly options: PoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new UsageError(`pool size must be a whole number >= 1, got ${options.size}`);
    this.size = options.size;
  }

  /** Runs `task` on the next free worker. */
  async run<T>(task: (worker: StrataWorker) => Promise<T>): Promise<T> {
    const worker = await this.acquire();
    try {
      await this.ready.get(worker);
      return await task(worker);
    } finally {
      this.giveBack(worker);
    }
  }

  /**
   * Plans layers for many images in parallel; results in input order. One
   * request for all, or one per image. Rejects with the first failure (a
   * crashed worker's WorkerCrashedError names the image).
   */
  layerMany(closures: readonly PoolClosure[], request: LayerRequest | readonly LayerRequest[] = {}): Promise<LayerResult[]> {
    return Promise.all(
      closures.map((c, i) => {
        const req = Array.isArray(request) ? (request as readonly LayerRequest[])[i] : (request as LayerRequest);
        return this.run((w) => withClosure(w, c, i, (id) => w.layer(id, req)));
      }),
    );
  }

  /**
   * The plans one planner makes for a list of closures, in one worker (a
   * stateful planner needs the versions in order); see StrataService.plans.
   */
  plans(closures: readonly PoolClosure[], planner: PlannerSpec, request: EvaluationRequest = {}, chained = true): Promise<Layers[]> {
    return this.run(async (w) => {
      const ids: number[] = [];
      try {
        for (let i = 0; i < closures.length; i++) ids.push((await load(w, closures[i], i)).id);
        return await w.plans(ids, planner, request, chained);
      } finally {
        if (w.failed === undefined) for (const id of ids) await w.release(id);
      }
    });
  }

  /**
   * Planners for evaluateSeries / evaluateImages whose plans were made in the
   * pool. Each closure is sent to one worker, which runs every planner that
   * plans closures independently; a stateful planner ("NAME+previous") in a
   * series gets one worker for the whole chain. The documents must be the
   * objects later handed to the evaluation.
   */
  async planners(
    closures: readonly NamedClosure[],
    specs: readonly PlannerSpec[],
    request: EvaluationRequest = {},
    mode: "series" | "images" = "series",
  ): Promise<Planner[]> {
    const index = new Map(closures.map((c, i) => [c.doc, i] as const));
    const chained = specs.filter((s) => mode === "series" && (s.strategy ?? s.name).includes("+previous"));
    const each = specs.filter((s) => !chained.includes(s));
    const [perClosure, chains] = await Promise.all([
      each.length === 0
        ? Promise.resolve([] as Layers[][])
        : Promise.all(
            closures.map((c) =>
              this.run(async (w) => {
                const { id } = await w.loadDocument(c.doc, c.name);
                try {
                  return await w.planEach(id, each, request);
                } finally {
                  if (w.failed === undefined) await w.release(id);
                }
              }),
            ),
          ),
      Promise.all(
        chained.map((spec) =>
          this.plans(
            closures.map((c) => ({ doc: c.doc, name: c.name })),
            spec,
            request,
            true,
          ),
        ),
      ),
    ]);
    return specs.map((spec) => {
      const e = each.indexOf(spec);
      const c = chained.indexOf(spec);
      return {
        name: spec.name,
        plan(doc: ClosureDocument): Layers {
          const i = index.get(doc);
          if (i === undefined) throw new Error(`pooled planner ${spec.name}: a document it was not given`);
          return e >= 0 ? perClosure[i][e] : chains[c][i];
        },
      };
    });
  }

  /** Terminates every worker; queued tasks reject. */
  close(): void {
    this.closed = true;
    for (const w of this.ready.keys()) w.terminate();
    this.ready.clear();
    this.idle.length = 0;
  }

  private acquire(): Promise<StrataWorker> {
    if (this.closed) return Promise.reject(new Error("the strata pool is closed"));
    const free = this.idle.pop();
    if (free !== undefined) return Promise.resolve(free);
    if (this.started < this.size) return Promise.resolve(this.start());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private giveBack(worker: StrataWorker): void {
    let next = worker;
    if (worker.failed !== undefined) {
      this.ready.delete(worker);
      worker.terminate();
      this.started--;
      if (this.closed) return;
      this.replaced++;
      // Replace only when someone waits; otherwise acquire starts one on demand.
      if (this.waiting.length === 0) return;
      next = this.start();
    }
    if (this.closed) return;
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter(next);
    else this.idle.push(next);
  }

  private start(): StrataWorker {
    this.started++;
    const worker = new StrataWorker(this.options.spawn());
    // A failed init is reported by the first task that uses the worker.
    const init = worker.init(this.options.module === undefined ? {} : { module: this.options.module }).then(() => undefined);
    init.catch(() => undefined);
    this.ready.set(worker, init);
    return worker;
  }
}

async function load(w: StrataWorker, c: PoolClosure, i: number) {
  if (typeof c === "object" && c !== null && "doc" in c) return w.loadDocument(c.doc, c.name ?? `closure ${i}`);
  if (typeof c === "object" && c !== null && "input" in c) return w.load(c.input, c.name ?? `closure ${i}`);
  return w.load(c as ClosureInput, `closure ${i}`);
}

async function withClosure<T>(w: StrataWorker, c: PoolClosure, i: number, fn: (id: number) => Promise<T>): Promise<T> {
  let id: number | undefined;
  try {
    id = (await load(w, c, i)).id;
    return await fn(id);
  } catch (e) {
    if (w.failed !== undefined && e === w.failed) {
      const name = typeof c === "object" && c !== null && "name" in c && typeof c.name === "string" ? c.name : `closure ${i}`;
      throw new WorkerCrashedError(`${(e as Error).message} (while planning ${name})`, (e as WorkerCrashedError).cause);
    }
    throw e;
  } finally {
    if (id !== undefined && w.failed === undefined) await w.release(id);
  }
}
