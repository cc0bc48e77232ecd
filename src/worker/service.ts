// What runs inside a strata worker (Node worker_threads or a browser Web
// Worker): closures are loaded once, kept by id, and any number of plans,
// explanations and evaluations run against them. Platform-neutral: no Node
// built-ins, so the browser bundle can carry it. Also usable in-process.
//
// Results are plain data (structured-clonable); layers come back as string
// arrays the caller owns.
import { UsageError } from "../errors.js";
import { evaluateImages, evaluateSeries, layerBytes, sizeTable, type ImagesEvaluation, type Planner, type SeriesEvaluation } from "../evaluate/evaluate.js";
import { imagesHtml, seriesHtml } from "../evaluate/render.js";
import { formatLayersIndented } from "../format/python-json.js";
import { Closure } from "../graph/closure.js";
import { parseJsonText, readClosureDocument, type ClosureDocument, type ClosureFormat } from "../graph/document.js";
import { readClosureWeb } from "../io/stream-web.js";
import { kernels as sharedKernels, tsKernels, WasmKernels, type BackendName, type Kernels } from "../kernels/index.js";
import { assertPipelineValid, parsePipeline } from "../pipeline/index.js";
import { defaultStrategyName, pipelineExtensions, strategyRegistry } from "../strategies/index.js";
import type { AnyStrategy, Layers, StrategyOptions, StrategyResult } from "../strategies/types.js";
import { instantiateKernels } from "../wasm/load.js";
import { explainPath, popularityRanks, type Explanation } from "../explain/index.js";
import { pipelinePlanner, strategyPlanner } from "../evaluate/planners.js";
import { planFleet, type FleetOptions, type FleetPlan } from "../fleet/plan.js"; // issue 16

/**
 * Closure input: JSON or gzipped JSON bytes (gzip detected by content), a Blob
 * or File of them (read piece by piece), JSON text, or a parsed value. Bytes and
 * Blobs go through the streaming reader (src/io/stream-web.ts), as files do in the CLI.
 */
export type ClosureInput = ArrayBuffer | ArrayBufferView | Blob | string | { readonly json: unknown };

export interface InitOptions {
  /** A compiled kernels module (compile once, post to every worker). */
  readonly module?: WebAssembly.Module;
  readonly backend?: BackendName;
}

export interface StrategyInfo {
  readonly name: string;
  readonly summary: string;
  readonly formats: readonly string[];
  /** It keeps a previous build's layers: evaluations offer "NAME+previous". */
  readonly takesPrevious: boolean;
  /** It runs a given pipeline (LayerRequest.pipeline); evaluations compare pipelines instead. */
  readonly takesPipeline: boolean;
}

export interface ClosureInfo {
  readonly id: number;
  readonly name: string;
  readonly format: ClosureFormat;
  readonly paths: number;
  readonly narBytes: number;
  /** The document carries a layeringPipeline (the pipeline strategy runs it). */
  readonly hasPipeline: boolean;
  readonly excludePaths: number;
  readonly roots: number;
  /** Milliseconds spent decoding, parsing and validating inside the worker. */
  readonly loadMs: number;
}

/** The `strata layer` options, as data. */
export interface LayerRequest {
  /** Default: "pipeline" (the document's pipeline, else nixpkgs' default). */
  readonly strategy?: string;
  /** Image layer limit (`--max-layers`). */
  readonly maxLayers?: number;
  readonly fromImageLayers?: number;
  /** A pipeline (nixpkgs JSON) for the pipeline strategy (`--pipeline`). */
  readonly pipeline?: unknown;
  /** Replaces the document's exclude_paths (`--exclude`). */
  readonly exclude?: readonly string[];
  readonly lenient?: boolean;
  /** Strategy-specific options (budget, popularity, ...). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Also return the output text: "nixpkgs" (the CLI's default) or a strategy format. */
  readonly format?: string;
}

