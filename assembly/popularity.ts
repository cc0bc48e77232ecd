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
//
// Ancestor sets are not walked from scratch per vertex (what the test oracle
// popularityNaiveTs does; cost = sum over v of the edges among v's ancestors). Each vertex v picks a pivot
// referrer p(v) (the one with most root paths, a cheap stand-in for "largest
// ancestor set"); the pivots form a spanning forest T. A depth-first walk of
// T keeps `inSet` = exactly {u} + ancestors(u) for the current vertex u: when
// it descends to v it adds D(v) = v plus v's ancestors not yet in the set (a
// walk from v's referrers that stops at members: a member's ancestors are
// members too), so popularity(v) = popularity(p(v)) + sum of N over D(v);
// when it returns, D(v) is removed again. Cost: sum over v of |D(v)| and the
// referrer lists of D(v), far below the sum of ancestor-set sizes on
// Nix-like graphs (synthetic 300k paths: 86M visits instead of ~475M).
// Worked example (the graph above): pivots bar<-foo, baz<-foo (tie with bar:
// first referrer), tux<-baz. Walk: foo D={foo} 1; bar D={bar} 1+1 = 2 (then
// bar leaves the set); baz D={baz, bar} 2+1, + popularity(foo) = 4; tux
// D={tux} 2 + 4 = 6.
// Twin: src/kernels/ts/popularity.ts (popularityTs).

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
 * Scratch, u32 each: `pivot` n, `tOff` n + 1, `tKid` n, `undo` n, `frame` 2n;
 * `inSet` n u8 zeroed; `acc` L u64. The caller guarantees that the grand
 * total fits in L limbs, so no sum overflows.
 */
export function popularity(
  n: u32, rOff: usize, rTgt: usize, limbs: u32, paths: usize,
  pivot: usize, tOff: usize, tKid: usize, undo: usize, frame: usize, inSet: usize,
  acc: usize, out: usize,
): void {
  const rowBytes = <usize>limbs << 2;
  // Pivot = the referrer with the most root paths (ties: first in the row);
  // n marks a root. Then T's child lists as a CSR (counting sort by pivot).
  memory.fill(tOff, 0, (<usize>n + 1) << 2);
  for (let v: u32 = 0; v < n; v++) {
    const from = load<u32>(rOff + (<usize>v << 2));
    const to = load<u32>(rOff + (<usize>(v + 1) << 2));
    let best = n;
    for (let e = from; e < to; e++) {
      const p = load<u32>(rTgt + (<usize>e << 2));
      if (best == n || greater(paths + <usize>p * rowBytes, paths + <usize>best * rowBytes, limbs)) best = p;
    }
    store<u32>(pivot + (<usize>v << 2), best);
    const c = tOff + (<usize>best << 2); // roots are counted in slot n, unused
    if (best < n) store<u32>(c, load<u32>(c) + 1);
  }
  let sum: u32 = 0;
  for (let v: u32 = 0; v <= n; v++) {
    const c = tOff + (<usize>v << 2);
    const k = load<u32>(c);
    store<u32>(c, sum);
    sum += k;
  }
  for (let v: u32 = 0; v < n; v++) {
    const p = load<u32>(pivot + (<usize>v << 2));
    if (p == n) continue;
    const c = tOff + (<usize>p << 2);
    const at = load<u32>(c);
    store<u32>(tKid + (<usize>at << 2), v);
    store<u32>(c, at + 1);
  }
  // Each slot now holds the end of its children = the start of the next
  // vertex's: shift by one to get the CSR offsets back.
  for (let v = n; v > 0; v--) store<u32>(tOff + (<usize>v << 2), load<u32>(tOff + (<usize>(v - 1) << 2)));
  store<u32>(tOff, 0);

  // Depth-first walk of T from every root. frame[d] = vertex at depth d; the
  // undo stack holds the members of inSet, D(frame[0]), D(frame[1]), ... in
  // turn, and cursor[v] (reusing pivot[]) = next child of v to visit.
  let undoTop: u32 = 0;
  for (let r: u32 = 0; r < n; r++) {
    if (load<u32>(pivot + (<usize>r << 2)) != n) continue;
    let depth: u32 = 0;
    undoTop = enter(r, n, rOff, rTgt, limbs, paths, undo, undoTop, inSet, acc, out);
    store<u32>(frame, r);
    store<u32>(pivot + (<usize>r << 2), load<u32>(tOff + (<usize>r << 2)));
    for (;;) {
      const u = load<u32>(frame + (<usize>depth << 2));
      const cp = pivot + (<usize>u << 2);
      const cursor = load<u32>(cp);
      if (cursor < load<u32>(tOff + (<usize>(u + 1) << 2))) {
        store<u32>(cp, cursor + 1);
        const v = load<u32>(tKid + (<usize>cursor << 2));
        const base = undoTop;
        undoTop = enter(v, n, rOff, rTgt, limbs, paths, undo, undoTop, inSet, acc, out);
        // popularity(v) = popularity(u) + sum over D(v), written by enter().
        addInto(out + <usize>v * rowBytes, out + <usize>u * rowBytes, limbs);
        depth++;
        store<u32>(frame + (<usize>depth << 2), v);
        store<u32>(pivot + (<usize>v << 2), load<u32>(tOff + (<usize>v << 2)));
        // Remember where D(v) starts: stored in the frame's upper half.
        store<u32>(frame + ((<usize>n + <usize>depth) << 2), base);
        continue;
      }
      // Leave u: drop D(u) from the set.
      const base: u32 = depth == 0 ? 0 : load<u32>(frame + ((<usize>n + <usize>depth) << 2));
      for (let i = base; i < undoTop; i++) store<u8>(inSet + load<u32>(undo + (<usize>i << 2)), 0);
      undoTop = base;
      if (depth == 0) break;
      depth--;
    }
  }
}

