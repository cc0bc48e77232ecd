// The "auto-layer" strategy: nixpkgs' dockerAutoLayer (the default layering
// of streamLayeredImage since PR #355189), byte for byte. The algorithm is in
// algorithm.ts; this file adapts closures and documents to it and holds the
// limit arithmetic of auto-layer.nix and the two output formats.
import { PipelineError } from "../../errors.js";
import type { ClosureDocument, ClosureEntry } from "../../graph/document.js";
import { formatLayersCompact, pyJsonDumps } from "../../format/python-json.js";
import { availableLayers, defineStrategy, type ExplainContext, type StrategyOptions, type StrategyResult } from "../types.js";
import { graphFromEntries, graphOf } from "../../graph/input-order.js";
import { autoLayerGraph, type AutoLayerGraph, type AutoLayerInfo, type AutoLayerResult } from "./algorithm.js";

export { autoLayerGraph, candidateOrder, nameOrder } from "./algorithm.js";
export { graphFromColumns, graphFromEntries, graphOf } from "../../graph/input-order.js";
export type { InputGraph } from "../../graph/input-order.js";
export type { AutoLayerGraph, AutoLayerInfo, AutoLayerOptions, AutoLayerResult } from "./algorithm.js";
export { cpythonSetOrder, frozensetHash, frozensetHashFromHashes } from "./cpython-set-order.js";
export { cpythonStrHash, siphash13 } from "./siphash.js";

export interface AutoLayerParams {
  /**
   * auto-layer.py's LAYER_LIMIT as is (0 and negatives allowed; they act
   * like 1). When absent it is derived like auto-layer.nix does.
   */
  readonly limit?: number;
  /** dockerTools' maxLayers (default 100). */
  readonly maxLayers?: number;
  /** Layers of the base image (fromImage). */
  readonly fromImageLayers?: number;
  /** Paths removed from the result after planning (excludePaths). */
  readonly ignore?: Iterable<string>;
}

/**
 * auto-layer.nix's limit: maxLayers - 1 (customisation layer) - base image
 * layers; an error when no layer is left, as the Nix build fails then.
 */
export function autoLayerLimit(maxLayers = 100, fromImageLayers = 0): number {
  return availableLayers(maxLayers, fromImageLayers, "auto-layer");
}

/**
 * nixpkgs' auto-layer on a closure: a list of exportReferencesGraph entries
 * (validated: duplicates, dangling references and cycles are rejected with an
 * InputError) or any AutoLayerGraph: a strata Closure (its inputIndex keeps
 * the input order) or a sub-graph.
 */
export function autoLayer(input: readonly ClosureEntry[] | AutoLayerGraph, params: AutoLayerParams = {}): AutoLayerResult {
  const graph: AutoLayerGraph = Array.isArray(input) ? graphFromEntries(input as readonly ClosureEntry[]) : (input as AutoLayerGraph);
  const limit = params.limit ?? autoLayerLimit(params.maxLayers, params.fromImageLayers);
  return autoLayerGraph(graph, { limit, ignore: params.ignore });
}

/** What plan() puts in StrategyResult.detail. */
export interface AutoLayerDetail {
  readonly limit: number;
  readonly info: AutoLayerInfo[];
  readonly primaries: string[];
  readonly labelCount: number;
  readonly fastPath: boolean;
}

/** auto-layer.py's stdout, json.dumps(layers) + "\n", byte for byte (formatLayersCompact). */
export function formatAutoLayerStdout(layers: readonly (readonly string[])[]): string {
  return formatLayersCompact(layers);
}

/** The auto-layer strategy's options. */
export interface AutoLayerStrategyOptions extends StrategyOptions {
  /** auto-layer.py's raw LAYER_LIMIT (compat cases, the pipeline step); otherwise nixpkgs' arithmetic. */
  readonly layerLimit?: number;
  /** Same as layerLimit. */
  readonly limit?: number;
}

function optionalInteger(options: AutoLayerStrategyOptions, key: "layerLimit" | "limit"): number | undefined {
  const v: unknown = options[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new PipelineError("bad-option", `auto-layer: option ${key} must be a whole number, got ${String(v)}`);
  }
  return v;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function explainAutoLayer(detail: AutoLayerDetail | undefined, cx: ExplainContext): void {
  const primaries = Array.isArray(detail?.primaries) ? detail.primaries : [];
  const info = Array.isArray(detail?.info) ? detail.info : [];
  const entry = info.find((l) => l.paths.includes(cx.path));
  const isPrimary = primaries.includes(cx.path);
  cx.fact("primary", isPrimary ? "yes" : "no");
  cx.fact("primaries in the plan", String(primaries.length));
  if (typeof detail?.limit === "number") cx.fact("layer limit", String(detail.limit));
  if (entry !== undefined) {
    cx.fact("used by primaries", entry.usedBy.length === 0 ? "(none)" : entry.usedBy.map(baseName).join(", "));
    cx.why(
      isPrimary
        ? "auto-layer picked it as a primary: it labels its own layer, and every path only it uses joins it."
        : `auto-layer groups paths by the set of primaries whose closure contains them; this one is used by ${entry.usedBy.length} primar${entry.usedBy.length === 1 ? "y" : "ies"}.`,
    );
  }
}

export const autoLayerStrategy = defineStrategy<AutoLayerStrategyOptions, AutoLayerDetail>({
  name: "auto-layer",
  summary: "nixpkgs' auto-layer (streamLayeredImage's default): one layer per set of large primaries using a path",
  plan(doc: ClosureDocument, options: AutoLayerStrategyOptions): StrategyResult<AutoLayerDetail> {
    // `layerLimit` is the raw LAYER_LIMIT (compat cases, sub-graph use); otherwise nixpkgs' arithmetic.
    const raw = optionalInteger(options, "layerLimit") ?? optionalInteger(options, "limit");
    const limit = raw ?? autoLayerLimit(options.maxLayers, options.fromImageLayers);
    // Like the CLI's --exclude: the given list replaces the document's exclude_paths.
    const ignore = options.exclude ?? doc.excludePaths ?? [];
    // The streaming reader's columns when the document has them (no entry objects).
    const result = autoLayerGraph(graphOf(doc), { limit, ignore });
    const detail: AutoLayerDetail = {
      limit,
      info: result.info,
      primaries: result.primaries,
      labelCount: result.labelCount,
      fastPath: result.fastPath,
    };
    return { layers: result.layers, detail };
  },
  formats: {
    /** auto-layer.py's stdout: json.dumps(result) and a newline. */
    "auto-layer": (result) => formatAutoLayerStdout(result.layers),
    /** auto-layer.py's DEBUG=1 stderr: the layer info before exclusion, json.dumps(indent=2). */
    debug: (result) => {
      const detail = result.detail as Partial<AutoLayerDetail> | undefined;
      if (!detail || !Array.isArray(detail.info)) {
        throw new PipelineError("no-debug-info", "auto-layer: --format debug needs a result planned by the auto-layer strategy");
      }
      return pyJsonDumps(detail.info, 2) + "\n";
    },
  },
  explain: explainAutoLayer,
  // auto_layer takes auto-layer.py's raw LAYER_LIMIT (0 and negatives behave like 1, as there).
  step: { name: "auto_layer", argument: "layer limit", min: -Infinity, options: (n) => ({ layerLimit: n }) },
});

export default autoLayerStrategy;
