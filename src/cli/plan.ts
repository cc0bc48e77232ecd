// What layer, explain, dot and report share: the strategy options, the layer
// budget arithmetic, pinned groups, layer order, and running the plan.
import { UsageError } from "../errors.js";
import { parseJsonText, type ClosureDocument } from "../graph/document.js";
import { readClosureInput, readTextInput } from "../io/node.js";
import { kernels } from "../kernels/index.js";
import type { Kernels } from "../kernels/types.js";
import { assertPipelineValid, parsePipeline, pipelineExtensions } from "../pipeline/index.js";
import { defaultCacheDir } from "../image/cache/index.js";
import { formatBytes } from "../report/format.js";
import { parseGroupArgument, planWithGroups, type GroupedPlan, type GroupSpec } from "../strategies/groups.js";
import { defaultStrategyName, findStrategy, strategies } from "../strategies/index.js";
import type { ChangeModelOptions } from "../strategies/min-pull/model.js";
import { orderStableFirst } from "../strategies/order.js";
import type { Layers, Strategy, StrategyOptions, StrategyResult } from "../strategies/types.js";
import { parseIntegerOption, type CliIo, type ParsedArgs } from "./command.js";
import { messages, type Messages } from "./messages.js";
import { createProgress, type ProgressSink } from "./progress.js";

type Options = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/** parseArgs options every planning command accepts. */
export const planOptionSpecs: Options = {
  strategy: { type: "string" },
  pipeline: { type: "string" },
  exclude: { type: "string", multiple: true },
  lenient: { type: "boolean" },
  "max-layers": { type: "string" },
  "from-image-layers": { type: "string" },
  runtime: { type: "string" },
  reserve: { type: "string" },
  budget: { type: "string" },
  root: { type: "string", multiple: true },
  popularity: { type: "string" },
  strict: { type: "boolean" },
  "drop-unreachable": { type: "boolean" },
  previous: { type: "string" },
  volatility: { type: "string" },
  history: { type: "string", multiple: true },
  "changes-per-update": { type: "string" },
  "min-layer-size": { type: "string" },
  "max-layer-size": { type: "string" },
  weights: { type: "string" }, // issue 15
  group: { type: "string", multiple: true },
  heavy: { type: "string" },
  order: { type: "string" },
  backend: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  quiet: { type: "boolean", short: "q" },
};

/** The help text block for planOptionSpecs. */
export const planOptionsHelp = `Strategy:
  --strategy NAME         ${strategies.map((s) => s.name).join(", ")} (default: ${defaultStrategyName})
  --pipeline P            (pipeline) run pipeline P: inline JSON or a file (a
                          pipeline list, or a document with a "pipeline" key)
  --exclude PATH          leave PATH out of the image (repeatable; replaces the
                          document's exclude_paths)
  --lenient               (pipeline) "over" on a key the data lacks passes the
                          data through (nixpkgs: KeyError)
  --backend wasm|ts       graph kernels (default wasm)

Layer budget (store-path layers = limit - 1 customisation layer - base - reserve):
  --max-layers M          image layer limit, as dockerTools' maxLayers (default 100)
  --runtime NAME          limit preset: docker 125 (moby maxLayerDepth),
                          buildkit 70 (non-rootfs mounts), sysbox 64, ecr 500,
                          docker-20.10 127 (fails at 128), bootc/ostree 64,
                          fcos 400, containers-storage 500 (hard limit)
  --from-image-layers B   layers of the base image (fromImage), default 0
  --reserve N             layers left free for images built on top, default 0
  --budget N              store-path layers, directly (instead of the above)
  --verbose, -v           print the arithmetic and planning details on stderr

Nixery (--strategy nixery):
  --root PATH             root of the image (repeatable; default: the
                          document's roots, else the paths nothing references)
  --popularity FILE       Nixery popularity JSON ({"name": count}); default:
                          counts over the closure itself
  --strict                fail when the roots do not reach every path
  --drop-unreachable      leave unreachable paths out, as Nixery does

min-pull (--strategy min-pull):
  --previous PLAN.json    the previous build's layers (a layers JSON list):
                          layers still valid are kept byte-identical
  --volatility FILE       JSON {"package-name": multiplier} of change rates
  --history FILE          an earlier closure of this image (repeatable, oldest
                          first): change rates learned from it
  --changes-per-update X  expected package changes per update (default 4)
  --min-layer-size SIZE   no layer below SIZE (e.g. 5M), when it can be helped
  --max-layer-size SIZE   no layer above SIZE (e.g. 2GiB), when it can be helped;
                          named caps: registry-500mb, registry-1gib,
                          registry-5gb, registry-10gb
  --weights compressed    weigh each path by its compressed size (gzip 6, the
                          path alone as a layer, measured once per path and
                          kept in the layer cache, $XDG_CACHE_HOME/strata/
                          layers or build's --cache DIR; needs the store on
                          disk) instead of narSize; --max-layer-size is then
                          a compressed cap
  (--volatility, --history and --changes-per-update also drive --order
  stable-first and explain's change cost for any strategy)

Pinned groups (any strategy; the strategy plans the rest in the layers left):
  --group NAME=PATTERN[:each][:deps]
                          paths whose store name (no hash) matches PATTERN
                          (glob with | alternatives, or re:REGEX) get one layer
                          (:each one layer per path; :deps with their
                          dependencies); repeatable, first match wins
  --heavy SIZE            every other path above SIZE gets its own layer
  --strict                a group that matches nothing is an error

Order:
  --order stable-first    layers least likely to change at the bottom (a local
                          store reuses the unchanged prefix); default: the
                          strategy's own order

Messages:
  --quiet, -q             no warnings, objective or progress on stderr

SIZE: bytes, or a number with K/M/G/T (powers of 1024, also KiB/MiB/GiB/TiB)
or KB/MB/GB/TB (powers of 1000).`;

