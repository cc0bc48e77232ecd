// "Why is this path in that layer?": the facts every strategy shares (layer,
// sizes, closure, referrers, nixpkgs popularity) plus what the strategy's
// result exposes (auto-layer's primaries, Nixery's merge ratings, min-pull's
// change probabilities, the pipeline that ran).
import { InputError } from "../errors.js";
import { layerBytes, sizeTable } from "../evaluate/evaluate.js";
import type { Closure } from "../graph/closure.js";
import type { ClosureDocument } from "../graph/document.js";
import type { Kernels } from "../kernels/types.js";
import { pipelineToJson, type Pipeline } from "../pipeline/model.js";
import { formatBytes } from "../report/format.js";
import type { StrategyResult } from "../strategies/types.js";

export interface Fact {
  readonly label: string;
  readonly value: string;
}

export interface Explanation {
  readonly path: string;
  readonly strategy: string;
  /** Bottom-first index of the path's layer; null when the plan leaves it out (excluded). */
  readonly layer: number | null;
  readonly layerCount: number;
  readonly layerPaths: number;
  readonly layerBytes: number;
  /** Position of the path inside its layer (the order decides the layer's digest). */
  readonly positionInLayer: number | null;
  readonly narSize: number;
  /** The path and everything it references, transitively. */
  readonly closureBytes: number;
  readonly closurePaths: number;
  /** Paths that reference it directly (none: a root of the closure). */
  readonly referrers: number;
  readonly references: number;
  /** nixpkgs' popularity (decimal: it can exceed 2^53) and rank in popularity_contest order. */
  readonly popularity: string;
  readonly popularityRank: number;
  /** Strategy-specific facts. */
  readonly facts: readonly Fact[];
  /** Plain sentences: why the path sits where it does. */
  readonly why: readonly string[];
}

export interface ExplainInput {
  readonly doc: ClosureDocument;
  readonly closure: Closure;
  readonly kernels: Kernels;
  readonly popularity: { readonly values: readonly bigint[]; readonly rank: Uint32Array };
  readonly strategy: string;
  readonly result: StrategyResult;
  readonly path: string;
}

export function explainPath(input: ExplainInput): Explanation {
  const { closure, kernels: k, result, path } = input;
  const v = closure.indexOf(path);
  if (v === undefined) throw new InputError("bad-path", `"${path}" is not a path of this closure`, path);
  const reached = k.scope(() => k.reach(k.load(closure), [v], "out"));
  let closureBytes = 0;
  let closurePaths = 0;
  for (let w = 0; w < closure.n; w++) {
    if (reached[w]) {
      closureBytes += closure.narSize[w];
      closurePaths++;
    }
  }
  let referrers = 0;
  for (let e = 0; e < closure.targets.length; e++) if (closure.targets[e] === v) referrers++;

  const layers = result.layers;
  let layer: number | null = null;
  let positionInLayer: number | null = null;
  for (let i = 0; i < layers.length && layer === null; i++) {
    const at = layers[i].indexOf(path);
    if (at >= 0) {
      layer = i;
      positionInLayer = at;
    }
  }
  const sizes = sizeTable(input.doc);
  const held = layer === null ? [] : layers[layer];
  const heldBytes = layerBytes(held, sizes);
  const narSize = closure.narSize[v];
  const rank = input.popularity.rank[v];
  const facts: Fact[] = [];
  const why: string[] = [];
  if (layer === null) {
    why.push("The plan leaves this path out (it is excluded, or the strategy dropped it).");
  } else {
    why.push(
      held.length === 1
        ? `It has layer ${layer + 1} of ${layers.length} to itself.`
        : `It shares layer ${layer + 1} of ${layers.length} with ${held.length - 1} other path${held.length === 2 ? "" : "s"} (${formatBytes(heldBytes)} together).`,
    );
  }
  strategyFacts(input, layer, facts, why);
  return {
    path,
    strategy: input.strategy,
    layer,
    layerCount: layers.length,
    layerPaths: held.length,
    layerBytes: heldBytes,
    positionInLayer,
    narSize,
    closureBytes,
    closurePaths,
    referrers,
    references: closure.references(v).length,
    popularity: input.popularity.values[v].toString(),
    popularityRank: rank,
    facts,
    why,
  };
}

