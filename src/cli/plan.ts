// What layer, explain, dot and report share: the strategy options, the layer
// budget arithmetic, pinned groups, layer order, and running the plan.
import { UsageError } from "../errors.js";
import { Closure } from "../graph/closure.js";
import { parseJsonText, type ClosureDocument } from "../graph/document.js";
import { readClosureInput, readTextInput } from "../io/node.js";
import { kernels } from "../kernels/index.js";
import type { Kernels } from "../kernels/types.js";
import { parseGroupArgument, planWithGroups, type GroupedPlan, type GroupSpec } from "../strategies/groups.js";
import { defaultStrategyName, strategyRegistry, type StrategyRegistry } from "../strategies/index.js";
import type { ChangeModelOptions } from "../model/change.js";
import { LAYER_SIZE_CAPS, parseSize, parseSizeOrCap } from "../strategies/min-pull/index.js";
import { orderStableFirst } from "../strategies/order.js";
import type { AnyStrategy, Layers, OptionContext, StrategyOptions, StrategyResult } from "../strategies/types.js";
import { parseIntegerOption, type CliIo, type ParsedArgs } from "./command.js";
import { messages, type Messages } from "./messages.js";
import { createProgress, type ProgressSink } from "./progress.js";

type Options = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/** The common options every planning command accepts (strategies add their own). */
const commonOptionSpecs: Options = {
  strategy: { type: "string" },
  exclude: { type: "string", multiple: true },
  "max-layers": { type: "string" },
  "from-image-layers": { type: "string" },
  runtime: { type: "string" },
  reserve: { type: "string" },
  budget: { type: "string" },
  strict: { type: "boolean" },
  volatility: { type: "string" },
  history: { type: "string", multiple: true },
  "changes-per-update": { type: "string" },
  group: { type: "string", multiple: true },
  heavy: { type: "string" },
  order: { type: "string" },
  backend: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  quiet: { type: "boolean", short: "q" },
};

/** parseArgs options of the planning commands: the common ones and every registered strategy's. */
export function planOptionSpecsFor(registry: StrategyRegistry = strategyRegistry, command?: string): Options {
  const specs: Options = { ...commonOptionSpecs };
  for (const { option } of registry.optionDescriptors()) {
    if (command !== undefined && option.commands !== undefined && !option.commands.includes(command)) continue;
    specs[option.flag] = option.multiple ? { type: option.type, multiple: true } : { type: option.type };
  }
  return specs;
}

