// min-pull: layers that minimise the expected bytes clients pull per update.
//
// Objective (model.ts): E = sum over layers L of size(L) * P(closure(L)).
// One layer per path is the lower bound; every merge raises E by
//   delta(A, B) = size(A ∪ B) * P(cl(A) ∪ cl(B)) - size(A) * P(cl(A)) - size(B) * P(cl(B)),
// which is small when the two groups change together (their closures nearly
// coincide, e.g. a path and a thin wrapper around it) or when they are tiny.
// Planning is greedy agglomeration: start from one group per path and merge
// the cheapest candidate pair until the budget holds. Candidate pairs are the
// reference edges and neighbours in order of change probability; a heap keeps
// them, and a pair whose groups grew since it was priced is re-priced when it
// surfaces (lazy greedy).
//
// Closures are bitsets over "sources": every path when the closure is small,
// otherwise the heaviest paths by weight (they carry nearly all of it). A
// summary per row marks the non-zero words. With integer weights the bits
// follow a depth-first post-order, so a closure's bits cluster in few words,
// and the weight of a union is the denser group's weight plus the set bits
// the sparser one adds (fractional weights keep a fixed order of summation).
// The objective printed with a plan is then recomputed exactly over every path.
//
// Example (sizes = weights, one change per update, W = 111): a (100) -> b (10)
// -> c (1). Singletons: P(a) = 1-e^(-111/111), P(b) = 1-e^(-11/111), P(c) =
// 1-e^(-1/111); E = 63.2 + 0.94 + 0.009. With two layers the cheapest merge is
// {b, c} (c gains b's risk: +0.09) rather than {a, b} (b gains a's: +5.4).
import { PipelineError } from "../../errors.js";
import type { CsrGraph } from "../../graph/csr.js";
import { exactClosureWeights, type ChangeModel } from "../../model/change.js";

export interface PlanInput {
  readonly graph: CsrGraph;
  /** Vertices referrers-first (any topological order). */
  readonly topo: Uint32Array;
  readonly size: ArrayLike<number>;
  readonly model: ChangeModel;
  readonly budget: number;
  readonly minLayerSize?: number;
  readonly maxLayerSize?: number;
  /**
   * Previous layers to keep byte-identical when possible: vertex lists in
   * their previous order, each made only of unchanged paths still present.
   */
  readonly keep?: readonly (readonly number[])[];
  /** Most sources tracked exactly (default 4096 up to 30k paths, down to 1024 for larger ones; all paths when there are fewer). */
  readonly maxSources?: number;
}

export interface PlannedLayer {
  /** Vertices in layer order. */
  readonly vertices: number[];
  readonly bytes: number;
  /** P(the layer changes in one update), exact under the model. */
  readonly changeProbability: number;
  /** True when this is a kept previous layer, unchanged. */
  readonly kept: boolean;
}

export interface Plan {
  /** Bottom first: least likely to change at the bottom. */
  readonly layers: PlannedLayer[];
  /** Expected bytes pulled per update, exact under the model. */
  readonly expectedBytes: number;
  /**
   * The same objective for one layer per path: the lower bound. Exact when
   * every path is a tracked source, otherwise counts only the sources.
   */
  readonly lowerBoundBytes: number;
  readonly lowerBoundExact: boolean;
}

/**
 * A binary min-heap of candidate pairs keyed by price, in typed arrays (one
 * entry: key, the two paths, the two group stamps when it was priced).
 */
class PairHeap {
  private keys: Float64Array;
  /** Per entry: path a, path b, stamp of a's group, stamp of b's group. */
  private data: Int32Array;
  size = 0;
  constructor(capacity = 1024) {
    this.keys = new Float64Array(capacity);
    this.data = new Int32Array(4 * capacity);
  }
  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const data = new Int32Array(this.data.length * 2);
    data.set(this.data);
    this.data = data;
  }
  push(key: number, a: number, b: number, sa: number, sb: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= key) break;
      this.move(p, i);
      i = p;
    }
    this.set(i, key, a, b, sa, sb);
  }
  /** Removes the top; returns [key, a, b, stampA, stampB]. */
  pop(out: number[]): void {
    const keys = this.keys;
    const data = this.data;
    out[0] = keys[0];
    out[1] = data[0];
    out[2] = data[1];
    out[3] = data[2];
    out[4] = data[3];
    const last = --this.size;
    if (last === 0) return;
    const key = keys[last];
    const at = last << 2;
    const a = data[at];
    const b = data[at + 1];
    const sa = data[at + 2];
    const sb = data[at + 3];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && keys[c + 1] < keys[c]) c++;
      if (keys[c] >= key) break;
      this.move(c, i);
      i = c;
    }
    this.set(i, key, a, b, sa, sb);
  }
  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from];
    const f = from << 2;
    const t = to << 2;
    const data = this.data;
    data[t] = data[f];
    data[t + 1] = data[f + 1];
    data[t + 2] = data[f + 2];
    data[t + 3] = data[f + 3];
  }
  private set(i: number, key: number, a: number, b: number, sa: number, sb: number): void {
    this.keys[i] = key;
    const t = i << 2;
    this.data[t] = a;
    this.data[t + 1] = b;
    this.data[t + 2] = sa;
    this.data[t + 3] = sb;
  }
}

