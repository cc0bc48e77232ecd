// TypeScript twin of assembly/topo.ts: Kahn's algorithm, referrers first,
// smallest ready vertex first (a binary heap keeps the result independent of
// edge order). Returns fewer than n vertices when there is a cycle.
import type { CsrGraph } from "../../graph/csr.js";

export function inDegreesTs(g: CsrGraph): Uint32Array {
  const deg = new Uint32Array(g.n);
  for (let e = 0; e < g.targets.length; e++) deg[g.targets[e]]++;
  return deg;
}

export function topoOrderTs(g: CsrGraph): Uint32Array {
  const { n, offsets, targets } = g;
  const deg = inDegreesTs(g);
  const heap = new Uint32Array(n);
  let size = 0;
  const push = (x: number) => {
    let i = size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p] <= x) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = x;
  };
  const pop = (): number => {
    const top = heap[0];
    const x = heap[--size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && heap[c + 1] < heap[c]) c++;
      if (heap[c] >= x) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = x;
    return top;
  };
  for (let v = 0; v < n; v++) if (deg[v] === 0) push(v);
  const order = new Uint32Array(n);
  let count = 0;
  while (size > 0) {
    const v = pop();
    order[count++] = v;
    for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
      const w = targets[e];
      if (--deg[w] === 0) push(w);
    }
  }
  return count === n ? order : order.slice(0, count);
}
