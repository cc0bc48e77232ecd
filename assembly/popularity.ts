// nixpkgs' popularity_contest counts, exact at any magnitude.
//
// Closed form (shared/reference/nixpkgs-pipeline.md 5.3):
//   N(w) = number of distinct paths from any root to w   (N(root) = 1)
//   popularity(v) = sum of N(w) over w = v and every ancestor w of v.
// Example: foo->bar, foo->baz, bar->baz, baz->tux: N = foo 1, bar 1, baz 2,
// tux 2; popularity foo 1, bar 2, baz 4, tux 6.
//
// Numbers are unsigned little-endian multi-limb integers of L u32 limbs, L
// chosen by the host: `pathCounts` reports overflow of L limbs (of N or of the
// grand total, which bounds every popularity) and the host retries with more.
// Sums use lazy carries: each limb is accumulated into its own u64, which
// cannot overflow for fewer than 2^32 terms, and carries are propagated once.
// The ancestor sets are walked per vertex over the reverse CSR with stamps
// (cost: the edges among v's ancestors); a vertex with a single referrer p
// has popularity(p) + N(v) without a walk. Twin: src/kernels/ts/popularity.ts.

/**
 * N for every vertex in topological order into `paths` (n * L u32), and the
 * total sum of N into `total` (L u32). Returns false when L limbs overflow.
 */
export function pathCounts(
  n: u32, order: usize, rOff: usize, rTgt: usize, limbs: u32, paths: usize, total: usize,
): bool {
  const rowBytes = <usize>limbs << 2;
  memory.fill(total, 0, rowBytes);
  for (let i: u32 = 0; i < n; i++) {
    const v = load<u32>(order + (<usize>i << 2));
    const row = paths + <usize>v * rowBytes;
    const from = load<u32>(rOff + (<usize>v << 2));
    const to = load<u32>(rOff + (<usize>(v + 1) << 2));
    memory.fill(row, 0, rowBytes);
    if (from == to) {
      store<u32>(row, 1);
    } else {
      for (let e = from; e < to; e++) {
        const p = load<u32>(rTgt + (<usize>e << 2));
        if (!addInto(row, paths + <usize>p * rowBytes, limbs)) return false;
      }
    }
    if (!addInto(total, row, limbs)) return false;
  }
  return true;
}

/** dst += src over L limbs; false when the sum does not fit. */
// @ts-ignore: decorator
@inline
function addInto(dst: usize, src: usize, limbs: u32): bool {
  let carry: u64 = 0;
  for (let k: u32 = 0; k < limbs; k++) {
    const at = <usize>k << 2;
    const s = <u64>load<u32>(dst + at) + <u64>load<u32>(src + at) + carry;
    store<u32>(dst + at, <u32>s);
    carry = s >> 32;
  }
  return carry == 0;
}

/**
 * popularity into `out` (n * L u32) from `paths` (as `pathCounts` left it).
 * Scratch: `stamp` n u32 zeroed, `stack` n u32, `acc` L u64. The caller
 * guarantees the grand total fits in L limbs, so no sum overflows.
 */
export function popularity(
  n: u32, order: usize, rOff: usize, rTgt: usize, limbs: u32, paths: usize,
  stamp: usize, stack: usize, acc: usize, out: usize,
): void {
  const rowBytes = <usize>limbs << 2;
  for (let i: u32 = 0; i < n; i++) {
    const v = load<u32>(order + (<usize>i << 2));
    const from = load<u32>(rOff + (<usize>v << 2));
    const to = load<u32>(rOff + (<usize>(v + 1) << 2));
    const row = out + <usize>v * rowBytes;
    const own = paths + <usize>v * rowBytes;
    if (to - from <= 1) {
      // Root: N(v) = 1. Single referrer p: ancestors(v) = {p} + ancestors(p),
      // and p precedes v in the order, so its popularity is final.
      memory.copy(row, own, rowBytes);
      if (to - from == 1) addInto(row, out + <usize>load<u32>(rTgt + (<usize>from << 2)) * rowBytes, limbs);
      continue;
    }
    const mark = i + 1;
    store<u32>(stamp + (<usize>v << 2), mark);
    store<u32>(stack, v);
    let top: u32 = 1;
    if (limbs == 1) {
      // One u64 holds n terms below 2^32 each.
      let sum: u64 = 0;
      while (top > 0) {
        top--;
        const x = load<u32>(stack + (<usize>top << 2));
        sum += <u64>load<u32>(paths + (<usize>x << 2));
        const end = load<u32>(rOff + (<usize>(x + 1) << 2));
        for (let e = load<u32>(rOff + (<usize>x << 2)); e < end; e++) {
          const w = load<u32>(rTgt + (<usize>e << 2));
          const sp = stamp + (<usize>w << 2);
          if (load<u32>(sp) == mark) continue;
          store<u32>(sp, mark);
          store<u32>(stack + (<usize>top << 2), w);
          top++;
        }
      }
      store<u32>(row, <u32>sum);
      continue;
    }
    memory.fill(acc, 0, <usize>limbs << 3);
    while (top > 0) {
      top--;
      const x = load<u32>(stack + (<usize>top << 2));
      const src = paths + <usize>x * rowBytes;
      for (let k: u32 = 0; k < limbs; k++) {
        const a = acc + (<usize>k << 3);
        store<u64>(a, load<u64>(a) + <u64>load<u32>(src + (<usize>k << 2)));
      }
      const end = load<u32>(rOff + (<usize>(x + 1) << 2));
      for (let e = load<u32>(rOff + (<usize>x << 2)); e < end; e++) {
        const w = load<u32>(rTgt + (<usize>e << 2));
        const sp = stamp + (<usize>w << 2);
        if (load<u32>(sp) == mark) continue;
        store<u32>(sp, mark);
        store<u32>(stack + (<usize>top << 2), w);
        top++;
      }
    }
    let carry: u64 = 0;
    for (let k: u32 = 0; k < limbs; k++) {
      const s = load<u64>(acc + (<usize>k << 3)) + carry;
      store<u32>(row + (<usize>k << 2), <u32>s);
      carry = s >> 32;
    }
  }
}