export function planMinPull(input: PlanInput): Plan {
  const { graph, topo, size, model, budget } = input;
  const n = graph.n;
  if (!Number.isInteger(budget) || budget < 1) throw new PipelineError("min-pull", `min-pull: the layer budget must be at least 1, got ${budget}`);
  const maxLayer = input.maxLayerSize ?? Infinity;
  const minLayer = input.minLayerSize ?? 0;
  if (n === 0) return { layers: [], expectedBytes: 0, lowerBoundBytes: 0, lowerBoundExact: true };

  // --- sources and closure bitsets ----------------------------------------
  const w = model.weights;
  // Fewer sources for larger closures keeps a price at a few dozen words:
  // 4096 up to 30k paths, then shrinking to a floor of 1024.
  const maxSources = Math.max(32, input.maxSources ?? Math.max(1024, Math.min(4096, Math.floor((4096 * 30000) / n))));
  const sources = n <= maxSources ? Array.from({ length: n }, (_, i) => i) : heaviest(w, n, maxSources);
  // Integer weights (the default: sizes) sum exactly in any order, so the
  // sums may be taken in whatever order is fastest and the plans stay the
  // same. Fractional weights (a history, a volatility map) keep one fixed
  // order of summation (weight order, byte tables), so their plans do not
  // depend on this file's speed tricks either.
  let integral = model.totalWeight <= Number.MAX_SAFE_INTEGER;
  for (let v = 0; v < n && integral; v++) if (!Number.isInteger(w[v])) integral = false;
  // With integer weights the bits follow a depth-first post-order of the
  // graph (dependencies first), so a closure's bits cluster in few words.
  if (integral) {
    const rank = postOrder(graph, topo);
    sources.sort((x, y) => rank[x] - rank[y]);
  }
  const S = sources.length;
  const words = (S + 31) >>> 5;
  const bitOf = new Int32Array(n).fill(-1);
  sources.forEach((v, i) => (bitOf[v] = i));
  const bits = new Uint32Array(n * words);
  // Most closures are sparse over the sources (a few hundred of thousands of
  // paths), so each row has a summary: bit k set when word k is non-zero.
  // Unions and prices visit only the non-zero words, in the same order (the
  // sums, and so the plans, are the same as a dense walk's).
  const sw = (words + 31) >>> 5;
  const summary = new Uint32Array(n * sw);
  // Dependencies before their referrers: walk the topological order backwards.
  for (let t = n - 1; t >= 0; t--) {
    const v = topo[t];
    const row = v * words;
    const srow = v * sw;
    const bit = bitOf[v];
    if (bit >= 0) {
      bits[row + (bit >>> 5)] |= 1 << (bit & 31);
      summary[srow + (bit >>> 10)] |= 1 << ((bit >>> 5) & 31);
    }
    for (let e = graph.offsets[v], end = graph.offsets[v + 1]; e < end; e++) {
      const c = graph.targets[e];
      orRow(bits, summary, words, sw, row, srow, c * words, c * sw);
    }
  }
  // Fractional weights: weighted popcount by bytes,
  // table[(byte position) * 256 + byte value], summed in word order.
  const table = new Float64Array(integral ? 0 : words * 4 * 256);
  if (!integral) {
    for (let j = 0; j < words * 4; j++) {
      for (let b = 0; b < 8; b++) {
        const s = j * 8 + b;
        if (s >= S) break;
        const ws = w[sources[s]];
        const base = j * 256;
        for (let val = 0; val < 256; val++) if (val & (1 << b)) table[base + val] += ws;
      }
    }
  }
  /** Weight of rows a | b, summed by byte tables in word order (fractional weights). */
  const tableWeight = (a: number, b: number): number => {
    let sum = 0;
    const ra = a * words;
    const rb = b * words;
    const sa = a * sw;
    const sb = b * sw;
    for (let s = 0; s < sw; s++) {
      let m = summary[sa + s] | summary[sb + s];
      while (m !== 0) {
        const k = (s << 5) + 31 - Math.clz32(m & -m);
        m &= m - 1;
        const x = bits[ra + k] | bits[rb + k];
        const j = k * 1024;
        sum += table[j + (x & 255)] + table[j + 256 + ((x >>> 8) & 255)] + table[j + 512 + ((x >>> 16) & 255)] + table[j + 768 + (x >>> 24)];
      }
    }
    return sum;
  };
  // Integer weights: weights by source bit; closures are sparse, so sums walk set bits.
  const srcW = new Float64Array(words * 32);
  for (let i = 0; i < S; i++) srcW[i] = w[sources[i]];
  // nib[(word * 8 + nibble) * 16 + value]: the weight of those 4 bits.
  const nib = new Float64Array(integral ? words * 128 : 0);
  for (let q = 0; q < nib.length >> 4; q++) {
    for (let val = 1; val < 16; val++) {
      let t = 0;
      for (let b = 0; b < 4; b++) if (val & (1 << b)) t += srcW[q * 4 + b];
      nib[q * 16 + val] = t;
    }
  }
  /**
   * Weight of the sources in row b and not in row a (a < 0: none there).
   * Integer weights only (their sums do not depend on the order): the words
   * that row a lacks are summed whole, without reading row a.
   */
  const extraWeight = (a: number, b: number): number => extraWeightOf(bits, summary, nib, words, sw, a, b);
  /** Non-zero words of row a (the bits of its summary). */
  const rowWords = (a: number): number => {
    let c = 0;
    for (let s = 0; s < sw; s++) c += popcount(summary[a * sw + s]);
    return c;
  };

  // --- groups ----------------------------------------------------------------
  // Union-find over vertices; a group's data lives at its representative.
  const parent = new Int32Array(n);
  for (let v = 0; v < n; v++) parent[v] = v;
  const find = (v: number): number => {
    while (parent[v] !== v) {
      parent[v] = parent[parent[v]];
      v = parent[v];
    }
    return v;
  };
  const gSize = new Float64Array(n);
  // Closure weight of each single path (exact when every path is a source),
  // then of each group's closure.
  const singleWeight = new Float64Array(n);
  const gWords = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    singleWeight[v] = integral ? extraWeight(-1, v) : tableWeight(v, v);
    gWords[v] = rowWords(v);
  }
  const gWeight = singleWeight.slice();
  const P = model.probability;
  // P(each group's closure), kept with gWeight: a price needs it for both groups.
  const gP = new Float64Array(n);
  for (let v = 0; v < n; v++) gP[v] = P(gWeight[v]);
  /** Closure weight of groups a and b together: the denser one's plus what the sparser adds. */
  const unionWeight = (a: number, b: number): number =>
    !integral ? tableWeight(a, b) : gWords[a] >= gWords[b] ? gWeight[a] + extraWeight(a, b) : gWeight[b] + extraWeight(b, a);
  const gStamp = new Int32Array(n); // bumps on every merge (prices go stale)
  const gFrozen = new Uint8Array(n); // a kept previous layer
  const next = new Int32Array(n).fill(-1); // member lists, in order
  const tail = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    gSize[v] = size[v];
    tail[v] = v;
  }
  let groups = n;
  const mergeInto = (ra: number, rb: number): void => {
    // rb joins ra; ra's bitset becomes the union (in place: rb's row is dead).
    parent[rb] = ra;
    next[tail[ra]] = rb;
    tail[ra] = tail[rb];
    gSize[ra] += gSize[rb];
    if (integral) gWeight[ra] = unionWeight(ra, rb);
    orRow(bits, summary, words, sw, ra * words, ra * sw, rb * words, rb * sw);
    if (!integral) gWeight[ra] = tableWeight(ra, ra);
    gP[ra] = P(gWeight[ra]);
    gWords[ra] = rowWords(ra);
    gFrozen[ra] = 0;
    gStamp[ra]++;
    gStamp[rb]++;
    groups--;
  };
  // Kept layers start as pre-merged, frozen groups (their order is kept).
  for (const layer of input.keep ?? []) {
    for (let i = 1; i < layer.length; i++) mergeInto(find(layer[0]), find(layer[i]));
    if (layer.length > 0) gFrozen[find(layer[0])] = 1;
  }

  const price = (ra: number, rb: number): number => {
    const sa = gSize[ra];
    const sb = gSize[rb];
    const union = unionWeight(ra, rb);
    let delta = (sa + sb) * P(union) - sa * gP[ra] - sb * gP[rb];
    // Breaking up a kept layer means pulling its bytes again now.
    if (gFrozen[ra]) delta += sa;
    if (gFrozen[rb]) delta += sb;
    return delta;
  };

  // --- candidate pairs ----------------------------------------------------------
  // One heap per tier: tier 0 holds pairs of free groups (no kept previous
  // layer in either), tier 1 pairs that break one kept layer, tier 2 pairs
  // of two kept layers. A merge comes from the lowest tier that has one, so a
  // kept layer is broken only when the budget or a layer-size bound leaves no
  // other way, and then as few of them as possible: one at a time, joined to
  // a free group (two kept layers merge together only when there is no free
  // group at all). Within a tier the lowest price wins, and the price counts
  // a kept layer's bytes as pulled again, so the cheapest to re-pull goes first.
  // The free tier starts with about one entry per reference edge (at most 12 a
  // path) plus one per path, and grows little past that: sized up front, it
  // is not copied while it fills.
  let firstEntries = n;
  for (let v = 0; v < n; v++) firstEntries += Math.min(graph.offsets[v + 1] - graph.offsets[v], 12);
  const heaps = [new PairHeap(firstEntries + (firstEntries >> 2)), new PairHeap(), new PairHeap()];
  // Prices by (group a, group b, their stamps): a group pair joined by several
  // reference edges is offered, and goes stale, once per edge; about a quarter
  // of all prices asked for were computed before at the same stamps, most of
  // them shortly before. A price depends only on the two groups' state, which
  // changes only with a stamp, so a hit is the very number `price` would
  // return. Direct-mapped, 4096 slots (96 KiB): larger tables cost more in
  // cache misses than they save on large closures.
  const cacheBits = 12;
  const cacheKey = new Int32Array(4 << cacheBits).fill(-1);
  const cacheVal = new Float64Array(1 << cacheBits);
  const cachedPrice = (ra: number, rb: number): number => {
    const sa = gStamp[ra];
    const sb = gStamp[rb];
    const slot = (Math.imul(ra, 0x9e3779b1) ^ Math.imul(rb, 0x85ebca77) ^ Math.imul(sa + 1, 0xc2b2ae3d) ^ Math.imul(sb + 1, 0x27d4eb2f)) >>> (32 - cacheBits);
    const k = slot << 2;
    if (cacheKey[k] === ra && cacheKey[k + 1] === rb && cacheKey[k + 2] === sa && cacheKey[k + 3] === sb) return cacheVal[slot];
    const d = price(ra, rb);
    cacheKey[k] = ra;
    cacheKey[k + 1] = rb;
    cacheKey[k + 2] = sa;
    cacheKey[k + 3] = sb;
    cacheVal[slot] = d;
    return d;
  };
  const push = (ra: number, rb: number, u: number, v: number) => heaps[gFrozen[ra] + gFrozen[rb]].push(cachedPrice(ra, rb), u, v, gStamp[ra], gStamp[rb]);
  const offer = (u: number, v: number) => {
    const ra = find(u);
    const rb = find(v);
    if (ra !== rb) push(ra, rb, u, v);
  };
  // Reference edges, at most `perVertex` per path: the closest in weight
  // (ties: the lower vertex), picked into `closest` in that order.
  const perVertex = 12;
  const closest = new Int32Array(perVertex);
  const closestKey = new Float64Array(perVertex);
  const closestTargets = (targets: Uint32Array, from: number, to: number, wv: number, k: number): void => {
    let len = 0;
    for (let e = from; e < to; e++) {
      const x = targets[e];
      const key = Math.abs(gWeight[find(x)] - wv);
      // Insertion into the k best so far, ordered by (key, vertex).
      if (len === k && (key > closestKey[k - 1] || (key === closestKey[k - 1] && x > closest[k - 1]))) continue;
      let i = len < k ? len++ : k - 1;
      while (i > 0 && (closestKey[i - 1] > key || (closestKey[i - 1] === key && closest[i - 1] > x))) {
        closestKey[i] = closestKey[i - 1];
        closest[i] = closest[i - 1];
        i--;
      }
      closestKey[i] = key;
      closest[i] = x;
    }
  };
  for (let v = 0; v < n; v++) {
    const from = graph.offsets[v];
    const to = graph.offsets[v + 1];
    if (to - from <= perVertex) {
      for (let e = from; e < to; e++) offer(v, graph.targets[e]);
    } else {
      closestTargets(graph.targets, from, to, gWeight[find(v)], perVertex);
      for (let i = 0; i < perVertex; i++) offer(v, closest[i]);
    }
  }
  // Neighbours in order of closure weight: paths that change about as often.
  // The free paths get their own chain, so free merges never run out while
  // two free groups remain (unless the maximum layer size forbids them).
  const groupWeight = new Float64Array(n);
  for (let v = 0; v < n; v++) groupWeight[v] = gWeight[find(v)];
  const byWeight = ascendingOrder(groupWeight);
  let lastFree = -1;
  for (let i = 0; i < n; i++) {
    const v = byWeight[i];
    if (i > 0 && (gFrozen[find(v)] || gFrozen[find(byWeight[i - 1])])) offer(byWeight[i - 1], v);
    if (!gFrozen[find(v)]) {
      if (lastFree >= 0) offer(lastFree, v);
      lastFree = v;
    }
  }
  // A vertex of some free group (free groups never freeze). Every kept layer
  // gets a pair with it, so tier-1 merges never run out either.
  let anchor = lastFree;
  const keptReps = (input.keep ?? []).filter((l) => l.length > 0).map((l) => l[0]);
  if (anchor >= 0) for (const v of keptReps) offer(v, anchor);

  // --- greedy merging ----------------------------------------------------------
  const undersized = (r: number) => gSize[r] < minLayer;
  let smallGroups = 0;
  let freeGroups = 0;
  let frozenGroups = 0;
  for (let v = 0; v < n; v++) {
    if (parent[v] !== v) continue;
    if (minLayer > 0 && undersized(v)) smallGroups++;
    if (gFrozen[v]) frozenGroups++;
    else freeGroups++;
  }
  // scanFailed[t]: a scan found no merge of tier t; cleared when a new free
  // group appears (merges otherwise only remove options).
  const scanFailed = [false, false];
  const eligible = (ra: number, rb: number) => gSize[ra] + gSize[rb] <= maxLayer && (groups > budget || undersized(ra) || undersized(rb));
  const merge = (ra: number, rb: number): void => {
    const tier = gFrozen[ra] + gFrozen[rb];
    const wasSmall = (undersized(ra) ? 1 : 0) + (undersized(rb) ? 1 : 0);
    // The larger group absorbs the smaller one (its bitset row survives).
    const [keep, gone] = gSize[ra] >= gSize[rb] ? [ra, rb] : [rb, ra];
    mergeInto(keep, gone);
    smallGroups -= wasSmall - (undersized(keep) ? 1 : 0);
    if (tier === 0) freeGroups--;
    else if (tier === 1) frozenGroups--;
    else {
      // Two kept layers became one free group: link it to the free groups,
      // or, when it is the first, every kept layer to it.
      frozenGroups -= 2;
      freeGroups++;
      scanFailed[0] = scanFailed[1] = false;
      if (anchor >= 0) offer(keep, anchor);
      else for (const v of keptReps) if (gFrozen[find(v)]) offer(v, keep);
      anchor = keep;
    }
    // No other new entries: the entries of both groups now price the union
    // when they surface (their stamps are stale).
  };
  // Price every pair of live groups that may merge now, of tier at most
  // `maxTier`, and merge the best (lowest tier, then lowest price): the
  // fallback when the candidate pairs ran out (the maximum layer size or the
  // minimum-size phase dropped some).
  const scanMerge = (maxTier: number): boolean => {
    const live: number[] = [];
    for (let v = 0; v < n; v++) if (parent[v] === v && gFrozen[v] <= maxTier) live.push(v);
    let bestTier = maxTier + 1;
    let best = Infinity;
    let bi = -1;
    let bj = -1;
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) {
        const a = live[i];
        const b = live[j];
        const tier = gFrozen[a] + gFrozen[b];
        if (tier > bestTier || !eligible(a, b)) continue;
        const d = price(a, b);
        if (tier < bestTier || d < best) [bestTier, best, bi, bj] = [tier, d, a, b];
      }
    }
    if (bi < 0) return false;
    merge(bi, bj);
    return true;
  };
  const top: number[] = [0, 0, 0, 0, 0];
  merging: while ((groups > budget || smallGroups > 0) && groups > 1) {
    let tier = 0;
    while (heaps[tier].size === 0) {
      // Before moving up a tier, make sure this one has really run out.
      const possible = tier === 0 ? freeGroups >= 2 : tier === 1 ? freeGroups >= 1 && frozenGroups >= 1 : false;
      if (possible && !scanFailed[tier]) {
        if (scanMerge(tier)) continue merging;
        scanFailed[tier] = true;
      }
      if (++tier === 3) break merging;
    }
    heaps[tier].pop(top);
    const ra = find(top[1]);
    const rb = find(top[2]);
    if (ra === rb) continue;
    if (gStamp[ra] !== top[3] || gStamp[rb] !== top[4]) {
      push(ra, rb, top[1], top[2]);
      continue;
    }
    if (eligible(ra, rb)) merge(ra, rb);
  }
  while ((groups > budget || smallGroups > 0) && groups > 1 && scanMerge(2));
  if (groups > budget) {
    // Only reachable when max-layer-size forbids every remaining merge.
    throw new PipelineError("min-pull", `min-pull: cannot fit ${n} paths into ${budget} layers without exceeding the maximum layer size of ${maxLayer} bytes`);
  }

  // --- layers, exact objective, order -------------------------------------------
  const reps: number[] = [];
  for (let v = 0; v < n; v++) if (parent[v] === v) reps.push(v);
  const layerOf = new Int32Array(n);
  const members: number[][] = reps.map((r, i) => {
    const list: number[] = [];
    for (let v = r; v >= 0; v = next[v]) {
      list.push(v);
      layerOf[v] = i;
    }
    return list;
  });
  const exactWeights = exactClosureWeights(graph, topo, w, layerOf, reps.length);
  let lowerBound = 0;
  for (let v = 0; v < n; v++) lowerBound += size[v] * P(singleWeight[v]);
  const keptSet = new Set((input.keep ?? []).filter((l) => l.length > 0).map((l) => find(l[0])));
  const layers: PlannedLayer[] = members.map((list, i) => {
    const kept = keptSet.has(reps[i]) && gFrozen[reps[i]] === 1;
    const vertices = kept ? list : list.sort((x, y) => x - y);
    let bytes = 0;
    for (const v of vertices) bytes += size[v];
    return { vertices, bytes, changeProbability: P(exactWeights[i]), kept };
  });
  layers.sort((x, y) => x.changeProbability - y.changeProbability || y.bytes - x.bytes || x.vertices[0] - y.vertices[0]);
  let expected = 0;
  for (const l of layers) expected += l.bytes * l.changeProbability;
  return { layers, expectedBytes: expected, lowerBoundBytes: lowerBound, lowerBoundExact: S === n };
}