export interface LayerResult {
  readonly closure: number;
  readonly strategy: string;
  /** Bottom layer first; paths in layer order. */
  readonly layers: Layers;
  readonly layerBytes: readonly number[];
  readonly totalBytes: number;
  readonly paths: number;
  /** Milliseconds planning inside the worker. */
  readonly planMs: number;
  readonly text?: string;
  readonly warnings: readonly string[];
}

export interface EvaluationRequest {
  /** Strategy names; "NAME+previous" for a stateful strategy. Default: every strategy but pipeline. */
  readonly strategies?: readonly string[];
  /** Pipelines (nixpkgs JSON) compared as extra planners. */
  readonly pipelines?: readonly unknown[];
  readonly maxLayers?: number;
  readonly fromImageLayers?: number;
}

/** One planner of an evaluation: a strategy ("NAME" or "NAME+previous") or a pipeline. */
export interface PlannerSpec {
  readonly name: string;
  /** Default: `name`. */
  readonly strategy?: string;
  readonly pipeline?: unknown;
}

export interface SeriesResult {
  readonly evaluation: SeriesEvaluation;
  /** seriesHtml: tables and SVG charts, self-contained. */
  readonly html: string;
}

export interface ImagesResult {
  readonly evaluation: ImagesEvaluation;
  readonly html: string;
}

interface Loaded {
  readonly info: ClosureInfo;
  readonly doc: ClosureDocument;
  /** The graph, built on first explain. */
  closure?: Closure;
  popularity?: { readonly values: readonly bigint[]; readonly rank: Uint32Array };
  /** The latest plan, for explain. */
  last?: { readonly request: LayerRequest; readonly strategy: AnyStrategy; readonly result: StrategyResult };
}

export class StrataService {
  private k: Kernels = sharedKernels("wasm");
  private readonly loaded = new Map<number, Loaded>();
  private nextId = 1;

  /** Picks the kernel backend; with a module, instantiates it (no compile in the worker). */
  init(options: InitOptions = {}): { backend: BackendName } {
    if (options.backend === "ts") this.k = tsKernels;
    else if (options.module !== undefined) this.k = new WasmKernels(instantiateKernels(options.module));
    return { backend: this.k.backend };
  }

  strategies(): StrategyInfo[] {
    return strategyRegistry.all().map((s) => ({
      name: s.name,
      summary: s.summary,
      formats: ["nixpkgs", ...Object.keys(s.formats ?? {})],
      takesPrevious: s.takesPrevious === true,
      takesPipeline: s.takesPipeline === true,
    }));
  }

  /** Decodes (gzip by content), parses and validates a closure; keeps it until `release`. */
  async load(input: ClosureInput, name = "closure"): Promise<ClosureInfo> {
    const start = now();
    const doc = await readInput(input, name);
    // Build the graph once now: duplicate paths, dangling references and
    // cycles surface at load time, not on the first plan.
    const closure = Closure.fromDocument(doc, { exclude: doc.excludePaths });
    return this.keep(doc, name, start, closure);
  }

  /** Keeps an already parsed document (structured-cloned in). */
  loadDocument(doc: ClosureDocument, name = "closure"): ClosureInfo {
    const start = now();
    return this.keep(doc, name, start, Closure.fromDocument(doc, { exclude: doc.excludePaths }));
  }

  info(id: number): ClosureInfo {
    return this.get(id).info;
  }

  /** The paths of a loaded closure, in document order (for search boxes). */
  paths(id: number): string[] {
    return this.get(id).doc.entries.map((e) => e.path);
  }

  release(id: number): boolean {
    return this.loaded.delete(id);
  }