/** Pushes x's referrers not yet in inSet onto the undo stack; returns its new height. */
// @ts-ignore: decorator
@inline
function pushNewReferrers(x: u32, rOff: usize, rTgt: usize, inSet: usize, undo: usize, top: u32): u32 {
  const end = load<u32>(rOff + (<usize>(x + 1) << 2));
  for (let e = load<u32>(rOff + (<usize>x << 2)); e < end; e++) {
    const w = load<u32>(rTgt + (<usize>e << 2));
    if (load<u8>(inSet + w) != 0) continue;
    store<u8>(inSet + w, 1);
    store<u32>(undo + (<usize>top << 2), w);
    top++;
  }
  return top;
}

/**
 * Adds v and its ancestors outside inSet to inSet and to the undo stack
 * (breadth-first, using the new stack entries as the queue) and writes the
 * sum of their N to out[v]. Returns the new undo stack height.
 */
// Deliberately not inlined: a long call stays in V8's baseline (Liftoff) code
// for its whole run, but calls made after the optimised code is ready use it,
// so the hot loop living in its own function speeds up the first call (measured
// 1.06-1.41 s -> 0.75-0.86 s on a fresh instance at 100k paths).
function enter(
  v: u32, n: u32, rOff: usize, rTgt: usize, limbs: u32, paths: usize,
  undo: usize, top: u32, inSet: usize, acc: usize, out: usize,
): u32 {
  const rowBytes = <usize>limbs << 2;
  store<u8>(inSet + v, 1);
  store<u32>(undo + (<usize>top << 2), v);
  let head = top;
  top++;
  if (limbs == 1) {
    let sum: u64 = 0; // fewer than 2^32 terms below 2^32 each
    while (head < top) {
      const x = load<u32>(undo + (<usize>head << 2));
      head++;
      sum += <u64>load<u32>(paths + (<usize>x << 2));
      top = pushNewReferrers(x, rOff, rTgt, inSet, undo, top);
    }
    store<u32>(out + (<usize>v << 2), <u32>sum);
    return top;
  }
  memory.fill(acc, 0, <usize>limbs << 3);
  while (head < top) {
    const x = load<u32>(undo + (<usize>head << 2));
    head++;
    const src = paths + <usize>x * rowBytes;
    for (let k: u32 = 0; k < limbs; k++) {
      const a = acc + (<usize>k << 3);
      store<u64>(a, load<u64>(a) + <u64>load<u32>(src + (<usize>k << 2)));
    }
    top = pushNewReferrers(x, rOff, rTgt, inSet, undo, top);
  }
  const row = out + <usize>v * rowBytes;
  let carry: u64 = 0;
  for (let k: u32 = 0; k < limbs; k++) {
    const s = load<u64>(acc + (<usize>k << 3)) + carry;
    store<u32>(row + (<usize>k << 2), <u32>s);
    carry = s >> 32;
  }
  return top;
}

/** a > b over L limbs. */
// @ts-ignore: decorator
@inline
function greater(a: usize, b: usize, limbs: u32): bool {
  for (let k = <i32>limbs - 1; k >= 0; k--) {
    const x = load<u32>(a + (<usize>k << 2));
    const y = load<u32>(b + (<usize>k << 2));
    if (x != y) return x > y;
  }
  return false;
}