/**
 * The first `count` vertices of the order (weight descending, vertex
 * ascending), in that order: a threshold from a numeric sort, then a
 * comparison sort of the chosen few only.
 */
export function heaviest(w: ArrayLike<number>, n: number, count: number): number[] {
  const sorted = new Float64Array(n);
  for (let v = 0; v < n; v++) sorted[v] = w[v];
  sorted.sort();
  const threshold = sorted[n - count];
  let above = 0;
  for (let v = 0; v < n; v++) if (w[v] > threshold) above++;
  let atThreshold = count - above;
  const out: number[] = [];
  for (let v = 0; v < n; v++) {
    if (w[v] > threshold) out.push(v);
    else if (w[v] === threshold && atThreshold > 0) {
      out.push(v);
      atThreshold--;
    }
  }
  return out.sort((x, y) => w[y] - w[x] || x - y);
}

/**
 * Vertices ordered by (key ascending, vertex ascending) for non-negative
 * finite keys: a stable least-significant-digit radix sort over the keys'
 * IEEE bits (which order as the numbers do when the sign bit is clear),
 * 16 bits per pass. The same order as a comparison sort, without the comparator.
 */
export function ascendingOrder(key: Float64Array): Uint32Array {
  const n = key.length;
  // Small inputs: the comparison sort (the radix sort's fixed 4 x 65,536 count
  // steps would cost more than it saves, and most closures are small).
  if (n < 32768) return Uint32Array.from(Array.from({ length: n }, (_, i) => i).sort((x, y) => key[x] - key[y] || x - y));
  const bits = new Uint32Array(n * 2);
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  const lo = isLittleEndian() ? 0 : 1;
  for (let i = 0; i < n; i++) {
    f[0] = key[i] + 0; // -0 becomes +0
    bits[2 * i] = u[lo];
    bits[2 * i + 1] = u[1 - lo];
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let spare = new Uint32Array(n);
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    count.fill(0);
    let same = true;
    const first = (bits[2 * order[0] + word] >>> shift) & 0xffff;
    for (let i = 0; i < n; i++) {
      const d = (bits[2 * order[i] + word] >>> shift) & 0xffff;
      count[d]++;
      if (d !== first) same = false;
    }
    if (same) continue; // this digit is equal everywhere: the order stands
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const v = order[i];
      spare[count[(bits[2 * v + word] >>> shift) & 0xffff]++] = v;
    }
    [order, spare] = [spare, order];
  }
  return order;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Depth-first post-order rank of every vertex, from the roots in `topo` order. */