/** The help text block for the planning options, from the registry's descriptors. */
export function planOptionsHelpText(registry: StrategyRegistry = strategyRegistry): string {
  const descriptors = registry.optionDescriptors();
  // Options of strategies without a section title join the common block after the option they name.
  const after = (flag: string) =>
    descriptors
      .filter(({ strategy, option }) => strategy.help?.title === undefined && option.helpAfter === flag)
      .map(({ option }) => option.help + "\n")
      .join("");
  const sections = registry
    .inHelpOrder()
    .filter((s) => s.help?.title !== undefined && (s.options?.length ?? 0) > 0)
    .map(
      (s) =>
        `${s.help!.title}:\n${s.options!.map((o: { help: string }) => o.help + "\n").join("")}${s.help!.footer === undefined ? "" : s.help!.footer + "\n"}\n`,
    )
    .join("");
  return `Strategy:
  --strategy NAME         ${registry.names().join(", ")} (default: ${defaultStrategyName})
${after("strategy")}  --exclude PATH          leave PATH out of the image (repeatable; replaces the
                          document's exclude_paths)
${after("exclude")}  --backend wasm|ts       graph kernels (default wasm)

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

${sections}Pinned groups (any strategy; the strategy plans the rest in the layers left):
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
}

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

/** Named compressed-size caps for --max-layer-size (issue 15; defined with min-pull's size options). */
export { LAYER_SIZE_CAPS, parseSizeOrCap };

/** "500M" -> 524288000, "2GiB", "1.5GB", "123" (defined with min-pull's size options). */
export { parseSize };

export interface Budget {
  /** Store-path layers. */
  readonly layers: number;
  /** Whether the user set it (else the strategy's own default applies). */
  readonly explicit: boolean;
  /** Lines for --verbose. */
  readonly explanation: string[];
}

export function computeBudget(
  /** The strategy (or its name): its default budget applies when the user sets no limit. */
  strategy: string | AnyStrategy,
  o: { maxLayers?: number; runtime?: string; fromImageLayers?: number; reserve?: number; budget?: number },
): Budget {
  for (const [name, v] of [
    ["from-image-layers", o.fromImageLayers],
    ["reserve", o.reserve],
  ] as const) {
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
  if (o.maxLayers !== undefined && o.runtime !== undefined)
    throw new UsageError("--max-layers and --runtime exclude each other (--runtime is a preset for --max-layers)");
  const explicit = o.maxLayers !== undefined || o.runtime !== undefined || o.fromImageLayers !== undefined || o.reserve !== undefined;
  const own = (typeof strategy === "string" ? strategyRegistry.get(strategy) : strategy)?.defaultBudget;
  if (!explicit && own !== undefined) {
    return { layers: own.layers, explicit: false, explanation: [`${own.layers} store-path layers (${own.why})`] };
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
  readonly strategy: AnyStrategy;
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
  readonly compressedWeights?: { readonly cacheDir?: string; readonly storeRoot?: string; readonly env: Readonly<Record<string, string | undefined>> };
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

/** Reads the options (and their files) before the closure, so bad options fail fast. */
/** --weights compressed (issue 15): the layer cache is build's --cache DIR, else the default. */
function weightsOption(command: string, values: ParsedArgs["values"], io: CliIo): PlanSetup["compressedWeights"] {
  if (str(values.weights) !== "compressed") return undefined;
  const storeRoot = command === "build" ? str(values["store-root"]) : undefined;
  const cacheDir = str(values.cache);
  return { env: io.env, ...(cacheDir !== undefined ? { cacheDir } : {}), ...(storeRoot !== undefined ? { storeRoot } : {}) };
}

export async function setupPlan(command: string, values: ParsedArgs["values"], io: CliIo, registry: StrategyRegistry = strategyRegistry): Promise<PlanSetup> {
  const quiet = values.quiet === true;
  const verbose = values.verbose === true && !quiet;
  const msg = messages(io, quiet);
  const strategyName = str(values.strategy) ?? defaultStrategyName;
  const strategy = registry.named(strategyName, `${command}: `);
  const descriptors = registry.optionDescriptors();
  // A strategy's own flag given with another strategy: name the strategies that take it.
  const checked = new Set<string>();
  for (const { option } of descriptors) {
    if (option.shared === true || checked.has(option.flag)) continue;
    checked.add(option.flag);
    const owners = registry.accepting(option.flag);
    if (values[option.flag] !== undefined && !owners.includes(strategy)) {
      throw new UsageError(`${command}: --${option.flag} applies to --strategy ${owners.map((s) => s.name).join(" or ")}, not ${strategy.name}`);
    }
  }
  const budget = computeBudget(strategy, {
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
  const cx: OptionContext = { command, readJson: readJsonFile, readPipeline: readPipelineArgument, values };
  const strict = values.strict === true;
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
  // The chosen strategy's own options (files read in help order), after the common ones.
  for (const { strategy: s, option } of descriptors) {
    const value = values[option.flag];
    if (s === strategy && value !== undefined) Object.assign(options, await option.parse(value, cx));
  }
  const groups = (list(values.group) ?? []).map(parseGroupArgument);
  const heavyBytes = parseSize("heavy", str(values.heavy));
  if (strict && !registry.accepting("strict").includes(strategy) && groups.length === 0 && heavyBytes === undefined) {
    const takers = registry.accepting("strict").map((s) => `--strategy ${s.name}`);
    throw new UsageError(`${command}: --strict applies to ${[...takers, "--group"].join(" or to ")}`);
  }
  if (pipelineArg !== undefined && (groups.length > 0 || heavyBytes !== undefined)) {
    throw new UsageError(
      `${command}: --group/--heavy plan the rest with the layers left, which a fixed --pipeline cannot honour; use the default pipeline or another strategy`,
    );
  }
  const order = str(values.order) ?? "strategy";
  if (order !== "strategy" && order !== "stable-first") throw new UsageError(`${command}: --order must be stable-first or strategy, got "${order}"`);
  const progress = createProgress({ write: io.err, isTty: io.stderrIsTty, quiet });
  if (verbose) for (const line of budget.explanation) msg.info(line);
  const compressedWeights = weightsOption(command, values, io); // issue 15
  return {
    strategy,
    budget,
    options,
    groups,
    heavyBytes,
    strict,
    order,
    model,
    kernels: k,
    verbose,
    quiet,
    msg,
    progress,
    ...(compressedWeights ? { compressedWeights } : {}),
  };
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
    const { compressedWeights, defaultCacheDir } = await import("../evaluate/compressed-node.js");
    progress.stage("measuring compressed sizes");
    try {
      const { env, cacheDir, storeRoot } = setup.compressedWeights;
      doc = await compressedWeights(doc, { cacheDir: cacheDir ?? defaultCacheDir({ ...env }), ...(storeRoot !== undefined ? { storeRoot } : {}) });
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
  // One Closure of the document per plan, built when first needed and passed along
  // (groups, stable-first order, and a strategy that needs one).
  let built: Closure | undefined;
  const closureOf = () => (built ??= Closure.fromDocument(doc));
  if (setup.order === "stable-first") base.closure = closureOf();
  let result: StrategyResult | undefined;
  let grouped: GroupedPlan | undefined;
  let layers: Layers;
  if (setup.groups.length > 0 || setup.heavyBytes !== undefined) {
    const out = new Set(excluded);
    grouped = planWithGroups(
      doc,
      { groups: setup.groups, heavyBytes: setup.heavyBytes, budget: setup.budget.layers, strict: setup.strict },
      (rest, restBudget) => {
        const restPaths = new Set(rest.entries.map((e) => e.path));
        const o: Record<string, unknown> = { ...base, maxLayers: restBudget + 1, fromImageLayers: 0, budget: restBudget, exclude: excluded };
        delete o.closure; // the rest is another document
        if (Array.isArray(base.roots)) o.roots = (base.roots as string[]).filter((p) => restPaths.has(p));
        if (Array.isArray(o.roots) && o.roots.length === 0) delete o.roots;
        const r = strategy.plan(rest, o);
        warnDetail(strategy, r, msg);
        return r.layers;
      },
      closureOf(),
    );
    for (const w of grouped.warnings) msg.warn(w);
    layers = grouped.layers.map((l) => l.paths.filter((p) => !out.has(p))).filter((l) => l.length > 0);
    if (setup.verbose) {
      const pinned = grouped.layers.filter((l) => l.group !== undefined).length;
      msg.info(`groups and heavy paths: ${pinned} layer${pinned === 1 ? "" : "s"}; ${strategy.name} planned the rest in at most ${grouped.restBudget}`);
    }
  } else {
    result = strategy.plan(doc, base);
    warnDetail(strategy, result, msg);
    layers = result.layers;
  }
  const note = result === undefined ? undefined : strategy.note?.(result, setup.options);
  if (note !== undefined) msg.note(note);
  if (setup.budget.explicit && layers.length > setup.budget.layers) {
    msg.warn(`the plan has ${layers.length} store-path layers, more than the budget of ${setup.budget.layers}`);
  }
  let composite = grouped !== undefined;
  if (setup.order === "stable-first") {
    layers = orderStableFirst(closureOf(), layers, setup.model);
    composite = true;
  }
  if (setup.verbose) msg.info(`${strategy.name}: ${layers.length} layer${layers.length === 1 ? "" : "s"}, ${layers.reduce((a, l) => a + l.length, 0)} paths`);
  return { doc, setup, result, grouped, layers, composite, excluded };
}

function warnDetail(strategy: AnyStrategy, result: StrategyResult, msg: Messages): void {
  for (const w of strategy.warnings?.(result) ?? []) msg.warn(w);
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  return parseJsonText(await readTextInput(file), `${what} ${file}`);
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
