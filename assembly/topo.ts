// In-degrees and Kahn's topological order over a CSR graph.
//
// Referrers come before references; among ready vertices the smallest index is
// taken first (a binary min-heap), so the order does not depend on edge order
// and equals src/kernels/ts/topo.ts exactly.
// Example: 0->2, 1->2, 2->3 gives in-degrees [0, 0, 2, 1] and order [0, 1, 2, 3];
// with 1->0 added it is [1, 0, 2, 3].
// Reference: A. B. Kahn, "Topological sorting of large networks", CACM 5(11), 1962.

/** Writes the in-degree (number of incoming edges) of each vertex into `deg` (n u32). */
export function inDegrees(n: u32, off: usize, tgt: usize, deg: usize): void {
  memory.fill(deg, 0, <usize>n << 2);
  const m = load<u32>(off + (<usize>n << 2));
  for (let e: u32 = 0; e < m; e++) {
    const p = deg + (<usize>load<u32>(tgt + (<usize>e << 2)) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
}

/**
 * Kahn's algorithm. Scratch: `deg` and `heap` have room for n u32 each; the
 * order is written to `order` (n u32). Returns how many vertices were ordered
 * (fewer than n when the graph has a cycle).
 */
export function topoOrder(n: u32, off: usize, tgt: usize, deg: usize, heap: usize, order: usize): u32 {
  inDegrees(n, off, tgt, deg);
  let size: u32 = 0;
  for (let v: u32 = 0; v < n; v++) {
    // Ascending pushes keep the heap property without sifting.
    if (load<u32>(deg + (<usize>v << 2)) == 0) {
      store<u32>(heap + (<usize>size << 2), v);
      size++;
    }
  }
  let count: u32 = 0;
  while (size > 0) {
    const v = heapPop(heap, size);
    size--;
    store<u32>(order + (<usize>count << 2), v);
    count++;
    const end = load<u32>(off + (<usize>(v + 1) << 2));
    for (let e = load<u32>(off + (<usize>v << 2)); e < end; e++) {
      const w = load<u32>(tgt + (<usize>e << 2));
      const p = deg + (<usize>w << 2);
      const d = load<u32>(p) - 1;
      store<u32>(p, d);
      if (d == 0) {
        heapPush(heap, size, w);
        size++;
      }
    }
  }
  return count;
}

/**
 * Kahn's algorithm without the heap: ready vertices in first-in first-out
 * order, O(n + m). Some topological order, not topoOrder's; for callers whose
 * result does not depend on which (immediate dominators are unique). `queue`
 * has room for n u32 and doubles as the output: it is returned filled in
 * order. Returns how many vertices were ordered (fewer than n on a cycle).
 */
export function topoAnyOrder(n: u32, off: usize, tgt: usize, deg: usize, queue: usize): u32 {
  inDegrees(n, off, tgt, deg);
  let tail: u32 = 0;
  for (let v: u32 = 0; v < n; v++) {
    if (load<u32>(deg + (<usize>v << 2)) == 0) {
      store<u32>(queue + (<usize>tail << 2), v);
      tail++;
    }
  }
  for (let head: u32 = 0; head < tail; head++) {
    const v = load<u32>(queue + (<usize>head << 2));
    const end = load<u32>(off + (<usize>(v + 1) << 2));
    for (let e = load<u32>(off + (<usize>v << 2)); e < end; e++) {
      const p = deg + (<usize>load<u32>(tgt + (<usize>e << 2)) << 2);
      const d = load<u32>(p) - 1;
      store<u32>(p, d);
      if (d == 0) {
        store<u32>(queue + (<usize>tail << 2), load<u32>(tgt + (<usize>e << 2)));
        tail++;
      }
    }
  }
  return tail;
}

// @ts-ignore: decorator
@inline
function heapPush(heap: usize, size: u32, x: u32): void {
  let i = size;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const hp = load<u32>(heap + (<usize>p << 2));
    if (hp <= x) break;
    store<u32>(heap + (<usize>i << 2), hp);
    i = p;
  }
  store<u32>(heap + (<usize>i << 2), x);
}

// @ts-ignore: decorator
@inline
function heapPop(heap: usize, size: u32): u32 {
  const top = load<u32>(heap);
  const last = size - 1;
  const x = load<u32>(heap + (<usize>last << 2));
  let i: u32 = 0;
  for (;;) {
    let c: u32 = 2 * i + 1;
    if (c >= last) break;
    let hc = load<u32>(heap + (<usize>c << 2));
    if (c + 1 < last) {
      const h2 = load<u32>(heap + (<usize>(c + 1) << 2));
      if (h2 < hc) {
        c++;
        hc = h2;
      }
    }
    if (hc >= x) break;
    store<u32>(heap + (<usize>i << 2), hc);
    i = c;
  }
  store<u32>(heap + (<usize>i << 2), x);
  return top;
}
