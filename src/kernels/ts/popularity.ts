// TypeScript twin of assembly/popularity.ts.
//
// nixpkgs' popularity_contest counts, over a tree unfolded from every root,
// how often each path occurs. Its closed form (reference doc, 5.3):
//   N(w) = number of distinct paths from any root to w   (N(root) = 1)
//   popularity(v) = sum of N(w) over w = v and every ancestor w of v.
// Example: foo->bar, foo->baz, bar->baz, baz->tux: N = foo 1, bar 1, baz 2,
// tux 2; popularity foo 1, bar 2, baz 4, tux 6.
// BigInt keeps it exact: N grows exponentially with depth.
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

export function popularityTs(g: CsrGraph, reverse: CsrGraph): bigint[] {
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
