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
import type { CsrGraph } from "../../graph/csr.js";
import type { Kernels } from "../../kernels/types.js";
import { popularityOf, type PopularityMap } from "./popularity.js";
import { sha1Hex } from "./sha1.js";
import { compareCodePoints } from "../../graph/store-name.js";
import { radixSortByKey } from "../../util/radix.js";
import { bytewiseOrder } from "./order.js";

/** One layer as Nixery's layers.Layer: contents, MergeRating (uint64), Hash(). */
export interface NixeryLayer {
  readonly contents: readonly string[];
  readonly mergeRating: bigint;
  readonly hash: string;
}

/**
 * The graph GroupLayers runs on: a strata Closure, or the input-order graph
 * of src/graph/input-order.ts (cheaper to build). Acyclic, no self
 * references; repeated edges are harmless. The result does not depend on the
 * vertex numbering: lists reported in vertex order (unreachable, attached
 * roots) are put in Closure order, narSize ascending then input position.
 */
export interface NixeryGraph extends CsrGraph {
  readonly paths: readonly string[];
  readonly narSize: ArrayLike<number>;
  /** closureSize as given; NaN (absent) counts as 0, as in Nixery. */
  readonly givenClosureSize: ArrayLike<number>;
  /** Input position of each vertex; identity when absent. */
  readonly inputIndex?: ArrayLike<number>;
}

/** What happens to paths the roots (and big/popular paths) do not reach. */
export type UnreachablePolicy = "keep" | "drop" | "error";

export interface GroupOptions {
  /** Maximum number of layers; must be >= 1 (Nixery panics below). */
  readonly budget: number;
  readonly popularity: PopularityMap;
  /** Popularity of each vertex, when already known (else looked up in `popularity`). */
  readonly vertexPopularity?: ArrayLike<number>;
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
  /** The unmerged top-level subtrees, ascending by (rating, first path); built on first access. */
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
const UNKNOWN = -3;

/** Vertices in Closure order: narSize ascending, then input position (a copy). */
export function closureOrder(g: NixeryGraph, vertices: readonly number[]): number[] {
  const pos = g.inputIndex;
  const size = g.narSize;
  return vertices.slice().sort((a, b) => size[a] - size[b] || (pos ? pos[a] - pos[b] : a - b));
}

/** Vertices nothing references, ascending vertex number (the input-order graph knows them already). */
export function unreferenced(g: CsrGraph & { readonly unreferenced?: readonly number[] }): number[] {
  if (g.unreferenced !== undefined) return g.unreferenced.slice();
  const referenced = new Uint8Array(g.n);
  const t = g.targets;
  for (let e = 0; e < t.length; e++) referenced[t[e]] = 1;
  const out: number[] = [];
  for (let v = 0; v < g.n; v++) if (!referenced[v]) out.push(v);
  return out;
}

export function groupLayers(graph: NixeryGraph, opts: GroupOptions): GroupResult {
  const n = graph.n;
  const paths = graph.paths;
  if (!Number.isSafeInteger(opts.budget) || opts.budget < 1) {
    // Nixery's merge loop indexes layers[1] and panics for budget <= 0.
    throw new PipelineError("bad-budget", `nixery: budget must be a whole number >= 1, got ${opts.budget} (Nixery itself panics on budget <= 0)`);
  }
  let pop: ArrayLike<number>;
  if (opts.vertexPopularity !== undefined) pop = opts.vertexPopularity;
  else {
    const p = new Float64Array(n);
    for (let v = 0; v < n; v++) p[v] = popularityOf(paths[v], opts.popularity);
    pop = p;
  }

  // Nixery trusts closureSize as given; a missing one decodes as 0.
  // Fake-root edges (seeds): every root, plus every big or popular path.
  // One loop for both: in a one-shot CLI every loop over n runs cold.
  const edge = new Uint8Array(n);
  for (const r of opts.roots) edge[r] = 1;
  const size = new Float64Array(n);
  const given = graph.givenClosureSize;
  const big = opts.bigClosureSize;
  const popular = opts.popularThreshold;
  let plainSizes = true; // all whole and >= 0: sums are exact doubles up to 2^53
  const seeds: number[] = [];
  for (let v = 0; v < n; v++) {
    const s = given[v];
    if (s === s) {
      size[v] = s;
      if (!(s >= 0 && Number.isInteger(s))) plainSizes = false;
    }
    if (edge[v] === 1 || size[v] > big || pop[v] >= popular) seeds.push(v);
  }

  const k = opts.kernels;
  let unreachable: string[] = [];
  const attachedRoots: string[] = [];
  const dropped: string[] = [];
  const idom = k.scope(() => {
    const g = k.load(graph);
    let idom = k.dominators(g, seeds);
    const lost: number[] = [];
    for (let v = 0; v < n; v++) if (idom[v] === UNREACHABLE) lost.push(v);
    if (lost.length === 0) return idom;
    unreachable = closureOrder(graph, lost).map((v) => paths[v]);
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
    for (const r of closureOrder(graph, unreferenced(graph))) {
      if (idom[r] === UNREACHABLE) {
        attachedRoots.push(paths[r]);
        seeds.push(r);
      }
    }
    seeds.sort((a, b) => a - b);
    idom = k.dominators(g, seeds);
    return idom;
  });

  // Top-level subtree of each vertex: follow idom up to a child of the fake
  // root, recording the answer on the way (each vertex is resolved once).
  const top = new Int32Array(n).fill(UNKNOWN);
  const chain = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    if (top[v] !== UNKNOWN) continue;
    let len = 0;
    let u = v;
    let t: number;
    for (;;) {
      chain[len++] = u;
      const d = idom[u];
      if (d === UNREACHABLE) {
        t = UNREACHABLE;
        break;
      }
      if (d === VIRTUAL_ROOT) {
        t = u;
        break;
      }
      if (top[d] !== UNKNOWN) {
        t = top[d];
        break;
      }
      u = d;
    }
    for (let i = 0; i < len; i++) top[chain[i]] = t;
  }

