// Nixery's layer grouping (layers.GroupLayers, reference doc B.4), exactly,
// with a deterministic tie-break where Nixery's output is random.
//
// Worked example (the seed graph of Nixery's design comment, case
// seed-AG-consistent-budget3): roots A, B, C, D; A, B, C -> E; C -> D;
// D -> F, G. closureSize A 6M, B 7M, C 168M, D 160M, E 5M, F 6M, G 150M;
// popularity E = 100, everything else 1.
//   1. Fake root edges: to the roots A, B, C, D, and to every big path
//      (closureSize > 100M: C, D, G) or popular one (>= 100: E).
//   2. Dominator tree under the fake root: A, B, C, D, E, G hang off the root
//      directly, F is dominated by D. Each child of the root is a subtree:
//      {A} {B} {C} {D,F} {E} {G}, contents sorted bytewise.
//   3. mergeRating = popularity(subtree root) x sum of closureSize of its
//      members (uint64, wrapping): A 6M, B 7M, G 150M, {D,F} 166M, C 168M,
//      E 100 x 5M = 500M. Sorted ascending.
//   4. Budget 3 < 6 subtrees: the 4 lowest are concatenated (each block
//      sorted, the whole not re-sorted) into the first layer:
//      [A,B,G,F,D] (rating 329M), [C] 168M, [E] 500M.
//   5. Nixery's manifest lists layers by rating descending (bottom first):
//      [E] 500M, [A,B,G,F,D] 329M, [C] 168M: the merged layer's sum outranks C.
import { PipelineError } from "../../errors.js";
import type { Closure } from "../../graph/closure.js";
import type { Kernels } from "../../kernels/types.js";
import { popularityOf, type PopularityMap } from "./popularity.js";
import { sha1Hex } from "./sha1.js";

/** One layer as Nixery's layers.Layer: contents, MergeRating (uint64), Hash(). */
export interface NixeryLayer {
  readonly contents: readonly string[];
  readonly mergeRating: bigint;
  readonly hash: string;
}

/** What happens to paths the roots (and big/popular paths) do not reach. */
export type UnreachablePolicy = "keep" | "drop" | "error";

export interface GroupOptions {
  /** Maximum number of layers; must be >= 1 (Nixery panics below). */
  readonly budget: number;
  readonly popularity: PopularityMap;
  /** Vertices the fake root points to (Nixery's exportReferencesGraph.graph). */
  readonly roots: readonly number[];
  /** A path is big when closureSize > this (Nixery: 100000000). */
  readonly bigClosureSize: number;
  /** A path is popular when popularity >= this (Nixery: 100). */
  readonly popularThreshold: number;
  readonly unreachable: UnreachablePolicy;
  readonly kernels: Kernels;
}

export interface GroupResult {
  /** GroupLayers' return order: the merged layer (if any) first, then ascending rating. */
  readonly layers: NixeryLayer[];
  /** The unmerged top-level subtrees, ascending by (rating, first path). */
  readonly subtrees: NixeryLayer[];
  /** Indices into `layers`, in the order of Nixery's manifest (rating descending, stable). */
  readonly manifestOrder: number[];
  /** True when two subtrees have equal ratings: Nixery's own output would vary per call. */
  readonly tiedRatings: boolean;
  /** Paths neither a root nor big/popular nor reachable from one (before any policy). */
  readonly unreachable: string[];
  /** Policy "keep": the unreached paths nothing references, given a fake-root edge like roots. */
  readonly attachedRoots: string[];
  /** Policy "drop": the paths left out of every layer, as Nixery does. */
  readonly dropped: string[];
}

export const NIXERY_BIG_CLOSURE_SIZE = 100_000_000;
export const NIXERY_POPULAR_THRESHOLD = 100;
export const NIXERY_LAYER_BUDGET = 94;

const UINT64 = 64;
const VIRTUAL_ROOT = -1;
const UNREACHABLE = -2;

