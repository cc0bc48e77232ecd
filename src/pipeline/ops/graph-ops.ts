// The graph operations of nixpkgs' pipeline language (reference doc section 5),
// over the kernel interface. Every sub-graph lists its vertices in the
// parent's order (igraph's induced_subgraph keeps index order).
import type { Closure } from "../../graph/closure.js";
import type { GraphRef, Kernels } from "../../kernels/types.js";
import type { SplitSpec } from "../model.js";
import { codeUnitOrderIsCodePointOrder, popularityTieKey, sortByPopularity, tieKeyNameKeysInto } from "../package-name.js";
import { graphValue, type DictValue, type GraphValue, type ListValue, type SinglesValue } from "../values.js";

export class GraphOps {
  /** Local index of each closure vertex in the graph being worked on, else -1. */
  private readonly pos: Int32Array;
  private names?: (string | undefined)[];
  private plainOrder?: boolean;
  private keys?: Float64Array;

  constructor(
    readonly closure: Closure,
    readonly kernels: Kernels,
  ) {
    this.pos = new Int32Array(closure.n).fill(-1);
  }

  /** The graph's edges as a resident GraphRef (an edgeless graph is loaded on demand). */
  materialize(g: GraphValue): GraphRef {
    if (g.ref !== null) return g.ref;
    const n = g.verts.length;
    return this.kernels.load({ n, offsets: new Uint32Array(n + 1), targets: new Uint32Array(0) });
  }

  /** The sub-graph on local vertices `local` (ascending = parent order), edges into `blocked` deleted. */
  sub(g: GraphValue, local: Uint32Array, blocked?: Uint8Array): GraphValue {
    if (local.length === g.verts.length && blocked === undefined) return g;
    const verts = new Uint32Array(local.length);
    for (let i = 0; i < local.length; i++) verts[i] = g.verts[local[i]];
    return graphValue(verts, g.ref === null || local.length === 0 ? null : this.kernels.induced(g.ref, local, blocked));
  }

  /** Local vertices of the paths present in g (unknown paths ignored, as nixpkgs). */
  private locate<T>(g: GraphValue, fn: (local: (path: string) => number) => T): T {
    const pos = this.pos;
    for (let i = 0; i < g.verts.length; i++) pos[g.verts[i]] = i;
    try {
      return fn((path) => {
        const v = this.closure.indexOf(path);
        return v === undefined ? -1 : pos[v];
      });
    } finally {
      for (let i = 0; i < g.verts.length; i++) pos[g.verts[i]] = -1;
    }
  }

  private resolve(g: GraphValue, paths: Iterable<string>): number[] {
    return this.locate(g, (local) => {
      const out: number[] = [];
      for (const p of paths) {
        const i = local(p);
        if (i >= 0) out.push(i);
      }
      return out;
    });
  }

