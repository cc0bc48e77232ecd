// TypeScript twins of assembly/subgraph.ts: induced subgraphs and disjoint unions.
import type { CsrGraph } from "../../graph/csr.js";

/**
 * Subgraph on `vertices` (new vertex i = old vertex vertices[i]); edges between
 * kept vertices survive unless their target is flagged in `blocked` (old ids).
 * Within a row, edges keep the parent's order.
 */
export function inducedTs(g: CsrGraph, vertices: Uint32Array, blocked?: Uint8Array): CsrGraph {
  const k = vertices.length;
  const local = new Int32Array(g.n).fill(-1);
  for (let i = 0; i < k; i++) {
    if (vertices[i] >= g.n) throw new RangeError(`induced: vertex ${vertices[i]} is not in the graph (n = ${g.n})`);
    local[vertices[i]] = i;
  }
  const offsets = new Uint32Array(k + 1);
  let m = 0;
  for (let i = 0; i < k; i++) {
    const v = vertices[i];
    for (let e = g.offsets[v], end = g.offsets[v + 1]; e < end; e++) {
      const w = g.targets[e];
      if (local[w] >= 0 && (blocked === undefined || !blocked[w])) m++;
    }
    offsets[i + 1] = m;
  }
  const targets = new Uint32Array(m);
  let at = 0;
  for (let i = 0; i < k; i++) {
    const v = vertices[i];
    for (let e = g.offsets[v], end = g.offsets[v + 1]; e < end; e++) {
      const w = g.targets[e];
      if (local[w] >= 0 && (blocked === undefined || !blocked[w])) targets[at++] = local[w];
    }
  }
  return { n: k, offsets, targets };
}

export function disjointUnionTs(parts: readonly CsrGraph[]): CsrGraph {
  let n = 0;
  let m = 0;
  for (const p of parts) {
    n += p.n;
    m += p.targets.length;
  }
  const offsets = new Uint32Array(n + 1);
  const targets = new Uint32Array(m);
  let vBase = 0;
  let eBase = 0;
  for (const p of parts) {
    for (let v = 0; v < p.n; v++) offsets[vBase + v + 1] = eBase + p.offsets[v + 1];
    for (let e = 0; e < p.targets.length; e++) targets[eBase + e] = p.targets[e] + vBase;
    vBase += p.n;
    eBase += p.targets.length;
  }
  return { n, offsets, targets };
}