  /** Plans layers exactly as `strata layer` does with the same options. */
  layer(id: number, request: LayerRequest = {}): LayerResult {
    const loaded = this.get(id);
    const { strategy, options } = this.strategyOptions(loaded.doc, request);
    const format = request.format;
    const formatter = format === undefined || format === "nixpkgs" ? undefined : strategy.formats?.[format];
    if (format !== undefined && format !== "nixpkgs" && formatter === undefined) {
      throw new UsageError(`strategy ${strategy.name} has no format "${format}". Formats: ${["nixpkgs", ...Object.keys(strategy.formats ?? {})].join(", ")}`);
    }
    const start = now();
    const result: StrategyResult = strategy.plan(loaded.doc, options);
    const planMs = now() - start;
    loaded.last = { request, strategy, result };
    const sizes = sizeTable(loaded.doc);
    const bytes = result.layers.map((l) => layerBytes(l, sizes));
    const warnings = [...(strategy.warnings?.(result) ?? [])];
    const out: LayerResult = {
      closure: id,
      strategy: strategy.name,
      layers: result.layers,
      layerBytes: bytes,
      totalBytes: bytes.reduce((a, b) => a + b, 0),
      paths: result.layers.reduce((a, l) => a + l.length, 0),
      planMs,
      warnings,
    };
    if (format !== undefined) return { ...out, text: formatter ? formatter(result) : formatLayersIndented(result.layers) };
    return out;
  }

  /** Which layer a path is in and why, for the latest plan of this closure (or a new one). */
  explain(id: number, path: string, request?: LayerRequest): Explanation {
    const loaded = this.get(id);
    if (request !== undefined || loaded.last === undefined) this.layer(id, request ?? {});
    const last = loaded.last!;
    loaded.closure ??= Closure.fromDocument(loaded.doc);
    if (loaded.popularity === undefined) {
      const closure = loaded.closure;
      const k = this.k;
      const values = k.scope(() => k.popularity(k.load(closure)));
      loaded.popularity = { values, rank: popularityRanks(values, closure) };
    }
    return explainPath({
      doc: loaded.doc,
      closure: loaded.closure,
      kernels: this.k,
      popularity: loaded.popularity,
      strategy: last.strategy,
      result: last.result,
      path,
    });
  }

  /** `strata evaluate --series`: every planner over the versions (ids oldest first). */
  evaluateSeries(ids: readonly number[], request: EvaluationRequest = {}): SeriesResult {
    const versions = ids.map((id) => ({ name: this.get(id).info.name, doc: this.get(id).doc }));
    const evaluation = evaluateSeries(versions, this.planners(request));
    return { evaluation, html: seriesHtml(evaluation) };
  }

  /**
   * `strata fleet`: the loaded closures planned jointly (issue 16). Budgets by
   * closure id override `options.budget`; the names are the closures' names.
   */
  fleet(ids: readonly number[], options: FleetOptions = {}, budgets: Readonly<Record<number, number>> = {}): FleetPlan {
    return planFleet(
      ids.map((id) => ({ name: this.get(id).info.name, doc: this.get(id).doc, budget: budgets[id] })),
      options,
    );
  }

  /** `strata evaluate --images`: layer sharing across the given closures. */
  evaluateImages(ids: readonly number[], request: EvaluationRequest = {}): ImagesResult {
    const images = ids.map((id) => ({ name: this.get(id).info.name, doc: this.get(id).doc }));
    const evaluation = evaluateImages(images, this.planners(request));
    return { evaluation, html: imagesHtml(evaluation) };
  }

  /**
   * The plans one planner makes for a list of closures, exactly as an
   * evaluation makes them (for pools): `chained` shows each version the
   * previous plan (evaluateSeries), otherwise each closure is planned alone
   * (evaluateImages).
   */
  plans(ids: readonly number[], planner: PlannerSpec, request: EvaluationRequest = {}, chained = true): Layers[] {
    const [p] =
      planner.pipeline !== undefined
        ? this.planners({ ...request, strategies: [], pipelines: [planner.pipeline] })
        : this.planners({ ...request, strategies: [planner.strategy ?? planner.name], pipelines: [] });
    const plans: Layers[] = [];
    ids.forEach((id, k) => {
      const previous = chained && k > 0 ? { doc: this.get(ids[k - 1]).doc, layers: plans[k - 1] } : undefined;
      plans.push(p.plan(this.get(id).doc, previous));
    });
    return plans;
  }

