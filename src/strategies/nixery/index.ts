// The "nixery" strategy: Nixery's dominator-tree layering (docs/nixery.md).
//
//   nixeryLayers(doc, { budget: 94, popularity }) -> { layers, detail }
//
// `layers` is bottom-first, i.e. the order of Nixery's image manifest (most
// highly rated first); `detail.layers` is GroupLayers' own return order with
// mergeRating and hash, which the `nixery` output format prints.
import { InputError, PipelineError } from "../../errors.js";
import { columnsOf } from "../../graph/closure.js";
import { describe, type ClosureDocument, type ClosureEntry } from "../../graph/document.js";
import { kernels as kernelsFor } from "../../kernels/index.js";
import type { BackendName, Kernels } from "../../kernels/types.js";
import { pyJsonDumps } from "../../format/python-json.js";
import { defineStrategy, type ExplainContext, type StrategyOptions, type StrategyResult } from "../types.js";
import {
  groupLayers,
  makeLayer,
  manifestOrder,
  closureOrder,
  unreferenced,
  NIXERY_BIG_CLOSURE_SIZE,
  NIXERY_LAYER_BUDGET,
  NIXERY_POPULAR_THRESHOLD,
  type NixeryLayer,
  type UnreachablePolicy,
} from "./group.js";
import { popcount, popcountColumns, readPopularityMap, type PopularityMap } from "./popularity.js";
import { graphFromColumns, graphFromEntries, type InputGraph } from "../../graph/input-order.js";

export { groupLayers, compareBytewise, manifestOrder, makeLayer } from "./group.js";
export type { NixeryLayer, NixeryGraph, GroupOptions, GroupResult, UnreachablePolicy } from "./group.js";
export { popcount, popcountColumns, popularityOf, readPopularityMap, storeName, OVERRIDE_POPULARITY } from "./popularity.js";
export type { PopularityMap } from "./popularity.js";
export { sha1, sha1Hex } from "./sha1.js";
export { NIXERY_BIG_CLOSURE_SIZE, NIXERY_LAYER_BUDGET, NIXERY_POPULAR_THRESHOLD };

export interface NixeryOptions {
  /** Maximum number of layers (Nixery's builder.LayerBudget, default 94). */
  readonly budget?: number;
  /**
   * Popularity counts by name without hash (Nixery's popularity JSON, as a
   * Map or the parsed object). Default: popcount over the closure itself.
   * Pass {} for Nixery without NIX_POPULARITY_URL (every popularity 1).
   */
  readonly popularity?: PopularityMap | Readonly<Record<string, number>> | null;
  /** The fake root's children. Default: doc.roots, else the paths nothing references. */
  readonly roots?: readonly string[];
  /** closureSize above which a path gets its own root edge (default 100000000). */
  readonly bigClosureSize?: number;
  /** Popularity from which a path gets its own root edge (default 100). */
  readonly popularThreshold?: number;
  /** Fail when the roots do not reach every path (default: keep them as extra roots). */
  readonly strict?: boolean;
  /** Nixery-exact: leave unreachable paths out, as Nixery does silently. */
  readonly dropUnreachable?: boolean;
  /** "reject" (default, strata's reader) or "keep-last" (Nixery: the last entry wins). */
  readonly duplicates?: "reject" | "keep-last";
  /** Paths removed from the output after grouping (hashes follow the remaining contents). */
  readonly exclude?: readonly string[];
  /** Kernel backend for the dominator tree (default: the Wasm backend). */
  readonly kernels?: Kernels | BackendName;
}