  /** split_paths (reference doc 5.1). */
  splitPaths(g: GraphValue, specs: readonly SplitSpec[] | string): DictValue {
    const n = g.verts.length;
    const inS = new Uint8Array(n);
    const S: number[] = [];
    const add = (i: number) => {
      if (i >= 0 && !inS[i]) {
        inS[i] = 1;
        S.push(i);
      }
    };
    const needsChildren = typeof specs !== "string" && specs.some((s) => typeof s !== "string");
    const csr = needsChildren && g.ref !== null ? this.kernels.read(g.ref) : undefined;
    this.locate(g, (local) => {
      // A bare string is iterated per character in nixpkgs.
      const list: readonly SplitSpec[] = typeof specs === "string" ? [...specs] : specs;
      for (const spec of list) {
        if (typeof spec === "string") {
          add(local(spec));
          continue;
        }
        const parents = typeof spec.childrenOf === "string" ? [spec.childrenOf] : spec.childrenOf;
        for (const p of parents) {
          const i = local(p);
          if (i < 0 || csr === undefined) continue;
          for (let e = csr.offsets[i]; e < csr.offsets[i + 1]; e++) add(csr.targets[e]);
        }
      }
    });
    if (S.length === 0) return dict([["rest", g]]);
    const indeg = g.ref === null ? new Uint32Array(n) : this.kernels.inDegrees(g.ref);
    const roots: number[] = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) roots.push(i);
    // One root: it is the root; else a virtual root above all of them. The sole root requested: unchanged.
    if (roots.length === 1 && inS[roots[0]]) return dict([["main", g]]);
    const down = g.ref === null ? markOf(n, S) : this.kernels.reach(g.ref, S, "out");
    const seeds = roots.filter((r) => !inS[r]);
    const reach = g.ref === null ? markOf(n, seeds) : this.kernels.reach(g.ref, seeds, "out", inS);
    const main: number[] = [];
    const common: number[] = [];
    const rest: number[] = [];
    for (let i = 0; i < n; i++) {
      if (down[i]) (reach[i] ? common : main).push(i);
      else if (reach[i]) rest.push(i);
    }
    const parts: [string, GraphValue][] = [];
    // Parts are cut from the copy whose edges into split paths are deleted.
    if (main.length) parts.push(["main", this.sub(g, Uint32Array.from(main), inS)]);
    if (common.length) parts.push(["common", this.sub(g, Uint32Array.from(common), inS)]);
    if (rest.length) parts.push(["rest", this.sub(g, Uint32Array.from(rest), inS)]);
    return dict(parts);
  }

  /** subcomponent_in / subcomponent_out (reference doc 5.2): always both keys. */
  subcomponent(g: GraphValue, paths: readonly string[], direction: "in" | "out"): DictValue {
    const n = g.verts.length;
    const seeds = this.resolve(g, paths);
    const mark = g.ref === null ? markOf(n, seeds) : this.kernels.reach(g.ref, seeds, direction);
    const main: number[] = [];
    const rest: number[] = [];
    for (let i = 0; i < n; i++) (mark[i] ? main : rest).push(i);
    return dict([
      ["main", this.sub(g, Uint32Array.from(main))],
      ["rest", this.sub(g, Uint32Array.from(rest))],
    ]);
  }

  /** popularity_contest (reference doc 5.3): one-path graphs, most popular first, ties by package name. */
  popularityContest(g: GraphValue): SinglesValue {
    const n = g.verts.length;
    const order = this.popularityOrder(g.verts, g.ref);
    const verts = new Uint32Array(n);
    for (let i = 0; i < n; i++) verts[i] = g.verts[order[i]];
    return { t: "singles", verts };
  }

  /** Local vertices of `ref` ordered by popularity descending, then package name (code points). */
  popularityOrder(verts: Uint32Array, ref: GraphRef | null): Uint32Array {
    const plain = (this.plainOrder ??= codeUnitOrderIsCodePointOrder(this.closure.paths));
    const nameOf = (i: number) => this.packageName(verts[i]);
    const all = this.nameKeys();
    const keys = new Float64Array(2 * verts.length);
    for (let i = 0; i < verts.length; i++) {
      keys[2 * i] = all[2 * verts[i]];
      keys[2 * i + 1] = all[2 * verts[i] + 1];
    }
    // No edges: every path is a root with popularity 1.
    if (ref === null || ref.m === 0) return sortByPopularity(verts.length, null, nameOf, plain, keys);
    const pop = this.forestPopularity(ref) ?? this.kernels.popularity(ref);
    return sortByPopularity(verts.length, pop, nameOf, plain, keys);
  }

  /**
   * When no path has two referrers (chains, trees), every path is reached from
   * its root by exactly one path, so popularity = depth + 1. The general
   * kernel walks every ancestor set, which is quadratic on a long chain.
   */
  private forestPopularity(ref: GraphRef): Float64Array | undefined {
    const indeg = this.kernels.inDegrees(ref);
    for (let i = 0; i < indeg.length; i++) if (indeg[i] > 1) return undefined;
    const { n, offsets, targets } = this.kernels.read(ref);
    const depth = new Float64Array(n);
    const queue = new Uint32Array(n);
    let tail = 0;
    for (let v = 0; v < n; v++) if (indeg[v] === 0) queue[tail++] = v;
    for (let head = 0; head < tail; head++) {
      const v = queue[head];
      for (let e = offsets[v]; e < offsets[v + 1]; e++) {
        depth[targets[e]] = depth[v] + 1;
        queue[tail++] = targets[e];
      }
    }
    for (let v = 0; v < n; v++) depth[v] += 1;
    return depth;
  }

  /**
   * popularityTieKey of a closure vertex, made on first use: the sort only
   * needs it when two paths' name keys are equal.
   */
  private packageName(v: number): string {
    const names = (this.names ??= new Array<string | undefined>(this.closure.n));
    return (names[v] ??= popularityTieKey(this.closure.paths[v]));
  }

  /** nameKeys of every closure vertex's package name, interleaved, computed once per run. */
  private nameKeys(): Float64Array {
    if (this.keys === undefined) {
      const paths = this.closure.paths;
      const keys = new Float64Array(2 * paths.length);
      for (let v = 0; v < paths.length; v++) tieKeyNameKeysInto(paths[v], keys, 2 * v);
      this.keys = keys;
    }
    return this.keys;
  }

  /** split_every (reference doc 5.5): consecutive chunks in vertex order; size < 0 gives nothing. */
  splitEvery(g: GraphValue, size: number): ListValue {
    const n = g.verts.length;
    const items: GraphValue[] = [];
    if (size < 0) return { t: "list", items };
    for (let start = 0; start < n; start += size) {
      const end = Math.min(n, start + size);
      const local = new Uint32Array(end - start);
      for (let i = 0; i < local.length; i++) local[i] = start + i;
      items.push(this.sub(g, local));
    }
    return { t: "list", items };
  }

  /** remove_paths (reference doc 5.6). */
  removePaths(g: GraphValue, paths: string | readonly string[]): GraphValue {
    const gone = this.resolve(g, typeof paths === "string" ? [paths] : paths);
    if (gone.length === 0) return g;
    const drop = new Uint8Array(g.verts.length);
    for (const i of gone) drop[i] = 1;
    const keep: number[] = [];
    for (let i = 0; i < g.verts.length; i++) if (!drop[i]) keep.push(i);
    return this.sub(g, Uint32Array.from(keep));
  }

  /** The disjoint union of graphs in order (limit_layers' merge). */
  merge(parts: readonly GraphValue[]): GraphValue {
    let n = 0;
    for (const p of parts) n += p.verts.length;
    const verts = new Uint32Array(n);
    let at = 0;
    let edges = false;
    for (const p of parts) {
      verts.set(p.verts, at);
      at += p.verts.length;
      if (p.ref !== null) edges = true;
    }
    if (!edges) return graphValue(verts, null);
    return graphValue(verts, this.kernels.disjointUnion(parts.map((p) => this.materialize(p))));
  }
}

function dict(entries: [string, GraphValue][]): DictValue {
  return { t: "dict", entries };
}

function markOf(n: number, seeds: readonly number[]): Uint8Array {
  const mark = new Uint8Array(n);
  for (const s of seeds) mark[s] = 1;
  return mark;
}
