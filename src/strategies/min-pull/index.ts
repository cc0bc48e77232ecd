// The min-pull strategy: plans that minimise the bytes clients pull on the
// next update (plan.ts), stable across rebuilds when given the previous plan.
import { PipelineError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import type { ClosureDocument } from "../../graph/document.js";
import { formatBytes } from "../../report/format.js";
import { availableLayers, defineStrategy, type ExplainContext, type Layers, type OptionContext, type OptionValue, type StrategyOptions } from "../types.js";
import { UsageError } from "../../errors.js";
import { buildChangeModel, type ChangeModelOptions } from "../../model/change.js";
import { planMinPull, type Plan } from "./plan.js";

export interface MinPullOptions extends ChangeModelOptions {
  /** Store-path layers; default: nixpkgs' arithmetic from maxLayers/fromImageLayers (99). */
  readonly budget?: number;
  readonly maxLayers?: number;
  readonly fromImageLayers?: number;
  readonly minLayerSize?: number;
  readonly maxLayerSize?: number;
  /** The previous build's layers: those still valid are kept byte-identical. */
  readonly previous?: Layers;
  /** Paths planned with the rest but left out of the output (e.g. the image's own config). */
  readonly exclude?: readonly string[];
  readonly maxSources?: number;
}

export interface MinPullResult {
  readonly layers: Layers;
  readonly expectedBytes: number;
  readonly lowerBoundBytes: number;
  readonly lowerBoundExact: boolean;
  readonly budget: number;
  /** Per output layer: bytes and probability of changing in one update. */
  readonly layerInfo: readonly { readonly bytes: number; readonly changeProbability: number; readonly kept: boolean }[];
  readonly keptLayers: number;
}

export function minPullLayers(doc: ClosureDocument | Closure, options: MinPullOptions = {}): MinPullResult {
  const closure = doc instanceof Closure ? doc : Closure.fromDocument(doc);
  const budget = options.budget ?? availableLayers(options.maxLayers ?? 100, options.fromImageLayers ?? 0, "min-pull");
  const model = buildChangeModel(closure.paths, closure.narSize, options);
  const keep: number[][] = [];
  for (const layer of options.previous ?? []) {
    const vertices = layer.map((p) => closure.indexOf(p));
    // Input addressing: a path string still present means the path is unchanged.
    if (layer.length > 0 && vertices.every((v) => v !== undefined)) keep.push(vertices as number[]);
  }
  checkDisjoint(keep, closure);
  const plan: Plan = planMinPull({
    graph: closure,
    topo: closure.topo,
    size: closure.narSize,
    model,
    budget,
    minLayerSize: options.minLayerSize,
    maxLayerSize: options.maxLayerSize,
    keep,
    maxSources: options.maxSources,
  });
  const excluded = new Set(options.exclude ?? []);
  const layers: Layers = [];
  const layerInfo: MinPullResult["layerInfo"][number][] = [];
  for (const l of plan.layers) {
    const paths = l.vertices.map((v) => closure.paths[v]).filter((p) => !excluded.has(p));
    if (paths.length === 0) continue;
    layers.push(paths);
    layerInfo.push({ bytes: l.bytes, changeProbability: l.changeProbability, kept: l.kept });
  }
  return {
    layers,
    expectedBytes: plan.expectedBytes,
    lowerBoundBytes: plan.lowerBoundBytes,
    lowerBoundExact: plan.lowerBoundExact,
    budget,
    layerInfo,
    keptLayers: plan.layers.filter((l) => l.kept).length,
  };
}

function checkDisjoint(keep: readonly number[][], closure: Closure): void {
  const seen = new Uint8Array(closure.n);
  for (const layer of keep) {
    for (const v of layer) {
      if (seen[v]) throw new PipelineError("min-pull", `min-pull: "${closure.paths[v]}" appears in two layers of the previous plan`);
      seen[v] = 1;
    }
  }
}

/** The min-pull strategy's options: the library's, plus the common ones. */
export interface MinPullStrategyOptions extends StrategyOptions {
  readonly minLayerSize?: number;
  readonly maxLayerSize?: number;
  readonly maxSources?: number;
}

function explainMinPull(detail: MinPullResult | undefined, cx: ExplainContext): void {
  const info = Array.isArray(detail?.layerInfo) ? detail.layerInfo : [];
  const own = cx.layer === null ? undefined : info[cx.layer];
  if (own !== undefined) {
    cx.fact("change probability per update", `${(own.changeProbability * 100).toFixed(1)}%`);
    cx.fact("kept from previous plan", own.kept ? "yes" : "no");
    cx.why(
      `min-pull minimises the expected bytes pulled per update; this layer changes with probability ${(own.changeProbability * 100).toFixed(1)}% per update (expected ${formatBytes(own.changeProbability * own.bytes)} pulled).`,
    );
  }
  if (typeof detail?.expectedBytes === "number") cx.fact("plan's expected bytes per update", formatBytes(detail.expectedBytes));
}

/** "500M" -> 524288000, "2GiB", "1.5GB", "123" (powers of 1024 for K/M/G/T and KiB..., of 1000 for KB...). */
export function parseSize(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--${option} expects a size such as 500M, 2GiB or 1048576, got "${text}"`);
  return Math.round(Number(m[1]) * unit);
}

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

const SIZE_UNITS: Readonly<Record<string, number>> = {
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

/** A layers JSON list ([["path", ...], ...]), as `strata layer` prints it. */
export function readLayersList(value: unknown, what: string): Layers {
  if (!Array.isArray(value) || !value.every((l) => Array.isArray(l) && l.every((p) => typeof p === "string"))) {
    throw new UsageError(`${what}: expected a layers JSON list ([["/nix/store/...", ...], ...]) as 'strata layer' prints it`);
  }
  return value as Layers;
}

/** The change-model options are common (they also drive --order stable-first and explain); min-pull documents them. */
const documentedHere = (flag: string, type: "string", help: string, multiple = false) => ({
  flag,
  type,
  multiple,
  shared: true,
  help,
  parse: () => ({}),
});

export const minPullStrategy = defineStrategy<MinPullStrategyOptions, MinPullResult>({
  name: "min-pull",
  summary: "strata's optimizer: minimises the expected bytes pulled per update (stable with --previous)",
  plan(doc, options) {
    const closure = options.closure;
    const result = minPullLayers(closure !== undefined && closure.n === doc.entries.length ? closure : doc, {
      maxLayers: options.maxLayers,
      fromImageLayers: options.fromImageLayers,
      budget: options.budget,
      minLayerSize: options.minLayerSize,
      maxLayerSize: options.maxLayerSize,
      changesPerUpdate: options.changesPerUpdate,
      volatility: options.volatility,
      history: options.history as ClosureDocument[] | undefined,
      previous: options.previous,
      exclude: options.exclude,
    });
    return { layers: result.layers, detail: result };
  },
  takesPrevious: true,
  detailByLayer: true,
  help: {
    title: "min-pull (--strategy min-pull)",
    position: 2,
    footer: `  (--volatility, --history and --changes-per-update also drive --order
  stable-first and explain's change cost for any strategy)`,
  },
  options: [
    {
      flag: "previous",
      type: "string",
      help: `  --previous PLAN.json    the previous build's layers (a layers JSON list):
                          layers still valid are kept byte-identical`,
      parse: async (v: OptionValue, cx: OptionContext) => ({
        previous: readLayersList(await cx.readJson(v as string, "--previous"), `--previous ${v as string}`),
      }),
    },
    documentedHere("volatility", "string", `  --volatility FILE       JSON {"package-name": multiplier} of change rates`),
    documentedHere(
      "history",
      "string",
      `  --history FILE          an earlier closure of this image (repeatable, oldest
                          first): change rates learned from it`,
      true,
    ),
    documentedHere("changes-per-update", "string", "  --changes-per-update X  expected package changes per update (default 4)"),
    {
      flag: "min-layer-size",
      type: "string",
      help: "  --min-layer-size SIZE   no layer below SIZE (e.g. 5M), when it can be helped",
      parse: (v: OptionValue) => ({ minLayerSize: parseSize("min-layer-size", v as string) }),
    },
    {
      flag: "max-layer-size",
      type: "string",
      help: "  --max-layer-size SIZE   no layer above SIZE (e.g. 2GiB), when it can be helped;\n                          named caps: registry-500mb, registry-1gib,\n                          registry-5gb, registry-10gb",
      parse: (v: OptionValue) => ({ maxLayerSize: parseSizeOrCap("max-layer-size", v as string) }),
    },
    {
      // issue 15: min-pull on compressed cost; the CLI measures the weights (src/cli/plan.ts), the planner is unchanged.
      flag: "weights",
      type: "string",
      help: "  --weights compressed    weigh each path by its compressed size (gzip 6, the\n                          path alone as a layer, measured once per path and\n                          kept in the layer cache, $XDG_CACHE_HOME/strata/\n                          layers or build's --cache DIR; needs the store on\n                          disk) instead of narSize; --max-layer-size is then\n                          a compressed cap",
      parse: (v: OptionValue) => {
        if (v !== "compressed" && v !== "narsize") throw new UsageError(`--weights must be narsize or compressed, got "${String(v)}"`);
        return {};
      },
    },
  ],
  explain: explainMinPull,
  note(result, options) {
    const detail = result.detail;
    if (detail === undefined) return undefined;
    const lb = detail.lowerBoundBytes;
    return (
      `min-pull: expected ${formatBytes(detail.expectedBytes)} pulled per update (${Math.round(detail.expectedBytes)} B); lower bound ${formatBytes(lb)}${detail.lowerBoundExact ? " (exact)" : ""}` +
      (options.previous !== undefined ? `; ${detail.keptLayers} layers kept from --previous` : "")
    );
  },
  step: { name: "min_pull", argument: "layer budget", min: 1, options: (n) => ({ budget: n }) },
});
