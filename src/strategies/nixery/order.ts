// Go's sort.Strings order (bytewise on UTF-8) of a whole closure's paths, as
// one vertex permutation. Nixery's grouping sorts every subtree's contents
// and breaks rating ties by first path; with this order neither needs a sort
// of its own: members are bucketed in path order and subtrees numbered by
// their first member (src/strategies/nixery/group.ts).
//
// Example: paths ["/nix/store/b-x", "/nix/store/a-y", "/nix/store/ab-z"]
// -> [1, 2, 0].
//
// One comparison sort of all n vertices costs about as many comparisons as
// the per-subtree sorts plus the tie-break sort it replaces, but it is one
// monomorphic callback instead of several, and no string arrays are made for
// sorting. An MSD radix sort over the characters (as auto-layer's nameOrder
// does for large closures) was measured too: at 100k paths its cold loops
// cost more than this sort (docs/speed.md, "Nixery at 100k").
import { compareCodePoints, codeUnitOrderIsCodePointOrder } from "../../graph/store-name.js";

/** Vertices 0..n-1 sorted by paths[v] bytewise ascending; the paths must be distinct. */
export function bytewiseOrder(paths: readonly string[]): Uint32Array {
  const n = paths.length;
  const idx = new Array<number>(n);
  for (let v = 0; v < n; v++) idx[v] = v;
  // UTF-16 code unit order is UTF-8 byte order unless surrogates or
  // U+E000..U+FFFF occur; the distinct paths never compare equal.
  if (codeUnitOrderIsCodePointOrder(paths)) idx.sort((a, b) => (paths[a] < paths[b] ? -1 : 1));
  else idx.sort((a, b) => compareCodePoints(paths[a], paths[b]));
  return Uint32Array.from(idx);
}
