// "Why is this path in that layer?": the facts every strategy shares (layer,
// sizes, closure, referrers, nixpkgs popularity) plus what the strategy adds
// through its `explain` (auto-layer's primaries, Nixery's merge ratings,
// min-pull's change probabilities, the pipeline that ran). One module for every
// front end: the worker and `strata explain` compute here, and both the CLI's
// text and the web page render `explanationRows`. Platform-neutral.
import { InputError } from "../errors.js";
import { layerBytes, sizeTable } from "../evaluate/evaluate.js";
import { Closure } from "../graph/closure.js";
import type { ClosureDocument } from "../graph/document.js";
import type { Kernels } from "../kernels/types.js";
import { popularityTieKey, sortByPopularity } from "../pipeline/package-name.js";
import { formatBytes } from "../report/format.js";
import type { ChangeModelOptions } from "../model/change.js";
import { layerChangeProbabilities } from "../strategies/order.js";
import type { AnyStrategy, Layers, StrategyResult } from "../strategies/types.js";

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
  readonly strategy: AnyStrategy;
  /** The plan; its detail is the strategy's own (leave it out when the layers were changed afterwards). */
  readonly result: StrategyResult;
  readonly path: string;
}

/** Rank of each vertex in popularity_contest's order (1 = most popular, ties by package name). */
export function popularityRanks(values: readonly bigint[], closure: Closure): Uint32Array {
  const order = sortByPopularity(closure.n, values, (v) => popularityTieKey(closure.paths[v]));
  const rank = new Uint32Array(closure.n);
  order.forEach((v, i) => (rank[v] = i + 1));
  return rank;
}

/** The vertex of `path`; an InputError when the closure does not hold it. */
function vertexOf(closure: Closure, path: string): number {
  const v = closure.indexOf(path);
  if (v === undefined) throw new InputError("bad-path", `"${path}" is not a path of this closure`, path);
  return v;
}

export function explainPath(input: ExplainInput): Explanation {
  const { closure, kernels: k, result, path } = input;
  const v = vertexOf(closure, path);
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
    strategy: input.strategy.name,
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
  if (strategy.explain !== undefined) {
    strategy.explain(result.detail, {
      path,
      layer,
      closure,
      popularityRank: input.popularity.rank[closure.indexOf(path)!],
      fact: (label, value) => facts.push({ label, value }),
      why: (sentence) => why.push(sentence),
    });
    return;
  }
  // A strategy that does not explain itself: the plain values of its detail.
  const detail = (result.detail ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(detail)) {
    if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") facts.push({ label: key, value: String(value) });
  }
}

export interface FullExplanation extends Explanation {
  /** Immediate dominator: every path from a root to this one passes through it (null: only the image root). */
  readonly dominator: string | null;
  /** Roots of the closure (or the document's roots) whose closure contains the path. */
  readonly reachedFrom: string[];
  /** Groups whose pattern matched the path, the one that took it first; null without groups. */
  readonly groups: readonly string[] | null;
  /** P(the path's layer changes in one update) and the bytes that costs on average. */
  readonly layerChangeProbability: number | null;
  readonly expectedLayerBytesPerUpdate: number | null;
  /** The other paths of its layer, in layer order, with their narSize. */
  readonly layerMates: { readonly path: string; readonly narSize: number }[];
}

export interface PlanExplainInput {
  readonly doc: ClosureDocument;
  readonly layers: Layers;
  readonly strategy: AnyStrategy;
  /** The strategy's detail, when it still describes `layers`. */
  readonly detail?: unknown;
  readonly kernels: Kernels;
  readonly roots?: readonly string[];
  readonly assignments?: ReadonlyMap<string, readonly string[]>;
  readonly model?: ChangeModelOptions;
  /** Paths left out of the image: the graph nixpkgs sees has them removed (unless PATH is one). */
  readonly excluded?: readonly string[];
}

