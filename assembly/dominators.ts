// Immediate dominators of a DAG under a virtual root whose children are the
// given roots, in one pass over a topological order.
//
// In a DAG every dominator of v precedes v in any topological order, so when
// v is reached all its predecessors already have their final idom and
// idom(v) = nearest common ancestor, in the dominator tree built so far, of
// v's reachable predecessors (the virtual root counts as a predecessor of
// each root). The common ancestor is found by walking the deeper side up
// (Cooper-Harvey-Kennedy's two-finger intersect, with depth as the key).
// Example: r->a, r->b, a->c, b->c, c->d with root r: idom a=r, b=r, c=r, d=c;
// r itself gets -1 (the virtual root).
// Result (i32 per vertex): vertex, -1 = virtual root, -2 = unreachable.
// Reference: K. D. Cooper, T. J. Harvey, K. Kennedy, "A Simple, Fast Dominance
// Algorithm" (2001); shared/reference/engineering.md 3.2 (single-pass DAG).
// Twin: src/kernels/ts/dominators.ts.

const VIRTUAL_ROOT: i32 = -1;
const UNREACHABLE: i32 = -2;

/**
 * `order` holds a topological order of all n vertices; `rOff`/`rTgt` are the
 * reverse CSR; `isRoot` n u8 flags; `depth` n i32 scratch; `idom` n i32 out.
 */
export function dominators(
  n: u32, order: usize, rOff: usize, rTgt: usize,
  isRoot: usize, depth: usize, idom: usize,
): void {
  for (let i: u32 = 0; i < n; i++) {
    const v = load<u32>(order + (<usize>i << 2));
    let d: i32 = load<u8>(isRoot + v) != 0 ? VIRTUAL_ROOT : UNREACHABLE;
    const end = load<u32>(rOff + (<usize>(v + 1) << 2));
    for (let e = load<u32>(rOff + (<usize>v << 2)); e < end; e++) {
      const p = load<i32>(rTgt + (<usize>e << 2));
      if (load<i32>(idom + (<usize>p << 2)) == UNREACHABLE) continue;
      if (d == UNREACHABLE) {
        d = p;
      } else {
        // Two-finger walk up the dominator tree; the virtual root has depth 0.
        let a = d;
        let b = p;
        while (a != b) {
          const da = a < 0 ? 0 : load<i32>(depth + (<usize>a << 2));
          const db = b < 0 ? 0 : load<i32>(depth + (<usize>b << 2));
          if (da >= db) a = load<i32>(idom + (<usize>a << 2));
          else b = load<i32>(idom + (<usize>b << 2));
        }
        d = a;
      }
      if (d == VIRTUAL_ROOT) break;
    }
    store<i32>(idom + (<usize>v << 2), d);
    if (d != UNREACHABLE) {
      store<i32>(depth + (<usize>v << 2), d < 0 ? 1 : load<i32>(depth + (<usize>d << 2)) + 1);
    }
  }
}