function strategyFacts(input: ExplainInput, layer: number | null, facts: Fact[], why: string[]): void {
  const { strategy, result, path, closure } = input;
  const detail = (result.detail ?? {}) as Record<string, unknown>;
  const rank = input.popularity.rank[closure.indexOf(path)!];
  switch (strategy) {
    case "pipeline":
    case "popularity": {
      const pipeline = detail.pipeline as Pipeline | undefined;
      if (pipeline !== undefined) facts.push({ label: "pipeline", value: JSON.stringify(pipelineToJson(pipeline)) });
      const limit = pipeline?.length === 2 && pipeline[0].op === "popularity_contest" && pipeline[1].op === "limit_layers" ? pipeline[1].count : undefined;
      if (limit !== undefined) {
        why.push(
          rank < limit
            ? `popularity_contest ranks it #${rank} of ${closure.n}; limit_layers ${limit} gives each of the ${limit - 1} most popular paths its own layer.`
            : `popularity_contest ranks it #${rank} of ${closure.n}, below the ${limit - 1} most popular paths, so limit_layers ${limit} merges it into the last layer.`,
        );
      } else {
        why.push(`The pipeline decides; popularity_contest would rank it #${rank} of ${closure.n}.`);
      }
      break;
    }
    case "auto-layer": {
      const primaries = Array.isArray(detail.primaries) ? (detail.primaries as string[]) : [];
      const info = Array.isArray(detail.info) ? (detail.info as { usedBy: string[]; paths: string[]; closureSize: number }[]) : [];
      const entry = info.find((l) => l.paths.includes(path));
      const isPrimary = primaries.includes(path);
      facts.push({ label: "primary", value: isPrimary ? "yes" : "no" });
      facts.push({ label: "primaries in the plan", value: String(primaries.length) });
      if (typeof detail.limit === "number") facts.push({ label: "layer limit", value: String(detail.limit) });
      if (entry !== undefined) {
        facts.push({ label: "used by primaries", value: entry.usedBy.length === 0 ? "(none)" : entry.usedBy.map(baseName).join(", ") });
        why.push(
          isPrimary
            ? "auto-layer picked it as a primary: it labels its own layer, and every path only it uses joins it."
            : `auto-layer groups paths by the set of primaries whose closure contains them; this one is used by ${entry.usedBy.length} primar${entry.usedBy.length === 1 ? "y" : "ies"}.`,
        );
      }
      break;
    }
    case "nixery": {
      const layers = Array.isArray(detail.layers) ? (detail.layers as { contents: string[]; mergeRating: bigint }[]) : [];
      const own = layers.find((l) => l.contents.includes(path));
      if (own !== undefined) {
        facts.push({ label: "merge rating", value: String(own.mergeRating) });
        why.push(
          `Nixery gives each dominator subtree of the popular or big paths a layer and merges the lowest-rated ones (rating = popularity x size) until the budget holds; this layer is rated ${String(own.mergeRating)}.`,
        );
      }
      if (typeof detail.popularityFrom === "string") facts.push({ label: "popularity from", value: detail.popularityFrom });
      break;
    }
    case "min-pull": {
      const info = Array.isArray(detail.layerInfo) ? (detail.layerInfo as { bytes: number; changeProbability: number; kept: boolean }[]) : [];
      const own = layer === null ? undefined : info[layer];
      if (own !== undefined) {
        facts.push({ label: "change probability per update", value: `${(own.changeProbability * 100).toFixed(1)}%` });
        facts.push({ label: "kept from previous plan", value: own.kept ? "yes" : "no" });
        why.push(
          `min-pull minimises the expected bytes pulled per update; this layer changes with probability ${(own.changeProbability * 100).toFixed(1)}% per update (expected ${formatBytes(own.changeProbability * own.bytes)} pulled).`,
        );
      }
      if (typeof detail.expectedBytes === "number") facts.push({ label: "plan's expected bytes per update", value: formatBytes(detail.expectedBytes) });
      break;
    }
    default: {
      for (const [key, value] of Object.entries(detail)) {
        if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") facts.push({ label: key, value: String(value) });
      }
    }
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