function postOrder(g: CsrGraph, topo: Uint32Array): Int32Array {
  const n = g.n;
  const rank = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  const edge = new Uint32Array(n);
  let next = 0;
  for (let t = 0; t < n; t++) {
    const root = topo[t];
    if (rank[root] !== -1) continue;
    let top = 0;
    stack[0] = root;
    edge[0] = g.offsets[root];
    rank[root] = -2; // on the stack
    while (top >= 0) {
      const v = stack[top];
      const e = edge[top];
      if (e < g.offsets[v + 1]) {
        edge[top] = e + 1;
        const c = g.targets[e];
        if (rank[c] === -1) {
          rank[c] = -2;
          stack[++top] = c;
          edge[top] = g.offsets[c];
        }
      } else {
        rank[v] = next++;
        top--;
      }
    }
  }
  return rank;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Row `to` |= row `from`, over the non-zero words of `from` only; summaries too. */
function orRow(bits: Uint32Array, summary: Uint32Array, words: number, sw: number, to: number, sto: number, from: number, sfrom: number): void {
  for (let s = 0; s < sw; s++) {
    let m = summary[sfrom + s];
    summary[sto + s] |= m;
    while (m !== 0) {
      const k = (s << 5) + 31 - Math.clz32(m & -m);
      m &= m - 1;
      bits[to + k] |= bits[from + k];
    }
  }
}

/** Module-level (its optimised code outlives each plan's closures): see extraWeight in planMinPull. */
function extraWeightOf(bits: Uint32Array, summary: Uint32Array, nib: Float64Array, words: number, sw: number, a: number, b: number): number {
  let sum = 0;
  const ra = a * words;
  const rb = b * words;
  const sb = b * sw;
  const sa = a * sw;
  for (let s = 0; s < sw; s++) {
    const mb = summary[sb + s];
    const ma = a < 0 ? 0 : summary[sa + s];
    let m = mb & ~ma;
    while (m !== 0) {
      const k = (s << 5) + 31 - Math.clz32(m & -m);
      m &= m - 1;
      const x = bits[rb + k];
      if (x !== 0) sum += wordWeight(nib, k, x);
    }
    m = mb & ma;
    while (m !== 0) {
      const k = (s << 5) + 31 - Math.clz32(m & -m);
      m &= m - 1;
      const x = bits[rb + k] & ~bits[ra + k];
      if (x !== 0) sum += wordWeight(nib, k, x);
    }
  }
  return sum;
}

/**
 * The total weight of the set bits of word k's value x: eight lookups in the
 * word's table of 4-bit sums (16 entries per nibble position, 128 per word).
 */
function wordWeight(nib: Float64Array, k: number, x: number): number {
  const j = k << 7;
  return (
    nib[j + (x & 15)] +
    nib[j + 16 + ((x >>> 4) & 15)] +
    nib[j + 32 + ((x >>> 8) & 15)] +
    nib[j + 48 + ((x >>> 12) & 15)] +
    nib[j + 64 + ((x >>> 16) & 15)] +
    nib[j + 80 + ((x >>> 20) & 15)] +
    nib[j + 96 + ((x >>> 24) & 15)] +
    nib[j + 112 + (x >>> 28)]
  );
}