export const RUNTIMES: Readonly<Record<string, { readonly maxLayers: number; readonly why: string }>> = {
  docker: { maxLayers: 125, why: "moby's maxLayerDepth" },
  buildkit: { maxLayers: 70, why: "BuildKit non-rootfs mounts fail above about 70 layers" },
  sysbox: { maxLayers: 64, why: "sysbox issues above 64 layers" },
  ecr: { maxLayers: 500, why: "AWS ECR's 500 layers per image" },
  // issue 15: the layer counts users meet now
  "docker-20.10": { maxLayers: 127, why: "Docker 20.10 fails at 128 layers" },
  bootc: { maxLayers: 64, why: "ostree-ext/bootc chunking: MAX_CHUNKS 64, half the limit of 128" },
  ostree: { maxLayers: 64, why: "ostree-ext chunking: MAX_CHUNKS 64, half the limit of 128" },
  fcos: { maxLayers: 400, why: "Fedora CoreOS builds use up to 400 layers" },
  "containers-storage": { maxLayers: 500, why: "containers/storage's hard limit (podman, CRI-O)" },
};

/**
 * Named caps on a layer's size (issue 15): registries refuse layers above a
 * compressed size; the caps are named by the limits users meet (500 MB, 1 GiB,
 * 5 GB, 10 GB), not by registry, since the limits vary per plan and over time.
 */
export const LAYER_SIZE_CAPS: Readonly<Record<string, number>> = {
  "registry-500mb": 500e6,
  "registry-1gib": 1024 ** 3,
  "registry-5gb": 5e9,
  "registry-10gb": 10e9,
};