export interface NixeryDetail {
  /** GroupLayers' return order: merged layer first (if any), then ascending rating. */
  readonly layers: NixeryLayer[];
  /** Indices into `layers`, bottom-first as in Nixery's manifest (rating descending). */
  readonly manifestOrder: number[];
  /** The unmerged dominator subtrees, ascending by (rating, first path). */
  readonly subtrees: NixeryLayer[];
  /** Equal subtree ratings: Nixery's output would vary; strata used the (rating, first path) tie-break. */
  readonly tiedRatings: boolean;
  readonly roots: string[];
  readonly rootsFrom: "option" | "document" | "unreferenced";
  readonly popularityFrom: "given" | "popcount";
  /** Paths the roots and big/popular paths do not reach. */
  readonly unreachable: string[];
  /** Unreached paths nothing references, given a fake-root edge (default policy). */
  readonly attachedRoots: string[];
  /** Paths left out (dropUnreachable). */
  readonly dropped: string[];
  /** Earlier entries of duplicated paths dropped (duplicates: "keep-last"). */
  readonly duplicatesDropped: number;
  /** Paths without closureSize, counted as 0 as Nixery does. */
  readonly missingClosureSize: number;
  /** Human-readable notes for stderr. */
  readonly warnings: string[];
}

export interface NixeryResult extends StrategyResult {
  readonly detail: NixeryDetail;
}

export function nixeryLayers(doc: ClosureDocument, options: NixeryOptions = {}): NixeryResult {
  const warnings: string[] = [];
  const budget = options.budget ?? NIXERY_LAYER_BUDGET;
  const bigClosureSize = checkNumber(options.bigClosureSize ?? NIXERY_BIG_CLOSURE_SIZE, "bigClosureSize");
  const popularThreshold = checkNumber(options.popularThreshold ?? NIXERY_POPULAR_THRESHOLD, "popularThreshold");
  if (options.strict && options.dropUnreachable) {
    throw new PipelineError("bad-option", "nixery: strict and dropUnreachable contradict each other; choose one");
  }
  const policy: UnreachablePolicy = options.strict ? "error" : options.dropUnreachable ? "drop" : "keep";

  let duplicatesDropped = 0;
  const duplicates = options.duplicates ?? "reject";
  let graph: InputGraph;
  let columns = columnsOf(doc);
  let entries: () => readonly ClosureEntry[] = () => doc.entries;
  if (duplicates === "keep-last") {
    const kept = keepLast(doc.entries);
    entries = () => kept;
    duplicatesDropped = doc.entries.length - kept.length;
    if (duplicatesDropped > 0)
      warnings.push(
        `nixery: ${duplicatesDropped} duplicate entr${duplicatesDropped === 1 ? "y" : "ies"} dropped, the last entry of each path kept (as Nixery does)`,
      );
    columns = undefined;
    graph = graphFromEntries(kept);
  } else if (duplicates !== "reject") {
    throw new PipelineError("bad-option", `nixery: duplicates must be "reject" or "keep-last", got ${describe(duplicates)}`);
  } else {
    // Vertices in input order (no Closure: its narSize order, topological
    // order and path Map are not needed here); from the streaming reader's
    // columns when the document has them.
    graph = columns !== undefined ? graphFromColumns(columns) : graphFromEntries(doc.entries);
  }

  let popularity: PopularityMap;
  let popularityFrom: NixeryDetail["popularityFrom"];
  let vertexPopularity: ArrayLike<number> | undefined;
  if (options.popularity === undefined || options.popularity === null) {
    if (columns !== undefined) {
      popularity = new Map(); // not consulted: every vertex's popularity is given
      vertexPopularity = popcountColumns(columns);
    } else popularity = popcount(entries());
    popularityFrom = "popcount";
  } else {
    popularity = readPopularityMap(options.popularity);
    popularityFrom = "given";
  }

  let rootPaths: () => readonly string[];
  let rootsFrom: NixeryDetail["rootsFrom"];
  const roots: number[] = [];
  if (options.roots !== undefined || doc.roots !== undefined) {
    const given = options.roots ?? doc.roots!;
    rootsFrom = options.roots !== undefined ? "option" : "document";
    for (const p of given) {
      const v = graph.indexOf(p);
      if (v === undefined) {
        const message = `nixery: root "${p}" is not in the closure (Nixery panics on this)`;
        if (rootsFrom === "option") throw new PipelineError("bad-root", message);
        throw new InputError("dangling-reference", message, p);
      }
      roots.push(v);
    }
    rootPaths = () => given;
  } else {
    for (const v of unreferenced(graph)) roots.push(v);
    rootsFrom = "unreferenced";
    // Reported in Closure order (narSize ascending, then input position).
    rootPaths = () => closureOrder(graph, roots).map((v) => graph.paths[v]);
  }

  let missingClosureSize = 0;
  for (let v = 0; v < graph.n; v++) if (Number.isNaN(graph.givenClosureSize[v])) missingClosureSize++;
  if (missingClosureSize > 0) {
    warnings.push(`nixery: ${missingClosureSize} of ${graph.n} paths have no closureSize; Nixery counts them as 0, which makes merge ratings tie`);
  }

  const k = typeof options.kernels === "string" ? kernelsFor(options.kernels) : (options.kernels ?? kernelsFor());
  const g = groupLayers(graph, {
    budget,
    popularity,
    vertexPopularity,
    roots,
    bigClosureSize,
    popularThreshold,
    unreachable: policy,
    kernels: k,
  });
  if (g.attachedRoots.length > 0) {
    warnings.push(
      `nixery: ${g.unreachable.length} path(s) are not reachable from the roots; Nixery would drop them, strata keeps them by treating ${g.attachedRoots.length} unreferenced path(s) as extra roots (use strict to fail, dropUnreachable to drop)`,
    );
  }
  if (g.dropped.length > 0) warnings.push(`nixery: ${g.dropped.length} path(s) unreachable from the roots were dropped (as Nixery does)`);
  if (g.tiedRatings) {
    warnings.push("nixery: some subtrees have equal merge ratings; Nixery's order would vary per call, strata breaks ties by first path");
  }

  let layers = g.layers;
  let order = g.manifestOrder;
  if (options.exclude !== undefined && options.exclude.length > 0) {
    const excluded = new Set(options.exclude);
    layers = layers
      .map((l) =>
        makeLayer(
          l.contents.filter((p) => !excluded.has(p)),
          l.mergeRating,
        ),
      )
      .filter((l) => l.contents.length > 0);
    order = manifestOrder(layers);
  }

  let rootList: string[] | undefined;
  return {
    layers: order.map((i) => [...layers[i].contents]),
    detail: {
      layers,
      manifestOrder: order,
      // Both built on first access: most callers never read them.
      get subtrees(): NixeryLayer[] {
        return g.subtrees;
      },
      tiedRatings: g.tiedRatings,
      get roots(): string[] {
        return (rootList ??= [...rootPaths()]);
      },
      rootsFrom,
      popularityFrom,
      unreachable: g.unreachable,
      attachedRoots: g.attachedRoots,
      dropped: g.dropped,
      duplicatesDropped,
      missingClosureSize,
      warnings,
    },
  };
}

