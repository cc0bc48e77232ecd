// TypeScript twin of assembly/popularity.ts.
//
// nixpkgs' popularity_contest counts, over a tree unfolded from every root,
// how often each path occurs. Its closed form (reference doc, 5.3):
//   N(w) = number of distinct paths from any root to w   (N(root) = 1)
//   popularity(v) = sum of N(w) over w = v and every ancestor w of v.
// Example: foo->bar, foo->baz, bar->baz, baz->tux: N = foo 1, bar 1, baz 2,
// tux 2; popularity foo 1, bar 2, baz 4, tux 6.
// BigInt keeps it exact: N grows exponentially with depth (plain doubles are
// used when the grand total stays below 2^53, where they are exact too).
//
// Two implementations: `popularityNaiveTs` walks every vertex's ancestor set
// (obviously correct; the test oracle), `popularityTs` is the twin of
// assembly/popularity.ts (pivot-tree walk, explained there) and is what the
// TS backend runs.
import type { CsrGraph } from "../../graph/csr.js";
import { topoOrderTs } from "./topo.js";

export function pathCountsTs(g: CsrGraph, reverse: CsrGraph): bigint[] {
  const order = topoOrderTs(g);
  if (order.length !== g.n) throw new Error("popularity: graph has a cycle");
  const paths: bigint[] = new Array(g.n).fill(0n);
  for (const v of order) {
    const from = reverse.offsets[v];
    const to = reverse.offsets[v + 1];
    if (from === to) {
      paths[v] = 1n;
      continue;
    }
    let sum = 0n;
    for (let e = from; e < to; e++) sum += paths[reverse.targets[e]];
    paths[v] = sum;
  }
  return paths;
}

export function popularityNaiveTs(g: CsrGraph, reverse: CsrGraph): bigint[] {
  const paths = pathCountsTs(g, reverse);
  const n = g.n;
  const out: bigint[] = new Array(n);
  const seen = new Uint32Array(n); // stamp = v + 1
  const stack = new Uint32Array(n);
  for (let v = 0; v < n; v++) {
    const stamp = v + 1;
    let sum = paths[v];
    seen[v] = stamp;
    let top = 0;
    stack[top++] = v;
    while (top > 0) {
      const x = stack[--top];
      for (let e = reverse.offsets[x], end = reverse.offsets[x + 1]; e < end; e++) {
        const w = reverse.targets[e];
        if (seen[w] === stamp) continue;
        seen[w] = stamp;
        sum += paths[w];
        stack[top++] = w;
      }
    }
    out[v] = sum;
  }
  return out;
}

/**
 * Twin of assembly/popularity.ts: each vertex's pivot is its referrer with
 * the most root paths (first in the row on ties); a depth-first walk of the
 * pivot forest keeps `inSet` = {u} + ancestors(u) and adds, on entering v,
 * only D(v) = v + the ancestors of v not yet in the set.
 */
export function popularityTs(g: CsrGraph, reverse: CsrGraph): bigint[] {
  const paths = pathCountsTs(g, reverse);
  const n = g.n;
  const rOff = reverse.offsets;
  const rTgt = reverse.targets;
  let total = 0n;
  for (const x of paths) total += x;
  // Exact in doubles below 2^53; BigInt otherwise.
  const small = total < 2n ** 53n;
  const pathsF = small ? Float64Array.from(paths, Number) : undefined;
  const popF = new Float64Array(small ? n : 0);
  const popB: bigint[] = small ? [] : new Array(n).fill(0n);

  const pivot = new Int32Array(n).fill(-1);
  const kids = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    let best = -1;
    for (let e = rOff[v]; e < rOff[v + 1]; e++) {
      const p = rTgt[e];
      if (best < 0 || paths[p] > paths[best]) best = p;
    }
    pivot[v] = best;
    if (best >= 0) kids[best + 1]++;
  }
  for (let v = 0; v < n; v++) kids[v + 1] += kids[v];
  const kid = new Uint32Array(n);
  const fillAt = kids.slice(0, n);
  for (let v = 0; v < n; v++) if (pivot[v] >= 0) kid[fillAt[pivot[v]]++] = v;

  const inSet = new Uint8Array(n);
  const undo = new Uint32Array(n);
  let top = 0;
  /** Adds D(v) to the set and the undo stack; returns the sum of N over D(v) into pop[v]. */
  const enter = (v: number): void => {
    inSet[v] = 1;
    undo[top++] = v;
    let sumF = 0;
    let sumB = 0n;
    for (let head = top - 1; head < top; head++) {
      const x = undo[head];
      if (small) sumF += pathsF![x];
      else sumB += paths[x];
      for (let e = rOff[x]; e < rOff[x + 1]; e++) {
        const w = rTgt[e];
        if (inSet[w]) continue;
        inSet[w] = 1;
        undo[top++] = w;
      }
    }
    if (small) popF[v] = sumF;
    else popB[v] = sumB;
  };
  // Explicit stack of (vertex, next child, undo height before entering it).
  const stackV = new Uint32Array(n);
  const stackC = new Uint32Array(n);
  const stackU = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    if (pivot[r] >= 0) continue;
    let depth = 0;
    stackV[0] = r;
    stackC[0] = kids[r];
    stackU[0] = top;
    enter(r);
    while (depth >= 0) {
      const u = stackV[depth];
      if (stackC[depth] < kids[u + 1]) {
        const v = kid[stackC[depth]++];
        depth++;
        stackV[depth] = v;
        stackC[depth] = kids[v];
        stackU[depth] = top;
        enter(v);
        if (small) popF[v] += popF[u];
        else popB[v] += popB[u];
        continue;
      }
      for (let i = stackU[depth]; i < top; i++) inSet[undo[i]] = 0;
      top = stackU[depth];
      depth--;
    }
  }
  return small ? Array.from(popF, (x) => BigInt(x)) : popB;
}
