// Test helper: interoperability with graphology (https://graphology.github.io): a closure
// as a directed graph keyed by store path (edge u -> v: u references v), and
// back. Meant for small graphs and for the graphology ecosystem (layouts,
// metrics, Sigma.js views): graphology needs about 1 GB of heap for a 300k-path
// closure (shared/reference/engineering.md 3.2), so it never sits in a hot path.
import { DirectedGraph } from "graphology";
import type { AbstractGraph } from "graphology-types";
import type { CsrGraph } from "../../src/graph/csr.js";
import { Closure, type ClosureOptions } from "../../src/graph/closure.js";

/** Node attributes written by `toGraphology` and read by `fromGraphology`. */
export interface PathAttributes {
  narSize: number;
  closureSize?: number;
}

/**
 * A closure (nodes keyed by store path, in vertex order, with narSize) or a
 * bare CSR graph (nodes keyed "0", "1", ...) as a graphology DirectedGraph.
 */
export function toGraphology(g: Closure | CsrGraph): DirectedGraph<PathAttributes> {
  const graph = new DirectedGraph<PathAttributes>();
  const isClosure = g instanceof Closure;
  const key = (v: number): string => (isClosure ? g.paths[v] : String(v));
  for (let v = 0; v < g.n; v++) {
    const attributes: PathAttributes = { narSize: isClosure ? g.narSize[v] : 0 };
    if (isClosure && !Number.isNaN(g.givenClosureSize[v])) attributes.closureSize = g.givenClosureSize[v];
    graph.addNode(key(v), attributes);
  }
  for (let v = 0; v < g.n; v++) {
    const from = key(v);
    for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++) graph.mergeEdge(from, key(g.targets[e]));
  }
  return graph;
}

/**
 * A closure from a graphology graph: one store path per node (its key), the
 * out-neighbours as references, narSize from the `narSize` attribute (0 when
 * absent). Undirected edges have no reference direction, so they are refused.
 */
export function fromGraphology(graph: AbstractGraph, options: ClosureOptions = {}): Closure {
  if (graph.undirectedSize > 0) {
    throw new TypeError("fromGraphology: the graph has undirected edges; references need a direction");
  }
  const entries = graph.mapNodes((path, attributes) => {
    const narSize = attributes.narSize ?? 0;
    const closureSize = attributes.closureSize;
    return {
      path,
      narSize: typeof narSize === "number" ? narSize : Number(narSize),
      references: graph.outNeighbors(path),
      ...(typeof closureSize === "number" ? { closureSize } : {}),
    };
  });
  return Closure.fromEntries(entries, options);
}
