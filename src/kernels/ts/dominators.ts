// TypeScript twin of assembly/dominators.ts.
//
// Immediate dominators of a DAG under a virtual root whose children are
// `roots`. In a DAG every dominator of v precedes v in any topological order,
// so one pass in that order is exact: idom(v) = nearest common ancestor, in
// the dominator tree built so far, of v's predecessors (the virtual root
// counts as a predecessor of each root). Example: r->a, r->b, a->c, b->c,
// c->d with root r: idom a=r, b=r, c=r, d=c.
// Result: vertex index, -1 = the virtual root, -2 = unreachable from roots.
import type { CsrGraph } from "../../graph/csr.js";
import { topoOrderTs } from "./topo.js";

export const VIRTUAL_ROOT = -1;
export const UNREACHABLE = -2;

export function dominatorsTs(g: CsrGraph, reverse: CsrGraph, roots: ArrayLike<number>): Int32Array {
  const n = g.n;
  const order = topoOrderTs(g);
  if (order.length !== n) throw new Error("dominators: graph has a cycle");
  const isRoot = new Uint8Array(n);
  for (let i = 0; i < roots.length; i++) isRoot[roots[i]] = 1;
  const idom = new Int32Array(n).fill(UNREACHABLE);
  // depth in the dominator tree; the virtual root has depth 0.
  const depth = new Int32Array(n);
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      const da = a < 0 ? 0 : depth[a];
      const db = b < 0 ? 0 : depth[b];
      if (da >= db) a = idom[a];
      else b = idom[b];
    }
    return a;
  };
  for (const v of order) {
    let d = isRoot[v] ? VIRTUAL_ROOT : UNREACHABLE;
    for (let e = reverse.offsets[v], end = reverse.offsets[v + 1]; e < end; e++) {
      const p = reverse.targets[e];
      if (idom[p] === UNREACHABLE) continue; // p itself unreachable
      d = d === UNREACHABLE ? p : intersect(d, p);
      if (d === VIRTUAL_ROOT) break;
    }
    idom[v] = d;
    if (d !== UNREACHABLE) depth[v] = d < 0 ? 1 : depth[d] + 1;
  }
  return idom;
}