/** Nixery's own JSON view: [{contents, mergeRating, hash}] in GroupLayers order. */
export function formatNixeryJson(layers: readonly NixeryLayer[]): string {
  const value = layers.map((l) => ({ contents: l.contents, mergeRating: l.mergeRating, hash: l.hash }));
  return pyJsonDumps(value, 2) + "\n";
}

/** The nixery strategy's options, as callers pass them (numbers may come as decimal strings). */
export interface NixeryStrategyOptions extends StrategyOptions {
  readonly popularity?: PopularityMap | Readonly<Record<string, number>> | null;
  readonly bigClosureSize?: number | string;
  readonly popularThreshold?: number | string;
  readonly strict?: boolean;
  readonly dropUnreachable?: boolean;
  readonly duplicates?: NixeryOptions["duplicates"];
}

function explainNixery(detail: NixeryDetail | undefined, cx: ExplainContext): void {
  const layers = Array.isArray(detail?.layers) ? detail.layers : [];
  const own = layers.find((l) => l.contents.includes(cx.path));
  if (own !== undefined) {
    cx.fact("merge rating", String(own.mergeRating));
    cx.why(
      `Nixery gives each dominator subtree of the popular or big paths a layer and merges the lowest-rated ones (rating = popularity x size) until the budget holds; this layer is rated ${String(own.mergeRating)}.`,
    );
  }
  if (typeof detail?.popularityFrom === "string") cx.fact("popularity from", detail.popularityFrom);
}

