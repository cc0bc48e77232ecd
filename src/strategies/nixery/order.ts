// Go's sort.Strings order (bytewise on UTF-8) of a whole closure's paths, as
// one vertex permutation: Nixery's grouping sorts every subtree's contents
// and breaks rating ties by first path, and with this order neither needs a
// string comparison (members are bucketed in path order, subtrees numbered
// by their first member).
//
// Example: paths ["/nix/store/b-x", "/nix/store/a-y", "/nix/store/ab-z"]
// -> [1, 2, 0].
//
// Why hand-written: a comparator sort runs a JS callback per comparison,
// cold in a one-shot CLI (about 1.7M calls at 100k paths). This is an MSD
// radix sort over 6 characters at a time (8 bits each: 0 past the end, else
// code unit + 1), starting after the prefix every path shares (usually
// "/nix/store/"), then each run of equal chunks on the next 6, as auto-layer's
// nameOrder does for its own key. Code units below 255 order like UTF-8
// bytes; a path with any other code unit in the part read sends the whole
// list to an exact comparison sort instead.
import { compareCodePoints, codeUnitOrderIsCodePointOrder } from "../../graph/store-name.js";
import { sortByKey } from "../../util/radix.js";

/** Vertices 0..n-1 sorted by paths[v] bytewise ascending (paths distinct, or ties in any order). */
export function bytewiseOrder(paths: readonly string[]): Uint32Array {
  const n = paths.length;
  const order = new Uint32Array(n);
  for (let v = 0; v < n; v++) order[v] = v;
  if (n < 2) return order;
  if (radixOrder(paths, order)) return order;
  for (let v = 0; v < n; v++) order[v] = v;
  const cmp = codeUnitOrderIsCodePointOrder(paths) ? compareUnits : compareCodePoints;
  return order.sort((a, b) => cmp(paths[a], paths[b]));
}

/** Sorts `order` by path; false (order then undefined) when a code unit >= 255 was met. */
function radixOrder(paths: readonly string[], order: Uint32Array): boolean {
  const n = paths.length;
  // The prefix all paths share decides nothing: keys start after it.
  let prefix = paths[0];
  for (let v = 1; v < n && prefix.length > 0; v++) {
    const p = paths[v];
    if (p.startsWith(prefix)) continue;
    let k = 0;
    const m = Math.min(prefix.length, p.length);
    while (k < m && prefix.charCodeAt(k) === p.charCodeAt(k)) k++;
    prefix = prefix.slice(0, k);
  }
  const keys = new Float64Array(n);
  // Ranges of `order` still to sort, with the key offset (in characters).
  const work: number[] = [0, n, prefix.length];
  while (work.length > 0) {
    const at = work.pop()!;
    const to = work.pop()!;
    const from = work.pop()!;
    let wide = 0;
    for (let i = from; i < to; i++) {
      const p = paths[order[i]];
      const len = p.length;
      let x = 0;
      for (let j = at; j < at + 6; j++) {
        const c = j < len ? p.charCodeAt(j) + 1 : 0;
        wide |= c & ~255;
        x = x * 256 + c;
      }
      keys[i] = x;
    }
    if (wide !== 0) return false;
    sortByKey(order, keys, from, to);
    for (let i = from; i < to; ) {
      let j = i + 1;
      while (j < to && keys[j] === keys[i]) j++;
      // Equal chunks: the next 6 characters decide, unless both paths ended.
      if (j - i > 1 && keys[i] % 256 !== 0) work.push(i, j, at + 6);
      i = j;
    }
  }
  return true;
}

function compareUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