  /** One closure planned by several planners, each on its own (no previous plan). */
  planEach(id: number, planners: readonly PlannerSpec[], request: EvaluationRequest = {}): Layers[] {
    const doc = this.get(id).doc;
    return planners.map((planner) => {
      const [p] =
        planner.pipeline !== undefined
          ? this.planners({ ...request, strategies: [], pipelines: [planner.pipeline] })
          : this.planners({ ...request, strategies: [planner.strategy ?? planner.name], pipelines: [] });
      return p.plan(doc);
    });
  }

  private planners(request: EvaluationRequest): Planner[] {
    const maxLayers = request.maxLayers ?? 100;
    const fromImageLayers = request.fromImageLayers ?? 0;
    const base: StrategyOptions = { maxLayers, fromImageLayers, budget: maxLayers - 1 - fromImageLayers, kernels: this.k };
    const pipelines = request.pipelines ?? [];
    const specs = request.strategies ?? (pipelines.length > 0 ? [] : strategyRegistry.comparable().map((s) => s.name));
    const planners = specs.map((s) => strategyPlanner(s, base));
    pipelines.forEach((p, i) => planners.push(pipelinePlanner(pipelines.length === 1 ? "pipeline" : `pipeline ${i + 1}`, p, { kernels: this.k })));
    return planners;
  }

  /** The CLI's option handling (src/cli/commands/layer.ts), minus files. */
  private strategyOptions(doc: ClosureDocument, request: LayerRequest) {
    const name = request.strategy ?? defaultStrategyName;
    const strategy = strategyRegistry.named(name);
    if (request.pipeline !== undefined && (request.maxLayers !== undefined || request.fromImageLayers !== undefined)) {
      throw new UsageError(
        "a pipeline and maxLayers/fromImageLayers exclude each other (nixpkgs ignores maxLayers when a layeringPipeline is set; put limit_layers in the pipeline)",
      );
    }
    if (request.pipeline !== undefined && strategy.takesPipeline !== true) {
      throw new UsageError(`a pipeline applies to the pipeline strategy, not to ${strategy.name}`);
    }
    if (request.fromImageLayers !== undefined && request.fromImageLayers < 0) {
      throw new UsageError(`fromImageLayers must be 0 or more, got ${request.fromImageLayers}`);
    }
    if (request.pipeline !== undefined) {
      assertPipelineValid(parsePipeline(request.pipeline, { extensions: pipelineExtensions }), { lenient: request.lenient });
    }
    const options: Record<string, unknown> = { ...request.options, kernels: this.k };
    if (request.maxLayers !== undefined) options.maxLayers = request.maxLayers;
    if (request.fromImageLayers !== undefined) options.fromImageLayers = request.fromImageLayers;
    if (request.exclude !== undefined) options.exclude = request.exclude;
    if (doc.roots !== undefined) options.roots = doc.roots;
    if (request.pipeline !== undefined) options.pipeline = request.pipeline;
    if (request.lenient) options.lenient = true;
    return { strategy, options };
  }

  private keep(doc: ClosureDocument, name: string, start: number, closure: Closure): ClosureInfo {
    let narBytes = 0;
    for (const e of doc.entries) narBytes += e.narSize;
    const info: ClosureInfo = {
      id: this.nextId++,
      name,
      format: doc.format,
      paths: doc.entries.length,
      narBytes,
      hasPipeline: doc.pipeline !== undefined,
      excludePaths: doc.excludePaths?.length ?? 0,
      roots: doc.roots?.length ?? 0,
      loadMs: now() - start,
    };
    // Exclusions change the graph; explain builds the full graph itself.
    this.loaded.set(info.id, { info, doc, closure: doc.excludePaths === undefined ? closure : undefined });
    return info;
  }

  private get(id: number): Loaded {
    const l = this.loaded.get(id);
    if (l === undefined) throw new UsageError(`no closure with id ${id} is loaded in this worker`);
    return l;
  }
}

async function readInput(input: ClosureInput, name: string): Promise<ClosureDocument> {
  if (typeof input === "string") return readClosureDocument(parseJsonText(input, name));
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input) || (typeof Blob !== "undefined" && input instanceof Blob)) {
    return readClosureWeb(input, { what: name });
  }
  return readClosureDocument((input as { readonly json: unknown }).json);
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
