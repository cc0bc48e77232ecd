// Compressed sparse row adjacency: the out-neighbours of v are
// targets[offsets[v] .. offsets[v + 1]). offsets has n + 1 entries and
// offsets[n] === targets.length (the sentinel).

export interface CsrGraph {
  readonly n: number;
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
}

/** Builds a CSR from per-vertex adjacency lists (used by tests and small tools). */
export function csrFromLists(lists: readonly (readonly number[])[]): CsrGraph {
  const n = lists.length;
  const offsets = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) offsets[v + 1] = offsets[v] + lists[v].length;
  const targets = new Uint32Array(offsets[n]);
  let k = 0;
  for (const list of lists) for (const w of list) targets[k++] = w;
  return { n, offsets, targets };
}

/** Checks the CSR invariants once at the TypeScript boundary; kernels then run unchecked. */
export function assertCsr(g: CsrGraph): void {
  const { n, offsets, targets } = g;
  if (offsets.length !== n + 1) throw new RangeError(`csr: offsets has ${offsets.length} entries, expected n + 1 = ${n + 1}`);
  if (offsets[0] !== 0 || offsets[n] !== targets.length) {
    throw new RangeError(`csr: offsets must start at 0 and end at targets.length (${targets.length}), got ${offsets[0]}..${offsets[n]}`);
  }
  for (let v = 0; v < n; v++) {
    if (offsets[v] > offsets[v + 1]) throw new RangeError(`csr: offsets decrease at vertex ${v}`);
  }
  for (let e = 0; e < targets.length; e++) {
    if (targets[e] >= n) throw new RangeError(`csr: target ${targets[e]} at edge ${e} is not a vertex (n = ${n})`);
  }
}

/**
 * Whether the graph has no cycle: Kahn's algorithm with a plain queue (any
 * order will do for the answer). `indegree`, when given, holds each vertex's
 * in-degree and is consumed; otherwise it is computed.
 */
export function isAcyclic(g: CsrGraph, indegree?: Uint32Array): boolean {
  const { n, offsets, targets } = g;
  let deg = indegree;
  if (deg === undefined) {
    deg = new Uint32Array(n);
    for (let e = 0; e < targets.length; e++) deg[targets[e]]++;
  }
  const queue = new Uint32Array(n);
  let tail = 0;
  for (let v = 0; v < n; v++) if (deg[v] === 0) queue[tail++] = v;
  for (let head = 0; head < tail; head++) {
    const u = queue[head];
    for (let e = offsets[u], end = offsets[u + 1]; e < end; e++) if (--deg[targets[e]] === 0) queue[tail++] = targets[e];
  }
  return tail === n;
}
