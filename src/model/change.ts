// The change model behind the min-pull strategy.
//
// Nix paths are input-addressed: a path changes when its own contents change
// or when anything it references, transitively, changes. Each path d gets an
// own-change weight w(d); own changes arrive as a Poisson process with
// `changesPerUpdate` expected events per update (default 4), each hitting path d with
// probability w(d) / W where W = sum of all weights. A set of paths S (a
// layer's closure: its members and everything they reference) changes with
//   P(S) = 1 - exp(-changesPerUpdate * w(S) / W)
// and the expected bytes a client pulls per update, for a plan, is
//   E = sum over layers L of size(L) * P(closure(L)).
// Default weights follow the size (each byte equally likely to change). A
// volatility map scales the weight of a package by name; a history of earlier
// closures of the image scales it by how often the package really changed.
import { PipelineError } from "../errors.js";
import type { CsrGraph } from "../graph/csr.js";
import type { ClosureDocument } from "../graph/document.js";
import { packageName, parseName, storeName } from "../graph/store-name.js";

export const DEFAULT_CHANGES_PER_UPDATE = 4;

export interface ChangeModelOptions {
  /**
   * Expected own-content changes per update (default 4: one source update
   * usually rebuilds several binary packages; docs/min-pull.md shows the
   * sensitivity on our series).
   */
  readonly changesPerUpdate?: number;
  /** Package name -> multiplier of its size-based weight (0 = never changes). */
  readonly volatility?: Readonly<Record<string, number>>;
  /** Earlier closures of the same image, oldest first (the current one excluded). */
  readonly history?: readonly ClosureDocument[];
}

export interface ChangeModel {
  /** Own-change weight per path, aligned with the given path list. */
  readonly weights: Float64Array;
  readonly totalWeight: number;
  readonly changesPerUpdate: number;
  /** P(a set whose own weights sum to `weight` changes in one update). */
  probability(weight: number): number;
  /** Multipliers learned from history, by package name (for explain / reports). */
  readonly learned: ReadonlyMap<string, number>;
}

export function buildChangeModel(paths: readonly string[], narSize: ArrayLike<number>, options: ChangeModelOptions = {}): ChangeModel {
  const rate = options.changesPerUpdate ?? DEFAULT_CHANGES_PER_UPDATE;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new PipelineError("min-pull", `min-pull: changesPerUpdate must be a positive number, got ${rate}`);
  const learned = options.history && options.history.length >= 2 ? learnFromHistory(options.history) : new Map<string, number>();
  const n = paths.length;
  const weights = new Float64Array(n);
  let anySize = false;
  for (let i = 0; i < n; i++) if (narSize[i] > 0) anySize = true;
  let total = 0;
  const byName = options.volatility !== undefined || learned.size > 0;
  for (let i = 0; i < n; i++) {
    // Zero-byte paths still change sometimes; give them one byte of weight.
    let w = anySize ? Math.max(narSize[i], 1) : 1;
    // Package names only matter with a volatility map or a history (a parse per path otherwise).
    const name = byName ? packageName(paths[i]) : "";
    const m = options.volatility?.[name];
    if (m !== undefined) {
      if (!(m >= 0) || !Number.isFinite(m)) throw new PipelineError("min-pull", `min-pull: volatility of "${name}" must be a non-negative number, got ${m}`);
      w *= m;
    } else {
      const h = learned.get(name);
      if (h !== undefined) w *= h;
    }
    weights[i] = w;
    total += w;
  }
  const scale = total > 0 ? rate / total : 0;
  return {
    weights,
    totalWeight: total,
    changesPerUpdate: rate,
    probability: (weight) => -Math.expm1(-weight * scale),
    learned,
  };
}

/**
 * Per-package change frequency across a history of closures. A package had
 * an own change in an update when its version string changed, or when its
 * path changed although none of the paths it references did (a rebuild).
 * The multiplier is (changes + 0.5) / (mean changes per package + 0.5), so a
 * package that changed as often as the average keeps its size-based weight.
 */
export function learnFromHistory(history: readonly ClosureDocument[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let k = 1; k < history.length; k++) {
    const before = new Map<string, { path: string; version: string }>();
    const oldPaths = new Set<string>();
    for (const e of history[k - 1].entries) {
      const { pname, version } = parseName(storeName(e.path));
      before.set(pname, { path: e.path, version });
      oldPaths.add(e.path);
    }
    for (const e of history[k].entries) {
      const { pname, version } = parseName(storeName(e.path));
      if (!counts.has(pname)) counts.set(pname, 0);
      const old = before.get(pname);
      if (old === undefined || old.path === e.path) continue;
      const rebuiltAlone = e.references.every((r) => r === e.path || oldPaths.has(r));
      if (old.version !== version || rebuiltAlone) counts.set(pname, counts.get(pname)! + 1);
    }
  }
  let sum = 0;
  for (const c of counts.values()) sum += c;
  const mean = counts.size > 0 ? sum / counts.size : 0;
  const out = new Map<string, number>();
  for (const [name, c] of counts) out.set(name, (c + 0.5) / (mean + 0.5));
  return out;
}

/**
 * Exact own-change weight of each layer's closure: propagate, referrers
 * first, the set of layers that reach each vertex (a bitset of layer ids),
 * then add each vertex's weight to every layer in its set.
 */
export function exactClosureWeights(g: CsrGraph, topo: Uint32Array, w: ArrayLike<number>, layerOf: Int32Array, layers: number): Float64Array {
  const words = (layers + 31) >>> 5;
  const reach = new Uint32Array(g.n * words);
  for (let v = 0; v < g.n; v++) reach[v * words + (layerOf[v] >>> 5)] |= 1 << (layerOf[v] & 31);
  for (let t = 0; t < g.n; t++) {
    const v = topo[t];
    const row = v * words;
    for (let e = g.offsets[v], end = g.offsets[v + 1]; e < end; e++) {
      const c = g.targets[e] * words;
      for (let k = 0; k < words; k++) reach[c + k] |= reach[row + k];
    }
  }
  const out = new Float64Array(layers);
  for (let v = 0; v < g.n; v++) {
    for (let k = 0; k < words; k++) {
      let x = reach[v * words + k];
      while (x !== 0) {
        const bit = 31 - Math.clz32(x & -x);
        out[k * 32 + bit] += w[v];
        x &= x - 1;
      }
    }
  }
  return out;
}