/** A SIZE or one of LAYER_SIZE_CAPS' names. */
export function parseSizeOrCap(option: string, text: string | undefined): number | undefined {
  if (text !== undefined && Object.hasOwn(LAYER_SIZE_CAPS, text.toLowerCase())) return LAYER_SIZE_CAPS[text.toLowerCase()];
  return parseSize(option, text);
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/** "500M" -> 524288000, "2GiB", "1.5GB", "123". */
export function parseSize(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--${option} expects a size such as 500M, 2GiB or 1048576, got "${text}"`);
  return Math.round(Number(m[1]) * unit);
}

export interface Budget {
  /** Store-path layers. */
  readonly layers: number;
  /** Whether the user set it (else the strategy's own default applies). */
  readonly explicit: boolean;
  /** Lines for --verbose. */
  readonly explanation: string[];
}

export function computeBudget(
  strategy: string,
  o: { maxLayers?: number; runtime?: string; fromImageLayers?: number; reserve?: number; budget?: number },
): Budget {
  for (const [name, v] of [["from-image-layers", o.fromImageLayers], ["reserve", o.reserve]] as const) {
    if (v !== undefined && v < 0) throw new UsageError(`--${name} must be 0 or more, got ${v}`);
  }
  if (o.runtime !== undefined && RUNTIMES[o.runtime] === undefined) {
    throw new UsageError(`--runtime must be one of ${Object.keys(RUNTIMES).join(", ")}, got "${o.runtime}"`);
  }
  if (o.budget !== undefined) {
    if (o.maxLayers !== undefined || o.runtime !== undefined || o.fromImageLayers !== undefined || o.reserve !== undefined) {
      throw new UsageError("--budget gives the store-path layers directly; it excludes --max-layers, --runtime, --from-image-layers and --reserve");
    }
    if (o.budget < 1) throw new UsageError(`--budget must be at least 1, got ${o.budget}`);
    return { layers: o.budget, explicit: true, explanation: [`${o.budget} store-path layers (--budget)`] };
  }
  if (o.maxLayers !== undefined && o.runtime !== undefined) throw new UsageError("--max-layers and --runtime exclude each other (--runtime is a preset for --max-layers)");
  const explicit = o.maxLayers !== undefined || o.runtime !== undefined || o.fromImageLayers !== undefined || o.reserve !== undefined;
  if (!explicit && strategy === "nixery") {
    return { layers: 94, explicit: false, explanation: ["94 store-path layers (Nixery's LayerBudget; Nixery adds 1 symlink layer)"] };
  }
  const preset = o.runtime === undefined ? undefined : RUNTIMES[o.runtime];
  const limit = o.maxLayers ?? preset?.maxLayers ?? 100;
  const base = o.fromImageLayers ?? 0;
  const reserve = o.reserve ?? 0;
  const used = 1 + base + reserve;
  if (!(used < limit)) {
    throw new UsageError(
      `no layer left for store paths: maxLayers ${limit} must exceed 1 (customisation layer) + ${base} (base image layers)${reserve ? ` + ${reserve} (reserve)` : ""} = ${used}`,
    );
  }
  const source = o.maxLayers !== undefined ? "--max-layers" : preset ? `--runtime ${o.runtime}: ${preset.why}` : "dockerTools' default maxLayers";
  const explanation = [
    `layer limit ${limit} (${source})`,
    `  - 1 customisation layer`,
    ...(base ? [`  - ${base} base image layer${base === 1 ? "" : "s"} (--from-image-layers)`] : []),
    ...(reserve ? [`  - ${reserve} reserved for images built on top (--reserve)`] : []),
    `  = ${limit - used} store-path layers`,
  ];
  return { layers: limit - used, explicit, explanation };
}

export interface PlanSetup {
  readonly strategy: Strategy;
  readonly budget: Budget;
  readonly options: StrategyOptions;
  readonly groups: readonly GroupSpec[];
  readonly heavyBytes?: number;
  readonly strict: boolean;
  readonly order: "strategy" | "stable-first";
  readonly model: ChangeModelOptions;
  readonly kernels: Kernels;
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly msg: Messages;
  readonly progress: ProgressSink;
  /** min-pull on compressed cost (issue 15): paths weighed by their compressed size. */
  readonly compressedWeights?: { readonly cacheDir: string; readonly storeRoot?: string };
}

export interface Planned {
  readonly doc: ClosureDocument;
  readonly setup: PlanSetup;
  /** The strategy's own result (undefined with groups: the strategy planned only the rest). */
  readonly result?: StrategyResult;
  readonly grouped?: GroupedPlan;
  /** The final layers, bottom first. */
  readonly layers: Layers;
  /** Whether groups or --order changed the strategy's result (strategy formats describe only its own). */
  readonly composite: boolean;
  /** Paths left out of the image. */
  readonly excluded: readonly string[];
}

const str = (v: ParsedArgs["values"][string]): string | undefined => (typeof v === "string" ? v : undefined);
const list = (v: ParsedArgs["values"][string]): string[] | undefined => (Array.isArray(v) ? (v as string[]) : undefined);

/** --weights narsize|compressed (issue 15); the layer cache: build's --cache DIR, else the default. */
function weightsOption(command: string, values: ParsedArgs["values"], io: CliIo): PlanSetup["compressedWeights"] {
  const w = str(values.weights);
  if (w === undefined || w === "narsize") return undefined;
  if (w !== "compressed") throw new UsageError(`${command}: --weights must be narsize or compressed, got "${w}"`);
  const storeRoot = command === "build" ? str(values["store-root"]) : undefined;
  return { cacheDir: str(values.cache) ?? defaultCacheDir({ ...io.env }), ...(storeRoot !== undefined ? { storeRoot } : {}) };
}

/** Reads the options (and their files) before the closure, so bad options fail fast. */
export async function setupPlan(command: string, values: ParsedArgs["values"], io: CliIo): Promise<PlanSetup> {
  const quiet = values.quiet === true;
  const verbose = values.verbose === true && !quiet;
  const msg = messages(io, quiet);
  const strategyName = str(values.strategy) ?? defaultStrategyName;
  const strategy = findStrategy(strategyName);
  if (strategy === undefined) throw new UsageError(`${command}: unknown strategy "${strategyName}". Strategies: ${strategies.map((s) => s.name).join(", ")}`);
  const only = (names: string[], flags: string[]) => {
    for (const f of flags) {
      if (values[f] !== undefined && !names.includes(strategy.name)) throw new UsageError(`${command}: --${f} applies to --strategy ${names.join(" or ")}, not ${strategy.name}`);
    }
  };
  only(["pipeline"], ["pipeline", "lenient"]);
  only(["nixery"], ["root", "popularity", "drop-unreachable"]);
  only(["min-pull"], ["previous", "min-layer-size", "max-layer-size", "weights"]);
  const compressedWeights = weightsOption(command, values, io); // issue 15
  const budget = computeBudget(strategy.name, {
    maxLayers: parseIntegerOption(command, "max-layers", str(values["max-layers"])),
    runtime: str(values.runtime),
    fromImageLayers: parseIntegerOption(command, "from-image-layers", str(values["from-image-layers"])),
    reserve: parseIntegerOption(command, "reserve", str(values.reserve)),
    budget: parseIntegerOption(command, "budget", str(values.budget)),
  });
  const pipelineArg = str(values.pipeline);
  if (pipelineArg !== undefined && budget.explicit) {
    throw new UsageError(
      `${command}: --pipeline and --max-layers/--runtime/--from-image-layers/--reserve/--budget exclude each other (nixpkgs ignores maxLayers when a layeringPipeline is set; put limit_layers in the pipeline)`,
    );
  }
  const backend = str(values.backend) ?? "wasm";
  if (backend !== "wasm" && backend !== "ts") throw new UsageError(`${command}: --backend must be wasm or ts, got "${backend}"`);
  const k = kernels(backend);
  const options: Record<string, unknown> = { kernels: k };
  if (budget.explicit) {
    // Every strategy gets the same count: nixpkgs' arithmetic on maxLayers = budget + 1, or the budget itself.
    options.maxLayers = budget.layers + 1;
    options.fromImageLayers = 0;
    options.budget = budget.layers;
  }
  const exclude = list(values.exclude);
  if (exclude !== undefined) options.exclude = exclude;
  if (pipelineArg !== undefined) {
    // Read and checked first: a broken pipeline fails before the closure is read.
    const json = await readPipelineArgument(pipelineArg, "--pipeline");
    assertPipelineValid(parsePipeline(json, { extensions: pipelineExtensions }), { lenient: values.lenient === true });
    options.pipeline = json;
  }
  if (values.lenient === true) options.lenient = true;
  const strict = values.strict === true;
  if (strategy.name === "nixery") {
    const roots = list(values.root);
    if (roots !== undefined) options.roots = roots;
    const pop = str(values.popularity);
    if (pop !== undefined) options.popularity = await readJsonFile(pop, "--popularity");
    if (strict) options.strict = true;
    if (values["drop-unreachable"] === true) options.dropUnreachable = true;
  }
  const model: { -readonly [K in keyof ChangeModelOptions]: ChangeModelOptions[K] } = {};
  const rate = str(values["changes-per-update"]);
  if (rate !== undefined) {
    const x = Number(rate);
    if (!(x > 0) || !Number.isFinite(x)) throw new UsageError(`--changes-per-update expects a positive number, got "${rate}"`);
    model.changesPerUpdate = x;
  }
  const vol = str(values.volatility);
  if (vol !== undefined) {
    const v = await readJsonFile(vol, "--volatility");
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === "number" && x >= 0 && Number.isFinite(x))) {
      throw new UsageError(`--volatility ${vol}: expected a JSON object of package names to non-negative numbers, e.g. {"myapp": 10}`);
    }
    model.volatility = v as Record<string, number>;
  }
  const historyFiles = list(values.history);
  if (historyFiles !== undefined) {
    const docs: ClosureDocument[] = [];
    for (const f of historyFiles) docs.push(await readClosureInput(f));
    model.history = docs;
  }
  Object.assign(options, model);
  if (strategy.name === "min-pull") {
    const prev = str(values.previous);
    if (prev !== undefined) options.previous = readLayersList(await readJsonFile(prev, "--previous"), `--previous ${prev}`);
    const minSize = parseSize("min-layer-size", str(values["min-layer-size"]));
    const maxSize = parseSizeOrCap("max-layer-size", str(values["max-layer-size"]));
    if (minSize !== undefined) options.minLayerSize = minSize;
    if (maxSize !== undefined) options.maxLayerSize = maxSize;
  }
  const groups = (list(values.group) ?? []).map(parseGroupArgument);
  const heavyBytes = parseSize("heavy", str(values.heavy));
  if (strict && strategy.name !== "nixery" && groups.length === 0 && heavyBytes === undefined) {
    throw new UsageError(`${command}: --strict applies to --strategy nixery or to --group`);
  }
  if (pipelineArg !== undefined && (groups.length > 0 || heavyBytes !== undefined)) {
    throw new UsageError(`${command}: --group/--heavy plan the rest with the layers left, which a fixed --pipeline cannot honour; use the default pipeline or another strategy`);
  }
  const order = str(values.order) ?? "strategy";
  if (order !== "strategy" && order !== "stable-first") throw new UsageError(`${command}: --order must be stable-first or strategy, got "${order}"`);
  const progress = createProgress({ write: io.err, isTty: io.stderrIsTty, quiet });
  if (verbose) for (const line of budget.explanation) msg.info(line);
  return { strategy, budget, options, groups, heavyBytes, strict, order, model, kernels: k, verbose, quiet, msg, progress, ...(compressedWeights ? { compressedWeights } : {}) };
}

/** Reads INPUT and plans it; warnings and the objective go to stderr. */
export async function runPlan(input: string, setup: PlanSetup): Promise<Planned> {
  const { progress } = setup;
  let doc: ClosureDocument;
  try {
    doc = await readClosureInput(input, undefined, progress.onRead);
  } finally {
    progress.done();
  }
  if (setup.compressedWeights !== undefined) {
    // issue 15: min-pull on compressed cost; the planner sees compressed sizes as the paths' sizes.
    const { compressedWeights } = await import("../evaluate/compressed-node.js");
    progress.stage("measuring compressed sizes");
    try {
      doc = await compressedWeights(doc, setup.compressedWeights);
    } finally {
      progress.done();
    }
  }
  progress.stage("planning");
  try {
    return planDocument(doc, setup);
  } finally {
    progress.done();
  }
}

export function planDocument(doc: ClosureDocument, setup: PlanSetup): Planned {
  const { strategy, msg } = setup;
  const base: Record<string, unknown> = { ...setup.options };
  if (doc.roots !== undefined && base.roots === undefined) base.roots = doc.roots;
  const excluded = (base.exclude as string[] | undefined) ?? doc.excludePaths ?? [];
  let result: StrategyResult | undefined;
  let grouped: GroupedPlan | undefined;
  let layers: Layers;
  if (setup.groups.length > 0 || setup.heavyBytes !== undefined) {
    const out = new Set(excluded);
    grouped = planWithGroups(doc, { groups: setup.groups, heavyBytes: setup.heavyBytes, budget: setup.budget.layers, strict: setup.strict }, (rest, restBudget) => {
      const restPaths = new Set(rest.entries.map((e) => e.path));
      const o: Record<string, unknown> = { ...base, maxLayers: restBudget + 1, fromImageLayers: 0, budget: restBudget, exclude: excluded };
      if (Array.isArray(base.roots)) o.roots = (base.roots as string[]).filter((p) => restPaths.has(p));
      if (Array.isArray(o.roots) && o.roots.length === 0) delete o.roots;
      const r = callStrategy(strategy, rest, o);
      warnDetail(r, msg);
      return r.layers;
    });
    for (const w of grouped.warnings) msg.warn(w);
    layers = grouped.layers.map((l) => l.paths.filter((p) => !out.has(p))).filter((l) => l.length > 0);
    if (setup.verbose) {
      const pinned = grouped.layers.filter((l) => l.group !== undefined).length;
      msg.info(`groups and heavy paths: ${pinned} layer${pinned === 1 ? "" : "s"}; ${strategy.name} planned the rest in at most ${grouped.restBudget}`);
    }
  } else {
    result = callStrategy(strategy, doc, base);
    warnDetail(result, msg);
    layers = result.layers;
  }
  const detail = result?.detail as { expectedBytes?: unknown; lowerBoundBytes?: unknown; lowerBoundExact?: unknown; keptLayers?: unknown } | undefined;
  if (strategy.name === "min-pull" && result !== undefined && typeof detail?.expectedBytes === "number") {
    const lb = detail.lowerBoundBytes as number;
    msg.note(
      `min-pull: expected ${formatBytes(detail.expectedBytes)} pulled per update (${Math.round(detail.expectedBytes)} B); lower bound ${formatBytes(lb)}${detail.lowerBoundExact ? " (exact)" : ""}` +
        (typeof detail.keptLayers === "number" && setup.options.previous !== undefined ? `; ${detail.keptLayers} layers kept from --previous` : ""),
    );
  }
  if (setup.budget.explicit && layers.length > setup.budget.layers) {
    msg.warn(`the plan has ${layers.length} store-path layers, more than the budget of ${setup.budget.layers}`);
  }
  let composite = grouped !== undefined;
  if (setup.order === "stable-first") {
    layers = orderStableFirst(doc, layers, setup.model);
    composite = true;
  }
  if (setup.verbose) msg.info(`${strategy.name}: ${layers.length} layer${layers.length === 1 ? "" : "s"}, ${layers.reduce((a, l) => a + l.length, 0)} paths`);
  return { doc, setup, result, grouped, layers, composite, excluded };
}

function callStrategy(strategy: Strategy, doc: ClosureDocument, options: StrategyOptions): StrategyResult {
  try {
    return strategy.plan(doc, options);
  } catch (e) {
    // Strategies signal impossible option values with RangeError (budget, rates, previous plans).
    if (e instanceof RangeError) throw new UsageError(`${strategy.name}: ${e.message.replace(/^[a-z-]+: /, "")}`);
    throw e;
  }
}

function warnDetail(result: StrategyResult, msg: Messages): void {
  const d = result.detail as { warnings?: unknown } | undefined;
  if (Array.isArray(d?.warnings)) for (const w of d.warnings) if (typeof w === "string") msg.warn(w);
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  return parseJsonText(await readTextInput(file), `${what} ${file}`);
}

/** A layers JSON list ([["path", ...], ...]), as `strata layer` prints it. */
export function readLayersList(value: unknown, what: string): Layers {
  if (!Array.isArray(value) || !value.every((l) => Array.isArray(l) && l.every((p) => typeof p === "string"))) {
    throw new UsageError(`${what}: expected a layers JSON list ([["/nix/store/...", ...], ...]) as 'strata layer' prints it`);
  }
  return value as Layers;
}

/**
 * A pipeline given on the command line: a file (JSON, gzip allowed) or inline
 * JSON. A document with a "pipeline" key (e.g. an .attrs.json) gives its pipeline.
 */
export async function readPipelineArgument(arg: string, what: string): Promise<unknown> {
  const trimmed = arg.trimStart();
  const inline = trimmed.startsWith("[") || trimmed.startsWith("{");
  let value: unknown;
  const { existsSync } = await import("node:fs");
  if (!inline || (existsSync(arg) && !trimmed.startsWith("["))) {
    if (!existsSync(arg) && arg !== "-") throw new UsageError(`${what}: "${arg}" is neither a file nor inline JSON (a pipeline starts with "[")`);
    value = parseJsonText(await readTextInput(arg), arg === "-" ? "stdin" : arg);
  } else {
    value = parseJsonText(arg, what);
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value) && "pipeline" in value) {
    return (value as { pipeline: unknown }).pipeline;
  }
  return value;
}

