// Transpose a CSR graph: the reverse CSR lists, for each vertex, the vertices
// that point at it, in ascending order (sources are scanned in order).
// `rOff` has room for n+1 u32, `rTgt` for m u32. Example: a->b, a->c, b->c
// gives c <- a, b.

export function transpose(n: u32, off: usize, tgt: usize, rOff: usize, rTgt: usize): void {
  const m = load<u32>(off + (<usize>n << 2));
  memory.fill(rOff, 0, (<usize>n + 1) << 2);
  for (let e: u32 = 0; e < m; e++) {
    const w = load<u32>(tgt + (<usize>e << 2));
    const p = rOff + (<usize>(w + 1) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
  for (let v: u32 = 0; v < n; v++) {
    const p = rOff + (<usize>(v + 1) << 2);
    store<u32>(p, load<u32>(p) + load<u32>(rOff + (<usize>v << 2)));
  }
  // Fill using rOff[w] as a cursor, then shift the offsets back by one slot.
  for (let v: u32 = 0; v < n; v++) {
    const end = load<u32>(off + (<usize>(v + 1) << 2));
    for (let e = load<u32>(off + (<usize>v << 2)); e < end; e++) {
      const w = load<u32>(tgt + (<usize>e << 2));
      const p = rOff + (<usize>w << 2);
      const at = load<u32>(p);
      store<u32>(rTgt + (<usize>at << 2), v);
      store<u32>(p, at + 1);
    }
  }
  for (let v = n; v > 0; v--) {
    store<u32>(rOff + (<usize>v << 2), load<u32>(rOff + (<usize>(v - 1) << 2)));
  }
  store<u32>(rOff, 0);
}
