// Reachability over a CSR graph: every vertex reachable from a seed set.
//
// CSR: the out-edges of v are tgt[off[v] .. off[v+1]) (u32 each). Run it on the
// forward CSR for descendants and on the reverse CSR for ancestors.
// Example: a->b, b->c, d->c; reach({a}) = {a, b, c}; on the reverse graph
// reach({c}) = {c, b, a, d}.
//
// `mark` (u8 per vertex) is written 1 for reached vertices and must be zeroed
// by the caller; `queue` has room for n u32. Seeds are included. When
// `blocked` is non-zero it points at u8 flags: edges INTO a blocked vertex are
// treated as deleted (what split_paths does before it walks from the root).
// Returns the number of vertices reached.

export function reach(
  n: u32, off: usize, tgt: usize,
  seeds: usize, seedCount: u32,
  blocked: usize, mark: usize, queue: usize,
): u32 {
  let tail: u32 = 0;
  for (let i: u32 = 0; i < seedCount; i++) {
    const s = load<u32>(seeds + (<usize>i << 2));
    if (s >= n || load<u8>(mark + s) != 0) continue;
    store<u8>(mark + s, 1);
    store<u32>(queue + (<usize>tail << 2), s);
    tail++;
  }
  let head: u32 = 0;
  while (head < tail) {
    const v = load<u32>(queue + (<usize>head << 2));
    head++;
    const end = load<u32>(off + (<usize>(v + 1) << 2));
    for (let e = load<u32>(off + (<usize>v << 2)); e < end; e++) {
      const w = load<u32>(tgt + (<usize>e << 2));
      if (load<u8>(mark + w) != 0) continue;
      if (blocked != 0 && load<u8>(blocked + w) != 0) continue;
      store<u8>(mark + w, 1);
      store<u32>(queue + (<usize>tail << 2), w);
      tail++;
    }
  }
  return tail;
}
