// Stable LSD radix sort by whole-number keys below 2^53, 16 bits per pass:
// no comparator callback, so it beats Array.prototype.sort with one by an
// order of magnitude on 100k items. Shared by auto-layer (name order of large
// closures) and Nixery (rating order of large ratings).
//
// Example: items [0, 1, 2] with keys [7, 3, 7] -> items [1, 0, 2], keys [3, 7, 7].

/**
 * Sorts items[from..to) by keys[from..to) ascending (the two arrays are
 * parallel and permuted together); equal keys keep their relative order.
 * Keys must be whole numbers in [0, 2^53). Digits are bytes of the key split
 * into two uint32 halves (no floating-point division per item); a pass whose
 * digit is the same for every item is skipped.
 */
let scratch = new Uint32Array(0);
const count = new Int32Array(256);

export function radixSortByKey(items: Uint32Array, keys: Float64Array, from = 0, to = items.length): void {
  const n = to - from;
  if (n < 2) return;
  // Scratch reused across calls (name order sorts thousands of small runs).
  if (scratch.length < 6 * n) scratch = new Uint32Array(Math.max(6 * n, 2 * scratch.length));
  let lo: Uint32Array = scratch.subarray(0, n);
  let hi: Uint32Array = scratch.subarray(n, 2 * n);
  let it: Uint32Array = scratch.subarray(2 * n, 3 * n);
  let lo2: Uint32Array = scratch.subarray(3 * n, 4 * n);
  let hi2: Uint32Array = scratch.subarray(4 * n, 5 * n);
  let it2: Uint32Array = scratch.subarray(5 * n, 6 * n);
  it.set(items.subarray(from, to));
  let maxHi = 0;
  let maxLo = 0;
  for (let i = 0; i < n; i++) {
    const k = keys[from + i];
    const h = Math.floor(k / 4294967296);
    hi[i] = h;
    lo[i] = k - h * 4294967296;
    if (h > maxHi) maxHi = h;
    maxLo |= lo[i];
  }
  const passes = maxHi > 0 ? 4 + Math.ceil(Math.log2(maxHi + 1) / 8) : maxLo === 0 ? 0 : Math.ceil(Math.log2((maxLo >>> 0) + 1) / 8);
  for (let pass = 0; pass < passes; pass++) {
    const src = pass < 4 ? lo : hi;
    const shift = (pass & 3) * 8;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(src[i] >>> shift) & 255]++;
    if (count[(src[0] >>> shift) & 255] === n) continue; // every item has this digit
    let sum = 0;
    for (let d = 0; d < 256; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = count[(src[i] >>> shift) & 255]++;
      it2[at] = it[i];
      lo2[at] = lo[i];
      hi2[at] = hi[i];
    }
    let t = it;
    it = it2;
    it2 = t;
    t = lo;
    lo = lo2;
    lo2 = t;
    t = hi;
    hi = hi2;
    hi2 = t;
  }
  items.set(it, from);
  for (let i = 0; i < n; i++) keys[from + i] = hi[i] * 4294967296 + lo[i];
}

/**
 * Sorts items[from..to) by keys[from..to) ascending, not necessarily stable:
 * radix for large ranges, insertion sort for small ones.
 */
export function sortByKey(items: Uint32Array, keys: Float64Array, from: number, to: number): void {
  const n = to - from;
  if (n >= 48) {
    radixSortByKey(items, keys, from, to);
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const k = keys[i];
    const x = items[i];
    let j = i;
    while (j > from && keys[j - 1] > k) {
      keys[j] = keys[j - 1];
      items[j] = items[j - 1];
      j--;
    }
    keys[j] = k;
    items[j] = x;
  }
}
