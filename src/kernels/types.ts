// The kernel interface. Two backends implement it with identical results:
// `wasm` (AssemblyScript over linear memory, the fast path) and `ts` (plain
// TypeScript twins, the test oracle and a no-Wasm fallback).
//
// A graph is loaded once (`load`) and then addressed by a GraphRef; derived
// graphs (`induced`, `disjointUnion`) are built inside the backend, so the
// Wasm backend never copies a graph across the boundary after loading.
// Results come back as fresh JS typed arrays the caller owns.
import type { CsrGraph } from "../graph/csr.js";

export type BackendName = "wasm" | "ts";

/** A graph resident in a backend. Valid until the enclosing scope is released. */
export interface GraphRef {
  readonly n: number;
  readonly m: number;
}

export interface Kernels {
  readonly backend: BackendName;

  /** Copies a CSR graph into the backend. */
  load(g: CsrGraph): GraphRef;
  /** Reads a resident graph back (a copy). */
  read(g: GraphRef): CsrGraph;

  /**
   * Runs `fn` and afterwards frees every graph and scratch buffer the backend
   * allocated inside it. GraphRefs created inside must not escape.
   */
  scope<T>(fn: () => T): T;

  /**
   * Marks (1) every vertex reachable from `seeds`, seeds included. `direction`
   * "out" follows references (descendants), "in" follows referrers (ancestors).
   * With `blocked`, edges into a blocked vertex count as deleted (split_paths).
   */
  reach(g: GraphRef, seeds: ArrayLike<number>, direction: "out" | "in", blocked?: Uint8Array): Uint8Array;

  /** In-degree of every vertex (number of distinct referrers). */
  inDegrees(g: GraphRef): Uint32Array;

  /**
   * Kahn topological order, referrers before references; among ready vertices
   * the smallest index first. Shorter than n when the graph has a cycle.
   */
  topoOrder(g: GraphRef): Uint32Array;

  /**
   * The subgraph on `vertices` (local vertex i = parent vertex vertices[i]),
   * keeping the edges between them, except edges into a vertex flagged in
   * `blocked` (indexed by parent vertex). Vertex order = the given order.
   */
  induced(g: GraphRef, vertices: Uint32Array, blocked?: Uint8Array): GraphRef;

  /** Disjoint union: vertices of each part in turn, no edges between parts. */
  disjointUnion(parts: readonly GraphRef[]): GraphRef;

  /**
   * nixpkgs' popularity (reference doc 5.3): for each vertex, the sum over it
   * and its ancestors w of N(w), the number of distinct paths from a root
   * (vertex without referrers) to w. Exact at any magnitude.
   */
  popularity(g: GraphRef): bigint[];

  /**
   * Immediate dominators under a virtual root whose children are `roots`:
   * idom[v] = dominating vertex, -1 when the virtual root is the immediate
   * dominator, -2 when v is unreachable from the roots.
   */
  dominators(g: GraphRef, roots: ArrayLike<number>): Int32Array;
}
