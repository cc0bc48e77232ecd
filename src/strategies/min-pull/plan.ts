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
// otherwise the heaviest paths by weight (they carry nearly all of it), so a
// union costs a few hundred word operations. The objective printed with a
// plan is then recomputed exactly over every path.
//
// Example (sizes = weights, one change per update, W = 111): a (100) -> b (10)
// -> c (1). Singletons: P(a) = 1-e^(-111/111), P(b) = 1-e^(-11/111), P(c) =
// 1-e^(-1/111); E = 63.2 + 0.94 + 0.009. With two layers the cheapest merge is
// {b, c} (c gains b's risk: +0.09) rather than {a, b} (b gains a's: +5.4).
import { PipelineError } from "../../errors.js";
import type { CsrGraph } from "../../graph/csr.js";
import type { ChangeModel } from "./model.js";

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

/** A binary min-heap of candidate pairs keyed by price. */
class PairHeap {
  private keys: number[] = [];
  private a: number[] = [];
  private b: number[] = [];
  private stampA: number[] = [];
  private stampB: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  push(key: number, a: number, b: number, sa: number, sb: number): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.a.push(a);
    this.b.push(b);
    this.stampA.push(sa);
    this.stampB.push(sb);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p] <= key) break;
      this.move(p, i);
      i = p;
    }
    this.set(i, key, a, b, sa, sb);
  }
  /** Removes the top; returns [key, a, b, stampA, stampB]. */
  pop(out: number[]): void {
    out[0] = this.keys[0];
    out[1] = this.a[0];
    out[2] = this.b[0];
    out[3] = this.stampA[0];
    out[4] = this.stampB[0];
    const last = this.keys.length - 1;
    const key = this.keys[last];
    const a = this.a[last];
    const b = this.b[last];
    const sa = this.stampA[last];
    const sb = this.stampB[last];
    this.keys.pop();
    this.a.pop();
    this.b.pop();
    this.stampA.pop();
    this.stampB.pop();
    if (last === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && this.keys[c + 1] < this.keys[c]) c++;
      if (this.keys[c] >= key) break;
      this.move(c, i);
      i = c;
    }
    this.set(i, key, a, b, sa, sb);
  }
  private move(from: number, to: number): void {
    this.set(to, this.keys[from], this.a[from], this.b[from], this.stampA[from], this.stampB[from]);
  }
  private set(i: number, key: number, a: number, b: number, sa: number, sb: number): void {
    this.keys[i] = key;
    this.a[i] = a;
    this.b[i] = b;
    this.stampA[i] = sa;
    this.stampB[i] = sb;
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
  let sources: number[];
  if (n <= maxSources) sources = Array.from({ length: n }, (_, i) => i);
  else sources = Array.from({ length: n }, (_, i) => i).sort((x, y) => w[y] - w[x] || x - y).slice(0, maxSources);
  const S = sources.length;
  const words = (S + 31) >>> 5;
  const bitOf = new Int32Array(n).fill(-1);
  sources.forEach((v, i) => (bitOf[v] = i));
  const bits = new Uint32Array(n * words);
  // Dependencies before their referrers: walk the topological order backwards.
  for (let t = n - 1; t >= 0; t--) {
    const v = topo[t];
    const row = v * words;
    if (bitOf[v] >= 0) bits[row + (bitOf[v] >>> 5)] |= 1 << (bitOf[v] & 31);
    for (let e = graph.offsets[v], end = graph.offsets[v + 1]; e < end; e++) {
      const c = graph.targets[e] * words;
      for (let k = 0; k < words; k++) bits[row + k] |= bits[c + k];
    }
  }
  // Weighted popcount by bytes: table[(byte position) * 256 + byte value].
  const table = new Float64Array(words * 4 * 256);
  for (let j = 0; j < words * 4; j++) {
    for (let b = 0; b < 8; b++) {
      const s = j * 8 + b;
      if (s >= S) break;
      const ws = w[sources[s]];
      const base = j * 256;
      for (let val = 0; val < 256; val++) if (val & (1 << b)) table[base + val] += ws;
    }
  }
  const unionWeight = (ra: number, rb: number): number => {
    let sum = 0;
    for (let k = 0; k < words; k++) {
      const x = bits[ra + k] | bits[rb + k];
      if (x === 0) continue;
      const j = k * 1024;
      sum += table[j + (x & 255)] + table[j + 256 + ((x >>> 8) & 255)] + table[j + 512 + ((x >>> 16) & 255)] + table[j + 768 + (x >>> 24)];
    }
    return sum;
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
  for (let v = 0; v < n; v++) singleWeight[v] = unionWeight(v * words, v * words);
  const gWeight = singleWeight.slice();
  const gStamp = new Uint32Array(n); // bumps on every merge (prices go stale)
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
    const a = ra * words;
    const b = rb * words;
    for (let k = 0; k < words; k++) bits[a + k] |= bits[b + k];
    gWeight[ra] = unionWeight(a, a);
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

  const P = model.probability;
  const price = (ra: number, rb: number): number => {
    const sa = gSize[ra];
    const sb = gSize[rb];
    const union = unionWeight(ra * words, rb * words);
    let delta = (sa + sb) * P(union) - sa * P(gWeight[ra]) - sb * P(gWeight[rb]);
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
  const heaps = [new PairHeap(), new PairHeap(), new PairHeap()];
  const push = (ra: number, rb: number, u: number, v: number) =>
    heaps[gFrozen[ra] + gFrozen[rb]].push(price(ra, rb), u, v, gStamp[ra], gStamp[rb]);
  const offer = (u: number, v: number) => {
    const ra = find(u);
    const rb = find(v);
    if (ra !== rb) push(ra, rb, u, v);
  };
  // Reference edges, at most `perVertex` per path: the closest in weight.
  const perVertex = 12;
  for (let v = 0; v < n; v++) {
    const from = graph.offsets[v];
    const to = graph.offsets[v + 1];
    if (to - from <= perVertex) {
      for (let e = from; e < to; e++) offer(v, graph.targets[e]);
    } else {
      const targets = Array.from(graph.targets.subarray(from, to));
      targets.sort((x, y) => Math.abs(gWeight[find(x)] - gWeight[find(v)]) - Math.abs(gWeight[find(y)] - gWeight[find(v)]) || x - y);
      for (let i = 0; i < perVertex; i++) offer(v, targets[i]);
    }
  }
  // Neighbours in order of closure weight: paths that change about as often.
  // The free paths get their own chain, so free merges never run out while
  // two free groups remain (unless the maximum layer size forbids them).
  const byWeight = Array.from({ length: n }, (_, i) => i).sort((x, y) => gWeight[find(x)] - gWeight[find(y)] || x - y);
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
  const eligible = (ra: number, rb: number) =>
    gSize[ra] + gSize[rb] <= maxLayer && (groups > budget || undersized(ra) || undersized(rb));
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
    throw new PipelineError("min-pull",
      `min-pull: cannot fit ${n} paths into ${budget} layers without exceeding the maximum layer size of ${maxLayer} bytes`,
    );
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
 * Exact own-change weight of each layer's closure: propagate, referrers
 * first, the set of layers that reach each vertex (a bitset of layer ids),
 * then add each vertex's weight to every layer in its set.
 */
export function exactClosureWeights(g: CsrGraph, topo: Uint32Array, w: ArrayLike<number>, layerOf: Int32Array, layers: number): Float64Array {
  const words = (layers + 31) >>> 5;
  const reach = new Uint32Array(g.n * words);
  for (let v = 0; v < g.n; v++) reach[v * words + (layerOf[v] >>> 5)] |= 1 << (layerOf[v] & 31);
  for (let t = 0; t < g.n; t++) {
    const v = topo[t];
    const row = v * words;
    for (let e = g.offsets[v], end = g.offsets[v + 1]; e < end; e++) {
      const c = g.targets[e] * words;
      for (let k = 0; k < words; k++) reach[c + k] |= reach[row + k];
    }
  }
  const out = new Float64Array(layers);
  for (let v = 0; v < g.n; v++) {
    for (let k = 0; k < words; k++) {
      let x = reach[v * words + k];
      while (x !== 0) {
        const bit = 31 - Math.clz32(x & -x);
        out[k * 32 + bit] += w[v];
        x &= x - 1;
      }
    }
  }
  return out;
}
