// Closure entries -> AutoLayerGraph in input order, validated like strata's
// Closure (duplicate paths, dangling references, cycles are InputErrors) but
// without its narSize re-sort and topological order, which auto-layer does
// not need: on 100k paths this is several times cheaper.
import { InputError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import type { ClosureEntry } from "../../graph/document.js";
import type { AutoLayerGraph } from "./algorithm.js";

export function graphFromEntries(entries: readonly ClosureEntry[]): AutoLayerGraph {
  const n = entries.length;
  const index = new Map<string, number>();
  const paths: string[] = new Array(n);
  const narSize = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    const first = index.get(e.path);
    if (first !== undefined) {
      // auto-layer.py fails its size assertion here (unless the narSize is 0).
      throw new InputError("duplicate-path", `"${e.path}" appears twice in the closure (entries ${first} and ${i})`, e.path);
    }
    index.set(e.path, i);
    paths[i] = e.path;
    narSize[i] = e.narSize;
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
  const g: AutoLayerGraph = { n, offsets, targets: targets.subarray(0, k), paths, narSize };
  if (!isAcyclic(g, indegree)) {
    Closure.fromEntries(entries); // throws an InputError naming one cycle
    throw new InputError("cycle", "the closure has a dependency cycle (Nix closures are acyclic)");
  }
  return g;
}

/** Kahn's algorithm; consumes `indegree`. */
function isAcyclic(g: AutoLayerGraph, indegree: Uint32Array): boolean {
  const queue = new Uint32Array(g.n);
  let tail = 0;
  for (let v = 0; v < g.n; v++) if (indegree[v] === 0) queue[tail++] = v;
  for (let head = 0; head < tail; head++) {
    const u = queue[head];
    for (let e = g.offsets[u]; e < g.offsets[u + 1]; e++) if (--indegree[g.targets[e]] === 0) queue[tail++] = g.targets[e];
  }
  return tail === g.n;
}