/** Everything about one path of a plan: explainPath plus dominator, roots, groups and change cost. */
export function explainPlannedPath(input: PlanExplainInput, path: string): FullExplanation {
  const excluded = input.excluded !== undefined && !input.excluded.includes(path) ? input.excluded : [];
  const closure = Closure.fromDocument(input.doc, { exclude: excluded });
  const k = input.kernels;
  const v = vertexOf(closure, path);
  const rootList = (input.roots ?? []).map((p) => closure.indexOf(p)).filter((r): r is number => r !== undefined);
  const roots = rootList.length > 0 ? rootList : closure.roots();
  // One load for the whole-graph kernels (each load copies the graph and builds its reverse).
  const { values, idom, ancestors } = k.scope(() => {
    const g = k.load(closure);
    return { values: k.popularity(g), idom: k.dominators(g, roots), ancestors: k.reach(g, [v], "in") };
  });
  const base = explainPath({
    doc: input.doc,
    closure,
    kernels: k,
    popularity: { values, rank: popularityRanks(values, closure) },
    strategy: input.strategy,
    result: { layers: input.layers, detail: input.detail },
    path,
  });
  const d = idom[v];
  const reachedFrom = roots.filter((r) => ancestors[r]).map((r) => closure.paths[r]);
  let p: number | null = null;
  let expected: number | null = null;
  if (base.layer !== null) {
    p = layerChangeProbabilities(closure, input.layers, input.model ?? {})[base.layer];
    expected = p * base.layerBytes;
  }
  const mates = base.layer === null ? [] : input.layers[base.layer].filter((q) => q !== path);
  return {
    ...base,
    dominator: d >= 0 ? closure.paths[d] : null,
    reachedFrom,
    groups: input.assignments === undefined ? null : (input.assignments.get(path) ?? []),
    layerChangeProbability: p,
    expectedLayerBytesPerUpdate: expected,
    layerMates: mates.map((q) => ({ path: q, narSize: closure.narSize[closure.indexOf(q)!] })),
  };
}

/**
 * The rows every front end shows, label and value, in order: the CLI prints
 * them as a table, the web page as a definition list. Rows of the full
 * explanation (dominator, roots, groups, change cost) appear when present.
 */
export function explanationRows(e: Explanation & Partial<FullExplanation>): [label: string, value: string][] {
  const rows: [string, string][] = [];
  rows.push([
    "layer",
    e.layer === null
      ? "none (left out of the image)"
      : `${e.layer + 1} of ${e.layerCount} (position ${e.positionInLayer! + 1} of ${e.layerPaths}, ${formatBytes(e.layerBytes)})`,
  ]);
  rows.push(["size", `${formatBytes(e.narSize)} (${e.narSize} B)`]);
  rows.push(["closure", `${formatBytes(e.closureBytes)} in ${e.closurePaths} path${e.closurePaths === 1 ? "" : "s"}`]);
  rows.push(["referrers", `${e.referrers} (references ${e.references})`]);
  rows.push(["popularity", `${e.popularity} (#${e.popularityRank} in popularity_contest order)`]);
  if (e.dominator !== undefined) rows.push(["dominator", e.dominator ?? "none: reached from more than one root, or a root itself"]);
  if (e.reachedFrom !== undefined) {
    rows.push([
      "reached from",
      e.reachedFrom.length === 0
        ? "(it is not below any root)"
        : `${e.reachedFrom.length} root${e.reachedFrom.length === 1 ? "" : "s"}: ${e.reachedFrom.slice(0, 5).join(", ")}${e.reachedFrom.length > 5 ? ", ..." : ""}`,
    ]);
  }
  if (e.groups !== undefined && e.groups !== null)
    rows.push([
      "groups",
      e.groups.length === 0 ? "none matched" : e.groups.length === 1 ? e.groups[0] : `${e.groups[0]} (also matched: ${e.groups.slice(1).join(", ")})`,
    ]);
  if (e.layerChangeProbability !== undefined && e.layerChangeProbability !== null) {
    rows.push([
      "change cost",
      `its layer changes in ${(e.layerChangeProbability * 100).toFixed(1)}% of updates: ${formatBytes(e.expectedLayerBytesPerUpdate!)} pulled per update on average`,
    ]);
  }
  for (const f of e.facts) rows.push([f.label, f.value]);
  return rows;
}
