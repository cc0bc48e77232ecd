// CPython's iteration order of a set of frozensets (CPython >= 3.11,
// PYTHONHASHSEED=0), reference doc A.3.1. auto-layer builds
// `set(labels.values())` and then stable-sorts it by closureSize, so layers
// with equal closureSize come out in this slot order.
import { cpythonStrHash, mul64, type U64 } from "./siphash.js";

/** _shuffle_bits: ((e ^ 89869747) ^ (e << 16)) * 3644798167 mod 2^64. */
function shuffle(e: U64): U64 {
  const hi = (e.hi ^ ((e.hi << 16) | (e.lo >>> 16))) >>> 0;
  const lo = (e.lo ^ 89869747 ^ (e.lo << 16)) >>> 0;
  return mul64(hi, lo, 0, 3644798167);
}

/** hash(frozenset(members)) from the members' hashes (order does not matter). */
export function frozensetHashFromHashes(memberHashes: readonly U64[]): U64 {
  let hi = 0;
  let lo = 0;
  for (const e of memberHashes) {
    const s = shuffle(e);
    hi ^= s.hi;
    lo ^= s.lo;
  }
  // hash ^= (n + 1) * 1927868237
  const f = mul64(0, memberHashes.length + 1, 0, 1927868237);
  hi = (hi ^ f.hi) >>> 0;
  lo = (lo ^ f.lo) >>> 0;
  // hash ^= (hash >> 11) ^ (hash >> 25)
  const s11lo = ((lo >>> 11) | (hi << 21)) >>> 0;
  const s11hi = hi >>> 11;
  const s25lo = ((lo >>> 25) | (hi << 7)) >>> 0;
  const s25hi = hi >>> 25;
  hi = (hi ^ s11hi ^ s25hi) >>> 0;
  lo = (lo ^ s11lo ^ s25lo) >>> 0;
  // hash = hash * 69069 + 907133923
  const m = mul64(hi, lo, 0, 69069);
  let rlo = m.lo + 907133923;
  let rhi = m.hi;
  if (rlo > 0xffffffff) {
    rlo -= 0x100000000;
    rhi = (rhi + 1) >>> 0;
  }
  if (rhi === 0xffffffff && rlo === 0xffffffff) return { hi: 0, lo: 590923713 };
  return { hi: rhi, lo: rlo };
}

/** hash(frozenset(strings)) under PYTHONHASHSEED=0. */
export function frozensetHash(members: Iterable<string>): U64 {
  return frozensetHashFromHashes(Array.from(members, cpythonStrHash));
}

const LINEAR_PROBES = 9;
const PERTURB_SHIFT = 5;

/**
 * The iteration order of a CPython set after adding items with these hashes
 * in this order. The items must be pairwise distinct (callers add each
 * distinct label once, at its first appearance; re-adding an equal item
 * changes nothing in CPython either). Returns item indices in slot order.
 */
export function cpythonSetOrder(hashes: readonly U64[]): number[] {
  let mask = 7;
  let table = new Int32Array(mask + 1).fill(-1);
  let used = 0;

  const insert = (item: number): void => {
    const h = hashes[item];
    let i = h.lo & mask;
    let phi = h.hi;
    let plo = h.lo;
    for (;;) {
      const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
      for (let k = 0; k <= probes; k++) {
        if (table[i + k] < 0) {
          table[i + k] = item;
          return;
        }
      }
      // perturb >>= 5 (logical, 64-bit); i = (5i + 1 + perturb) & mask.
      plo = ((plo >>> PERTURB_SHIFT) | (phi << (32 - PERTURB_SHIFT))) >>> 0;
      phi = phi >>> PERTURB_SHIFT;
      i = ((((i * 5 + 1) >>> 0) + plo) % 0x100000000) & mask;
    }
  };

  for (let item = 0; item < hashes.length; item++) {
    insert(item);
    used++;
    if (used * 5 >= mask * 3) {
      const minused = used > 50000 ? used * 2 : used * 4;
      let size = 8;
      while (size <= minused) size *= 2;
      const old = table;
      mask = size - 1;
      table = new Int32Array(size).fill(-1);
      // set_table_resize re-inserts in ascending old-slot order.
      for (let s = 0; s < old.length; s++) if (old[s] >= 0) insert(old[s]);
    }
  }
  const order: number[] = [];
  for (let s = 0; s <= mask; s++) if (table[s] >= 0) order.push(table[s]);
  return order;
}
