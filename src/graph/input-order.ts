// Closure entries (or the streaming reader's columns) -> a reference graph in
// input order, validated like strata's Closure (duplicate paths, dangling
// references, cycles are InputErrors, same messages, same precedence) but
// without its narSize re-sort, topological order and path Map, which neither
// auto-layer nor Nixery needs: on 100k paths this is several times cheaper.
// Both strategies build their graph here (graphOf).
import { InputError } from "../errors.js";
import { Closure, columnsOf, duplicatePathError, entryOfColumns, type ClosureColumns } from "./closure.js";
import type { ClosureDocument, ClosureEntry } from "./document.js";
import type { AutoLayerGraph } from "../strategies/auto-layer/algorithm.js";
import { isAcyclic } from "./csr.js";

/**
 * A closure graph with vertex i = input entry i. Self references are dropped,
 * repeated references kept (neither strategy minds them).
 */
export interface InputGraph extends AutoLayerGraph {
  /** closureSize as the producer wrote it (NaN when absent). */
  readonly givenClosureSize: Float64Array;
  /** Vertex of a store path, or undefined (a Map built on first use). */
  indexOf(path: string): number | undefined;
  /** Vertices nothing references, ascending (found while the graph is checked for cycles). */
  readonly unreferenced: readonly number[];
}

/** Vertices whose in-degree is 0, ascending. */
function zeroInDegree(indegree: Uint32Array): number[] {
  const out: number[] = [];
  for (let v = 0; v < indegree.length; v++) if (indegree[v] === 0) out.push(v);
  return out;
}

/** The input-order graph of a document: from its columns when the streaming reader made it, else from its entries. */
export function graphOf(doc: ClosureDocument): InputGraph {
  const columns = columnsOf(doc);
  return columns !== undefined ? graphFromColumns(columns) : graphFromEntries(doc.entries);
}

export function graphFromEntries(entries: readonly ClosureEntry[]): InputGraph {
  const n = entries.length;
  const index = new Map<string, number>();
  const paths: string[] = new Array(n);
  const narSize = new Float64Array(n);
  const givenClosureSize = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    const first = index.get(e.path);
    if (first !== undefined) {
      // auto-layer.py fails its size assertion here (unless the narSize is 0).
      throw duplicatePathError(e.path, first, i);
    }
    index.set(e.path, i);
    paths[i] = e.path;
    narSize[i] = e.narSize;
    givenClosureSize[i] = e.closureSize ?? Number.NaN;
    m += e.references.length;
  }
  const offsets = new Uint32Array(n + 1);
  const targets = new Uint32Array(m);
  const indegree = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    for (const ref of e.references) {
      const w = index.get(ref);
      if (w === undefined) {
        throw new InputError("dangling-reference", `"${e.path}" references "${ref}", which is not in the closure`, e.path);
      }
      if (w === i) continue; // self references are irrelevant
      targets[k++] = w;
      indegree[w]++;
    }
    offsets[i + 1] = k;
  }
  const g: InputGraph = {
    n,
    offsets,
    targets: targets.subarray(0, k),
    paths,
    narSize,
    givenClosureSize,
    indexOf: (p) => index.get(p),
    unreferenced: zeroInDegree(indegree),
  };
  if (!isAcyclic(g, indegree)) {
    Closure.fromEntries(entries); // throws an InputError naming one cycle
    throw new InputError("cycle", "the closure has a dependency cycle (Nix closures are acyclic)");
  }
  return g;
}

/**
 * The same graph (and the same errors) as graphFromEntries over the entries
 * the columns hold, without materialising them: references resolve through
 * string ids, no Map is built unless indexOf is called.
 */
export function graphFromColumns(c: ClosureColumns): InputGraph {
  const { count: n, pathId, refOffsets, refIds, strings } = c;
  const entryOf = entryOfColumns(c);
  const paths: string[] = new Array(n);
  for (let i = 0; i < n; i++) paths[i] = strings[pathId[i]];
  const offsets = new Uint32Array(n + 1);
  const targets = new Uint32Array(refOffsets[n] - refOffsets[0]);
  const indegree = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let e = refOffsets[i], end = refOffsets[i + 1]; e < end; e++) {
      const w = entryOf[refIds[e]];
      if (w < 0) {
        throw new InputError("dangling-reference", `"${paths[i]}" references "${strings[refIds[e]]}", which is not in the closure`, paths[i]);
      }
      if (w === i) continue;
      targets[k++] = w;
      indegree[w]++;
    }
    offsets[i + 1] = k;
  }
  let index: Map<string, number> | undefined;
  const g: InputGraph = {
    n,
    offsets,
    targets: targets.subarray(0, k),
    paths,
    narSize: c.narSize.length === n ? c.narSize : c.narSize.subarray(0, n),
    givenClosureSize: c.closureSize.length === n ? c.closureSize : c.closureSize.subarray(0, n),
    indexOf: (p) => {
      if (index === undefined) {
        index = new Map();
        for (let i = 0; i < n; i++) index.set(paths[i], i);
      }
      return index.get(p);
    },
    unreferenced: zeroInDegree(indegree),
  };
  if (!isAcyclic(g, indegree)) {
    Closure.fromColumns(c); // throws an InputError naming one cycle
    throw new InputError("cycle", "the closure has a dependency cycle (Nix closures are acyclic)");
  }
  return g;
}
