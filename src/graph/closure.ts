// The closure graph: interned store paths in nixpkgs' vertex order plus a
// forward CSR of references.
//
// Vertex order is a stable sort of the input by narSize ascending (equal
// sizes keep input order). nixpkgs lists the paths of every layer in this
// order, so it decides layer digests (reference doc, section 3).
// Self references are dropped, duplicate references collapsed; targets in each
// row are ascending. A closure is always acyclic: Nix cannot produce cycles
// and every algorithm here relies on that, so cycles are rejected with one
// cycle named in the message.
import { InputError } from "../errors.js";
import type { CsrGraph } from "./csr.js";
import type { ClosureDocument, ClosureEntry } from "./document.js";
import { topoOrderTs } from "../kernels/ts/topo.js";

export interface ClosureOptions {
  /** Paths removed before the graph is built, with every reference to them (exclude_paths). */
  readonly exclude?: Iterable<string>;
}

export class Closure implements CsrGraph {
  readonly n: number;
  /** Store path of each vertex. */
  readonly paths: readonly string[];
  readonly narSize: Float64Array;
  /** closureSize as the producer wrote it (NaN when absent); only Nixery trusts it. */
  readonly givenClosureSize: Float64Array;
  /** Position of each vertex in the input list. */
  readonly inputIndex: Uint32Array;
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
  /** A topological order (referrers first, smallest index first among ready vertices). */
  readonly topo: Uint32Array;
  private readonly byPath: Map<string, number>;

  private constructor(entries: readonly ClosureEntry[], positions: Uint32Array, byPath: Map<string, number>) {
    const n = entries.length;
    this.n = n;
    this.paths = entries.map((e) => e.path);
    this.narSize = Float64Array.from(entries, (e) => e.narSize);
    this.givenClosureSize = Float64Array.from(entries, (e) => e.closureSize ?? Number.NaN);
    this.inputIndex = positions;
    this.byPath = byPath;
    const offsets = new Uint32Array(n + 1);
    const rows: Uint32Array[] = new Array(n);
    const scratch: number[] = [];
    for (let v = 0; v < n; v++) {
      scratch.length = 0;
      for (const ref of entries[v].references) {
        const w = byPath.get(ref);
        if (w === undefined || w === v) continue;
        scratch.push(w);
      }
      const row = Uint32Array.from(scratch).sort();
      let k = 0;
      for (let i = 0; i < row.length; i++) if (i === 0 || row[i] !== row[i - 1]) row[k++] = row[i];
      rows[v] = row.subarray(0, k);
      offsets[v + 1] = offsets[v] + k;
    }
    const targets = new Uint32Array(offsets[n]);
    for (let v = 0; v < n; v++) targets.set(rows[v], offsets[v]);
    this.offsets = offsets;
    this.targets = targets;
    this.topo = topoOrderTs(this);
    if (this.topo.length !== n) throw cycleError(this, this.topo);
  }

  static fromDocument(doc: ClosureDocument, options: ClosureOptions = {}): Closure {
    return Closure.fromEntries(doc.entries, options);
  }

  static fromEntries(entries: readonly ClosureEntry[], options: ClosureOptions = {}): Closure {
    const excluded = new Set(options.exclude ?? []);
    const seen = new Map<string, number>();
    for (let i = 0; i < entries.length; i++) {
      const p = entries[i].path;
      const first = seen.get(p);
      if (first !== undefined) {
        throw new InputError("duplicate-path", `"${p}" appears twice in the closure (entries ${first} and ${i})`, p);
      }
      seen.set(p, i);
    }
    const kept: number[] = [];
    for (let i = 0; i < entries.length; i++) if (!excluded.has(entries[i].path)) kept.push(i);
    // Every reference must be a member of the closure (after exclusion, as nixpkgs does).
    for (const i of kept) {
      for (const ref of entries[i].references) {
        if (!seen.has(ref) || (excluded.has(ref) && ref !== entries[i].path)) {
          if (excluded.has(ref)) continue; // references to excluded paths are dropped
          throw new InputError(
            "dangling-reference",
            `"${entries[i].path}" references "${ref}", which is not in the closure`,
            entries[i].path,
          );
        }
      }
    }
    // Stable sort by narSize ascending (Array.prototype.sort is stable).
    kept.sort((a, b) => entries[a].narSize - entries[b].narSize);
    const sorted = kept.map((i) => entries[i]);
    const byPath = new Map<string, number>();
    sorted.forEach((e, v) => byPath.set(e.path, v));
    return new Closure(sorted, Uint32Array.from(kept), byPath);
  }

  /** Vertex of a store path, or undefined. */
  indexOf(path: string): number | undefined {
    return this.byPath.get(path);
  }

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  /** Paths nothing else references (the closure's roots), ascending vertex order. */
  roots(): number[] {
    const referenced = new Uint8Array(this.n);
    for (let e = 0; e < this.targets.length; e++) referenced[this.targets[e]] = 1;
    const out: number[] = [];
    for (let v = 0; v < this.n; v++) if (!referenced[v]) out.push(v);
    return out;
  }

  references(v: number): Uint32Array {
    return this.targets.subarray(this.offsets[v], this.offsets[v + 1]);
  }
}

/**
 * Names one cycle among the vertices Kahn's algorithm could not order. Each of
 * them kept a referrer that is also unordered, so walking backwards through
 * such referrers must revisit a vertex: that loop is a cycle.
 */
function cycleError(g: Closure, ordered: Uint32Array): InputError {
  const done = new Uint8Array(g.n);
  for (const v of ordered) done[v] = 1;
  const referrer = new Int32Array(g.n).fill(-1);
  for (let u = 0; u < g.n; u++) {
    if (done[u]) continue;
    for (const w of g.references(u)) if (!done[w] && referrer[w] < 0) referrer[w] = u;
  }
  let v = 0;
  while (done[v]) v++;
  const position = new Map<number, number>();
  const walk: number[] = [];
  while (!position.has(v)) {
    position.set(v, walk.length);
    walk.push(v);
    v = referrer[v];
  }
  const cycle = walk.slice(position.get(v)).reverse().map((x) => g.paths[x]);
  cycle.push(cycle[0]);
  return new InputError(
    "cycle",
    `the closure has a dependency cycle (Nix closures are acyclic): ${cycle.map((p) => `"${p}"`).join(" -> ")}`,
    cycle[0],
  );
}