  // Subtrees as buckets of vertices (CSR): subtree s has members
  // member[start[s] .. start[s + 1]), rooted at rootOf[s]. Vertices are
  // visited in bytewise path order, so each bucket comes out sorted (Go's
  // sort.Strings of the contents) and subtrees are numbered by first path
  // (the tie-break): no string comparison after bytewiseOrder.
  const byPath = bytewiseOrder(paths);
  const sub = new Int32Array(n).fill(-1);
  const rootOf: number[] = [];
  const start = new Uint32Array(n + 1); // member counts first, at s + 1
  for (let r = 0; r < n; r++) {
    const t = top[byPath[r]];
    if (t === UNREACHABLE) continue;
    let s = sub[t];
    if (s < 0) {
      s = sub[t] = rootOf.length;
      rootOf.push(t);
    }
    start[s + 1]++;
  }
  const count = rootOf.length;
  for (let s = 0; s < count; s++) start[s + 1] += start[s];
  const fill = start.slice(0, count);
  const member = new Uint32Array(start[count]);
  const sizeSum = new Float64Array(count); // whole numbers: exact in any order while below 2^53
  for (let r = 0; r < n; r++) {
    const v = byPath[r];
    const t = top[v];
    if (t === UNREACHABLE) continue;
    const s = sub[t];
    member[fill[s]++] = v;
    sizeSum[s] += size[v];
  }
  const contentsOf = (s: number): string[] => {
    const c = new Array<string>(start[s + 1] - start[s]);
    for (let i = start[s], j = 0; i < start[s + 1]; i++, j++) c[j] = paths[member[i]];
    return c;
  };

  // mergeRating = popularity(subtree root) x sum of closureSize (uint64, wrapping).
  // Fast path: whole non-negative sizes and popularities whose product stays
  // below 2^53 are exact in doubles; anything else is done in BigInt.
  const ratingNum = new Float64Array(count);
  let exact = plainSizes;
  for (let s = 0; s < count && exact; s++) {
    const sum = sizeSum[s];
    const p = pop[rootOf[s]];
    const r = p * sum;
    if (!(p >= 0 && Number.isSafeInteger(p) && Number.isSafeInteger(sum) && Number.isSafeInteger(r))) exact = false;
    ratingNum[s] = r;
  }
  let ratingBig: bigint[] | undefined;
  if (!exact) {
    ratingBig = new Array<bigint>(count);
    for (let s = 0; s < count; s++) {
      // The sum in Closure order, as doubles (exact below 2^53), else in BigInt.
      const vs = closureOrder(graph, Array.from(member.subarray(start[s], start[s + 1])));
      let sum = 0;
      for (const v of vs) sum += size[v];
      let total: bigint;
      if (Number.isSafeInteger(sum)) total = BigInt(sum);
      else {
        total = 0n;
        for (const v of vs) total += BigInt(size[v]);
      }
      ratingBig[s] = BigInt.asUintN(UINT64, BigInt(pop[rootOf[s]]) * BigInt.asUintN(UINT64, total));
    }
  }
  const ratingOf = (s: number): bigint => (ratingBig !== undefined ? ratingBig[s] : BigInt(ratingNum[s]));