export const nixeryStrategy = defineStrategy<NixeryStrategyOptions, NixeryDetail>({
  name: "nixery",
  summary: "Nixery's dominator-tree layering (budget 94, popularity-weighted), reproduced exactly",
  plan(doc: ClosureDocument, options: NixeryStrategyOptions): NixeryResult {
    return nixeryLayers(doc, strategyOptions(options));
  },
  formats: {
    nixery: (result) => formatNixeryJson(result.detail!.layers),
  },
  defaultBudget: { layers: NIXERY_LAYER_BUDGET, why: "Nixery's LayerBudget; Nixery adds 1 symlink layer" },
  help: { title: "Nixery (--strategy nixery)", position: 1 },
  options: [
    {
      flag: "root",
      type: "string",
      multiple: true,
      help: `  --root PATH             root of the image (repeatable; default: the
                          document's roots, else the paths nothing references)`,
      parse: (v) => ({ roots: v as string[] }),
    },
    {
      flag: "popularity",
      type: "string",
      help: `  --popularity FILE       Nixery popularity JSON ({"name": count}); default:
                          counts over the closure itself`,
      parse: async (v, cx) => ({ popularity: (await cx.readJson(v as string, "--popularity")) as NixeryStrategyOptions["popularity"] }),
    },
    {
      flag: "strict",
      type: "boolean",
      shared: true,
      help: "  --strict                fail when the roots do not reach every path",
      parse: (v) => (v === true ? { strict: true } : {}),
    },
    {
      flag: "drop-unreachable",
      type: "boolean",
      help: "  --drop-unreachable      leave unreachable paths out, as Nixery does",
      parse: (v) => (v === true ? { dropUnreachable: true } : {}),
    },
  ],
  explain: explainNixery,
  warnings: (result) => result.detail?.warnings ?? [],
  step: { name: "nixery", argument: "layer budget", min: 1, options: (n) => ({ budget: n }) },
});

function strategyOptions(o: NixeryStrategyOptions): NixeryOptions {
  const out: { -readonly [K in keyof NixeryOptions]: NixeryOptions[K] } = {};
  if (o.budget !== undefined) out.budget = toNumber(o.budget, "budget");
  if (o.popularity !== undefined && o.popularity !== null) out.popularity = readPopularityMap(o.popularity);
  if (o.roots !== undefined && o.roots.length > 0) out.roots = o.roots;
  if (o.bigClosureSize !== undefined) out.bigClosureSize = toNumber(o.bigClosureSize, "bigClosureSize");
  if (o.popularThreshold !== undefined) out.popularThreshold = toNumber(o.popularThreshold, "popularThreshold");
  if (o.strict !== undefined) out.strict = Boolean(o.strict);
  if (o.dropUnreachable !== undefined) out.dropUnreachable = Boolean(o.dropUnreachable);
  if (o.duplicates !== undefined) out.duplicates = o.duplicates;
  if (o.exclude !== undefined) out.exclude = o.exclude;
  if (o.kernels !== undefined) out.kernels = o.kernels;
  return out;
}

function toNumber(v: unknown, name: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
  throw new PipelineError("bad-option", `nixery: ${name} must be a number, got ${describe(v)}`);
}

function checkNumber(v: number, name: string): number {
  if (typeof v !== "number" || Number.isNaN(v)) throw new PipelineError("bad-option", `nixery: ${name} must be a number, got ${describe(v)}`);
  return v;
}

/** Nixery's path map keeps the last entry per path; earlier ones vanish. */
function keepLast(entries: readonly ClosureEntry[]): ClosureEntry[] {
  const last = new Map<string, number>();
  entries.forEach((e, i) => last.set(e.path, i));
  if (last.size === entries.length) return [...entries];
  return entries.filter((e, i) => last.get(e.path) === i);
}
