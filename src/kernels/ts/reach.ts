// TypeScript twin of assembly/reach.ts (breadth-first, same visiting order).
import type { CsrGraph } from "../../graph/csr.js";

export function reachTs(g: CsrGraph, seeds: ArrayLike<number>, blocked?: Uint8Array): Uint8Array {
  const { n, offsets, targets } = g;
  const mark = new Uint8Array(n);
  const queue = new Uint32Array(n);
  let tail = 0;
  for (let i = 0; i < seeds.length; i++) {
    const s = seeds[i];
    if (s >= n || mark[s]) continue;
    mark[s] = 1;
    queue[tail++] = s;
  }
  for (let head = 0; head < tail; head++) {
    const v = queue[head];
    for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
      const w = targets[e];
      if (mark[w] || (blocked !== undefined && blocked[w])) continue;
      mark[w] = 1;
      queue[tail++] = w;
    }
  }
  return mark;
}