  // Nixery sorts by rating with an unstable sort and random input order; the
  // tie-break (first path ascending, i.e. subtree number) makes strata
  // deterministic and is one of the orders Nixery can produce.
  let order: number[];
  let tiedRatings = false;
  if (ratingBig === undefined) {
    order = orderByKey(ratingNum); // stable: ties stay by subtree number
    for (let i = 1; i < count; i++) if (ratingNum[order[i]] === ratingNum[order[i - 1]]) tiedRatings = true;
  } else {
    const rb = ratingBig;
    order = Array.from({ length: count }, (_, s) => s);
    order.sort((a, b) => (rb[a] < rb[b] ? -1 : rb[a] > rb[b] ? 1 : a - b));
    for (let i = 1; i < count; i++) if (rb[order[i]] === rb[order[i - 1]]) tiedRatings = true;
  }

  // Layer objects, made once per subtree on demand (shared by layers and subtrees).
  const made: (NixeryLayer | undefined)[] = new Array(count);
  const layerAt = (i: number): NixeryLayer => (made[i] ??= makeLayer(contentsOf(order[i]), ratingOf(order[i])));

  // Merge rule: while too many layers, the first absorbs the second and stays
  // first (never re-sorted). Net effect: the n-B+1 lowest are concatenated.
  let layers: NixeryLayer[];
  if (count > opts.budget) {
    const cut = count - opts.budget + 1;
    let total = 0;
    for (let i = 0; i < cut; i++) total += start[order[i] + 1] - start[order[i]];
    const contents = new Array<string>(total);
    let at = 0;
    let sum = 0;
    for (let i = 0; i < cut; i++) {
      const s = order[i];
      for (let j = start[s]; j < start[s + 1]; j++) contents[at++] = paths[member[j]];
      if (ratingBig === undefined) sum += ratingNum[s];
    }
    let rating: bigint;
    if (ratingBig === undefined && Number.isSafeInteger(sum)) rating = BigInt(sum);
    else {
      rating = 0n;
      for (let i = 0; i < cut; i++) rating = BigInt.asUintN(UINT64, rating + ratingOf(order[i]));
    }
    layers = [makeLayer(contents, rating)];
    for (let i = cut; i < count; i++) layers.push(layerAt(i));
  } else {
    layers = [];
    for (let i = 0; i < count; i++) layers.push(layerAt(i));
  }

  let subtrees: NixeryLayer[] | undefined;
  return {
    layers,
    get subtrees(): NixeryLayer[] {
      if (subtrees === undefined) {
        subtrees = new Array<NixeryLayer>(count);
        for (let i = 0; i < count; i++) subtrees[i] = layerAt(i);
      }
      return subtrees;
    },
    manifestOrder: manifestOrder(layers),
    tiedRatings,
    unreachable,
    attachedRoots,
    dropped,
  };
}

/** Indices 0..n-1 sorted by key ascending (whole numbers below 2^53), stable. */
function orderByKey(key: Float64Array): number[] {
  const n = key.length;
  // Keys small enough to pack (key, index) into one exact double: the typed
  // array's native sort (no JIT warm-up in a one-shot CLI), index = low part.
  const shift = 2 ** Math.max(1, Math.ceil(Math.log2(n + 1)));
  let max = 0;
  for (let i = 0; i < n; i++) if (key[i] > max) max = key[i];
  if (max * shift + shift < 2 ** 53) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = key[i] * shift + i;
    packed.sort();
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = packed[i] - Math.floor(packed[i] / shift) * shift;
    return out;
  }
  const items = new Uint32Array(n);
  for (let i = 0; i < n; i++) items[i] = i;
  radixSortByKey(items, key.slice());
  return Array.from(items);
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

/** Go's sort.Strings order: bytewise on UTF-8, i.e. code point order of well-formed strings. */
export const compareBytewise = compareCodePoints;