export function groupLayers(closure: Closure, opts: GroupOptions): GroupResult {
  const n = closure.n;
  if (!Number.isSafeInteger(opts.budget) || opts.budget < 1) {
    // Nixery's merge loop indexes layers[1] and panics for budget <= 0.
    throw new PipelineError("bad-budget", `nixery: budget must be a whole number >= 1, got ${opts.budget} (Nixery itself panics on budget <= 0)`);
  }
  // Nixery trusts closureSize as given; a missing one decodes as 0.
  const size = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    const s = closure.givenClosureSize[v];
    size[v] = Number.isNaN(s) ? 0 : s;
  }
  const pop = new Array<number>(n);
  for (let v = 0; v < n; v++) pop[v] = popularityOf(closure.paths[v], opts.popularity);

  // Fake-root edges: every root, plus every big or popular path.
  const edge = new Uint8Array(n);
  for (const r of opts.roots) edge[r] = 1;
  for (let v = 0; v < n; v++) {
    if (size[v] > opts.bigClosureSize || pop[v] >= opts.popularThreshold) edge[v] = 1;
  }
  const seeds: number[] = [];
  for (let v = 0; v < n; v++) if (edge[v]) seeds.push(v);

  const k = opts.kernels;
  const unreachable: string[] = [];
  const attachedRoots: string[] = [];
  const dropped: string[] = [];
  const idom = k.scope(() => {
    const g = k.load(closure);
    let idom = k.dominators(g, seeds);
    for (let v = 0; v < n; v++) if (idom[v] === UNREACHABLE) unreachable.push(closure.paths[v]);
    if (unreachable.length === 0) return idom;
    if (opts.unreachable === "error") {
      throw new PipelineError(
        "unreachable-paths",
        `nixery: ${unreachable.length} path(s) are not reachable from the roots (Nixery would silently drop them), e.g. ${unreachable
          .slice(0, 3)
          .map((p) => `"${p}"`)
          .join(", ")}; give roots that cover the closure, or allow them (the default keeps them as extra roots)`,
      );
    }
    if (opts.unreachable === "drop") {
      dropped.push(...unreachable);
      return idom;
    }
    // Keep: every unreached path descends from an unreached path nothing
    // references, so giving those a fake-root edge covers all of them. The
    // result is exactly Nixery's output for the extended root list.
    for (const r of closure.roots()) {
      if (idom[r] === UNREACHABLE) {
        attachedRoots.push(closure.paths[r]);
        seeds.push(r);
      }
    }
    seeds.sort((a, b) => a - b);
    idom = k.dominators(g, seeds);
    return idom;
  });

  // Top-level subtree of each vertex. closure.topo lists referrers first and
  // a dominator is always an ancestor, so idom[v] is resolved before v.
  const top = new Int32Array(n).fill(UNREACHABLE);
  for (let i = 0; i < n; i++) {
    const v = closure.topo[i];
    const d = idom[v];
    if (d === UNREACHABLE) continue;
    top[v] = d === VIRTUAL_ROOT ? v : top[d];
  }
  const members = new Map<number, number[]>();
  for (let v = 0; v < n; v++) {
    const t = top[v];
    if (t === UNREACHABLE) continue;
    let list = members.get(t);
    if (list === undefined) members.set(t, (list = []));
    list.push(v);
  }

  interface Subtree {
    contents: string[];
    rating: bigint;
  }
  // Paths are ASCII in practice; then JS's native string order is Go's byte order.
  const byteOrder = closure.paths.some((p) => /[\ud800-\uffff]/.test(p)) ? compareBytewise : compareAscii;
  const subtrees: Subtree[] = [];
  for (const [root, vs] of members) {
    let sum = 0;
    for (const v of vs) sum += size[v];
    // Exact in a double below 2^53; otherwise redo the sum in BigInt.
    let total: bigint;
    if (Number.isSafeInteger(sum)) total = BigInt(sum);
    else {
      total = 0n;
      for (const v of vs) total += BigInt(size[v]);
    }
    const rating = BigInt.asUintN(UINT64, BigInt(pop[root]) * BigInt.asUintN(UINT64, total));
    const contents = vs.map((v) => closure.paths[v]).sort(byteOrder);
    subtrees.push({ contents, rating });
  }
  // Nixery sorts by rating with an unstable sort and random input order; the
  // tie-break (first path ascending) makes strata deterministic and is one of
  // the orders Nixery can produce.
  subtrees.sort((a, b) => (a.rating < b.rating ? -1 : a.rating > b.rating ? 1 : byteOrder(a.contents[0], b.contents[0])));
  let tiedRatings = false;
  for (let i = 1; i < subtrees.length; i++) if (subtrees[i].rating === subtrees[i - 1].rating) tiedRatings = true;

  // Merge rule: while too many layers, the first absorbs the second and stays
  // first (never re-sorted). Net effect: the n-B+1 lowest are concatenated.
  const subtreeLayers = subtrees.map((t) => makeLayer(t.contents, t.rating));
  const count = subtrees.length;
  let layers: NixeryLayer[];
  if (count > opts.budget) {
    const cut = count - opts.budget + 1;
    const contents: string[] = [];
    let rating = 0n;
    for (let i = 0; i < cut; i++) {
      for (const p of subtrees[i].contents) contents.push(p);
      rating = BigInt.asUintN(UINT64, rating + subtrees[i].rating);
    }
    layers = [makeLayer(contents, rating), ...subtreeLayers.slice(cut)];
  } else {
    layers = subtreeLayers;
  }

  return {
    layers,
    subtrees: subtreeLayers,
    manifestOrder: manifestOrder(layers),
    tiedRatings,
    unreachable,
    attachedRoots,
    dropped,
  };
}

/** A layer whose hash is computed on first use (most subtrees are merged and never need one). */
export function makeLayer(contents: readonly string[], mergeRating: bigint): NixeryLayer {
  let hash: string | undefined;
  return {
    contents,
    mergeRating,
    get hash(): string {
      return (hash ??= sha1Hex(contents.join(":")));
    },
  };
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Nixery's manifest order: all layers by MergeRating descending. Nixery
 * appends the symlink layer (rating 0) last before an unstable sort; a stable
 * sort reproduces every recorded manifest and leaves the symlink layer on top.
 */
export function manifestOrder(layers: readonly NixeryLayer[]): number[] {
  const idx = layers.map((_, i) => i);
  idx.sort((a, b) => {
    const x = layers[a].mergeRating;
    const y = layers[b].mergeRating;
    return x > y ? -1 : x < y ? 1 : a - b;
  });
  return idx;
}

/**
 * Go's sort.Strings order: bytewise on UTF-8, i.e. code point order. JS
 * compares UTF-16 code units, which differs only between surrogates and
 * U+E000..U+FFFF; those are remapped before comparing.
 */
export function compareBytewise(a: string, b: string): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
