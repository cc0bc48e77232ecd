// Seeded Nix-like random DAGs for the kernel tests and benchmarks.
//
// Vertex "creation" index c references earlier vertices only (so the graph is
// acyclic): one of the few just before it (this builds depth, like a package
// built on top of its immediate dependencies) and the rest drawn as
// floor(c * U^skew), which piles references onto the first vertices
// (power-law in-degree: c = 0 plays glibc). Ids are then randomly permuted,
// like store paths sorted by hash, and each row is shuffled unless sorted.
import type { CsrGraph } from "../../src/graph/csr.js";

/** mulberry32: tiny, fast, good enough for test data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomDagOptions {
  seed: number;
  n: number;
  /** Mean references per vertex (before de-duplication). Default 5. */
  avgRefs?: number;
  /** Exponent of the target draw; larger = heavier hubs. Default 3. */
  skew?: number;
  /** Probability of the "chain" reference to a vertex just before. Default 0.7. */
  chain?: number;
  /** Keep each row ascending (like Closure) instead of shuffled. Default false. */
  sortedRows?: boolean;
  /** Keep parallel (duplicate) edges. Default false. */
  duplicates?: boolean;
}

export function randomDag(opts: RandomDagOptions): CsrGraph {
  const { seed, n } = opts;
  const avgRefs = opts.avgRefs ?? 5;
  const skew = opts.skew ?? 3;
  const chain = opts.chain ?? 0.7;
  const rnd = mulberry32(seed);
  // perm[c] = vertex id of creation index c.
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  shuffle(perm, rnd);
  const rows: number[][] = [];
  for (let c = 0; c < n; c++) {
    const row: number[] = [];
    if (c > 0) {
      if (rnd() < chain) row.push(c - 1 - Math.floor(rnd() * Math.min(c, 4)));
      // Poisson-ish count with mean avgRefs - 1 (sum of coin flips).
      let k = 0;
      for (let j = 0; j < 2 * avgRefs; j++) if (rnd() < 0.5) k++;
      k = Math.max(0, k - 1);
      for (let j = 0; j < k; j++) row.push(Math.floor(c * rnd() ** skew));
    }
    let targets = row.map((t) => perm[t]);
    if (!opts.duplicates) targets = [...new Set(targets)];
    if (opts.sortedRows) targets.sort((a, b) => a - b);
    else shuffle(targets, rnd);
    rows[perm[c]] = targets;
  }
  const offsets = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) offsets[v + 1] = offsets[v] + rows[v].length;
  const targets = new Uint32Array(offsets[n]);
  for (let v = 0; v < n; v++) targets.set(rows[v], offsets[v]);
  return { n, offsets, targets };
}

function shuffle(a: { length: number; [i: number]: number }, rnd: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * The "ladder": levels 0..depth-1 of two vertices each, both referencing both
 * vertices of the next level. N doubles per level (2^k on level k), and the
 * popularity of a level-k vertex is 2 * (2^k - 1) + 2^k = 3 * 2^k - 2.
 * Vertex 2k is "a" and 2k+1 is "b" of level k.
 */
export function ladder(depth: number): CsrGraph {
  const lists: number[][] = [];
  for (let k = 0; k < depth; k++) {
    const next = k + 1 < depth ? [2 * k + 2, 2 * k + 3] : [];
    lists.push(next, [...next]);
  }
  const offsets = new Uint32Array(lists.length + 1);
  for (let v = 0; v < lists.length; v++) offsets[v + 1] = offsets[v] + lists[v].length;
  return { n: lists.length, offsets, targets: Uint32Array.from(lists.flat()) };
}
