// Induced subgraphs and disjoint unions, written straight into arena blocks so
// derived graphs stay resident in linear memory.
//
// Induced: local vertex i = parent vertex verts[i]; an edge v->w survives when
// both ends are kept and w is not flagged in `blocked` (parent ids). Rows keep
// the parent's edge order. Example: 0->1, 0->2, 1->2 induced on [2, 0] gives
// local 1->0 (parent 0->2); with 2 blocked it has no edges.
// Disjoint union: the vertices of each part in turn, targets shifted by the
// number of vertices before the part. Twin: src/kernels/ts/subgraph.ts.

/**
 * First pass: writes the subgraph's offsets (k+1 u32) to `outOff` and returns
 * its edge count. `local` (n i32) receives the parent->local map and must be
 * kept for `inducedFill`; `blocked` is 0 or n u8 flags.
 */
export function inducedCount(
  n: u32, off: usize, tgt: usize,
  verts: usize, k: u32, blocked: usize, local: usize, outOff: usize,
): u32 {
  memory.fill(local, 0xff, <usize>n << 2);
  for (let i: u32 = 0; i < k; i++) {
    store<i32>(local + (<usize>load<u32>(verts + (<usize>i << 2)) << 2), <i32>i);
  }
  let m: u32 = 0;
  store<u32>(outOff, 0);
  for (let i: u32 = 0; i < k; i++) {
    const v = load<u32>(verts + (<usize>i << 2));
    const end = load<u32>(off + (<usize>(v + 1) << 2));
    for (let e = load<u32>(off + (<usize>v << 2)); e < end; e++) {
      const w = load<u32>(tgt + (<usize>e << 2));
      if (load<i32>(local + (<usize>w << 2)) < 0) continue;
      if (blocked != 0 && load<u8>(blocked + w) != 0) continue;
      m++;
    }
    store<u32>(outOff + (<usize>(i + 1) << 2), m);
  }
  return m;
}

/** Second pass: writes the subgraph's targets (as counted) to `outTgt`. */
export function inducedFill(
  off: usize, tgt: usize, verts: usize, k: u32, blocked: usize, local: usize, outTgt: usize,
): void {
  let at: usize = outTgt;
  for (let i: u32 = 0; i < k; i++) {
    const v = load<u32>(verts + (<usize>i << 2));
    const end = load<u32>(off + (<usize>(v + 1) << 2));
    for (let e = load<u32>(off + (<usize>v << 2)); e < end; e++) {
      const w = load<u32>(tgt + (<usize>e << 2));
      const lw = load<i32>(local + (<usize>w << 2));
      if (lw < 0) continue;
      if (blocked != 0 && load<u8>(blocked + w) != 0) continue;
      store<i32>(at, lw);
      at += 4;
    }
  }
}

/**
 * Appends one part to a union being built: its offsets go to
 * outOff[vBase + 1 .. vBase + n] (outOff[0] must be 0) shifted by eBase, its
 * targets to outTgt[eBase ..] shifted by vBase.
 */
export function unionAppend(
  outOff: usize, outTgt: usize, vBase: u32, eBase: u32,
  n: u32, off: usize, tgt: usize,
): void {
  for (let v: u32 = 0; v < n; v++) {
    store<u32>(outOff + (<usize>(vBase + v + 1) << 2), eBase + load<u32>(off + (<usize>(v + 1) << 2)));
  }
  const m = load<u32>(off + (<usize>n << 2));
  for (let e: u32 = 0; e < m; e++) {
    store<u32>(outTgt + (<usize>(eBase + e) << 2), vBase + load<u32>(tgt + (<usize>e << 2)));
  }
}
