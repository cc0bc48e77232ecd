// `--format debug` for every strategy: per layer its paths, its size, the size
// of its closure (the layer and everything it references) and who uses it,
// in the spirit of auto-layer.py's DEBUG output.
import { Closure } from "../graph/closure.js";
import type { ClosureDocument } from "../graph/document.js";
import { reachTs } from "../kernels/ts/reach.js";
import type { Layers } from "../strategies/types.js";
import { pyJsonDumps } from "./python-json.js";

export interface LayerDebug {
  /** 1-based, bottom first. */
  readonly layer: number;
  readonly paths: string[];
  readonly layerSize: number;
  /** narSize sum of the layer's paths and everything they reference. */
  readonly closureSize: number;
  /** Paths of other layers that reference a path of this one directly. */
  readonly usedBy: string[];
  /** The layers those paths are in (1-based). */
  readonly usedByLayers: number[];
  /** Layers this one references directly (1-based). */
  readonly uses: number[];
}

export function layerDebug(doc: ClosureDocument | Closure, layers: Layers): LayerDebug[] {
  const closure = doc instanceof Closure ? doc : Closure.fromDocument(doc);
  const layerOf = new Int32Array(closure.n).fill(-1);
  layers.forEach((l, i) => {
    for (const p of l) {
      const v = closure.indexOf(p);
      if (v !== undefined) layerOf[v] = i;
    }
  });
  const usedBy = layers.map(() => new Set<number>());
  const uses = layers.map(() => new Set<number>());
  for (let u = 0; u < closure.n; u++) {
    for (const w of closure.references(u)) {
      const lu = layerOf[u];
      const lw = layerOf[w];
      if (lw < 0 || lu === lw) continue;
      usedBy[lw].add(u);
      if (lu >= 0) uses[lu].add(lw);
    }
  }
  return layers.map((paths, i) => {
    const seeds = paths.map((p) => closure.indexOf(p)).filter((v): v is number => v !== undefined);
    const reached = reachTs(closure, seeds);
    let closureSize = 0;
    for (let v = 0; v < closure.n; v++) if (reached[v]) closureSize += closure.narSize[v];
    let layerSize = 0;
    for (const v of seeds) layerSize += closure.narSize[v];
    const users = [...usedBy[i]].map((v) => closure.paths[v]).sort();
    const userLayers = [...new Set([...usedBy[i]].map((v) => layerOf[v]).filter((l) => l >= 0))].sort((a, b) => a - b).map((l) => l + 1);
    return {
      layer: i + 1,
      paths: [...paths],
      layerSize,
      closureSize,
      usedBy: users,
      usedByLayers: userLayers,
      uses: [...uses[i]].sort((a, b) => a - b).map((l) => l + 1),
    };
  });
}

export function formatDebug(info: readonly LayerDebug[]): string {
  return pyJsonDumps(info, 2) + "\n";
}
