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
import { isAcyclic, type CsrGraph } from "./csr.js";
import type { ClosureDocument, ClosureEntry } from "./document.js";
import { topoOrderTs } from "../kernels/ts/topo.js";

/**
 * A closure in columns, as the streaming reader (src/io/stream-json.ts) builds
 * it: every distinct path string once, entries as ids. Building a Closure from
 * it skips a ClosureEntry object and a references array per path.
 */
export interface ClosureColumns {
  /** Interned strings: every entry path and every referenced path. */
  readonly strings: readonly string[];
  /** String id of each string (the inverse of `strings`). */
  readonly ids: ReadonlyMap<string, number>;
  /** Number of entries, in input order. */
  readonly count: number;
  /** String id of each entry's path. */
  readonly pathId: Uint32Array;
  readonly narSize: Float64Array;
  /** NaN where the entry has no usable closureSize. */
  readonly closureSize: Float64Array;
  /** Entry i's references are refIds[refOffsets[i] .. refOffsets[i + 1]), as written. */
  readonly refOffsets: Uint32Array;
  readonly refIds: Uint32Array;
}

/** The error for a path listed twice (entries `first` and `second`, 0-based). */
export function duplicatePathError(path: string, first: number, second: number): InputError {
  return new InputError("duplicate-path", `"${path}" appears twice in the closure (entries ${first} and ${second})`, path);
}

/**
 * For each string id of the columns, the entry whose path it is (-1 for
 * strings that are only referenced). Throws on a path listed twice.
 */
export function entryOfColumns(c: ClosureColumns): Int32Array {
  const entryOf = new Int32Array(c.strings.length).fill(-1);
  for (let i = 0; i < c.count; i++) {
    const s = c.pathId[i];
    const first = entryOf[s];
    if (first >= 0) {
      throw duplicatePathError(c.strings[s], first, i);
    }
    entryOf[s] = i;
  }
  return entryOf;
}

/** A ClosureDocument carrying this key has its entries in columns too (see Closure.fromDocument). */
export const closureColumnsKey: unique symbol = Symbol.for("strata.closureColumns");

/** The columns a document carries, if the streaming reader made it. */
export function columnsOf(doc: ClosureDocument): ClosureColumns | undefined {
  return (doc as { [closureColumnsKey]?: ClosureColumns })[closureColumnsKey];
}

interface ClosureParts {
  readonly paths: string[];
  readonly narSize: Float64Array;
  readonly givenClosureSize: Float64Array;
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
}

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
  /** Vertex of a path: a Map (from entries), or a lookup through the reader's string ids (from columns). */
  private byPath: Map<string, number> | ((path: string) => number | undefined);
  private topoOrder: Uint32Array | undefined;

  private constructor(
    entries: readonly ClosureEntry[],
    positions: Uint32Array,
    byPath: Map<string, number> | ((path: string) => number | undefined),
    parts?: ClosureParts,
  ) {
    if (parts !== undefined) {
      // Columns already resolved (fromColumns); same field order, same checks.
      this.n = parts.paths.length;
      this.paths = parts.paths;
      this.narSize = parts.narSize;
      this.givenClosureSize = parts.givenClosureSize;
      this.inputIndex = positions;
      this.byPath = byPath;
      this.offsets = parts.offsets;
      this.targets = parts.targets;
      // Only acyclicity is checked here (Kahn's algorithm with a plain queue);
      // the heap-ordered topological order is made when first asked for.
      if (!isAcyclic(this)) throw cycleError(this, topoOrderTs(this));
      return;
    }
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
        const w = this.indexOf(ref);
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
    if (!isAcyclic(this)) throw cycleError(this, topoOrderTs(this));
  }

  /** A topological order (referrers first, smallest index first among ready vertices); made on first use. */
  get topo(): Uint32Array {
    return (this.topoOrder ??= topoOrderTs(this));
  }

  static fromDocument(doc: ClosureDocument, options: ClosureOptions = {}): Closure {
    const columns = columnsOf(doc);
    if (columns !== undefined) return Closure.fromColumns(columns, options);
    return Closure.fromEntries(doc.entries, options);
  }

  /**
   * The same closure (and the same errors) as fromEntries over the entries the
   * columns hold, without materialising them: references are resolved through
   * string ids instead of a Map lookup per reference.
   */
  static fromColumns(c: ClosureColumns, options: ClosureOptions = {}): Closure {
    const { count, pathId, refOffsets, refIds, strings } = c;
    const m = strings.length;
    const entryOf = entryOfColumns(c);
    const excluded = new Uint8Array(m);
    for (const p of options.exclude ?? []) {
      const s = c.ids.get(p);
      if (s !== undefined) excluded[s] = 1;
    }
    const keptList: number[] = [];
    for (let i = 0; i < count; i++) if (!excluded[pathId[i]]) keptList.push(i);
    for (const i of keptList) {
      for (let e = refOffsets[i]; e < refOffsets[i + 1]; e++) {
        const s = refIds[e];
        if (excluded[s]) continue; // references to excluded paths are dropped
        if (entryOf[s] < 0) {
          const p = strings[pathId[i]];
          throw new InputError("dangling-reference", `"${p}" references "${strings[s]}", which is not in the closure`, p);
        }
      }
    }
    const size = c.narSize;
    const kept = stableOrderBySize(keptList, size);
    const n = kept.length;
    const vertexOf = new Int32Array(m).fill(-1);
    const paths: string[] = new Array(n);
    const narSize = new Float64Array(n);
    const givenClosureSize = new Float64Array(n);
    for (let v = 0; v < n; v++) {
      const i = kept[v];
      const s = pathId[i];
      vertexOf[s] = v;
      paths[v] = strings[s];
      narSize[v] = size[i];
      givenClosureSize[v] = c.closureSize[i];
    }
    // Paths are looked up through the reader's string ids: no second Map of every path.
    const ids = c.ids;
    const byPath = (path: string): number | undefined => {
      const s = ids.get(path);
      if (s === undefined || vertexOf[s] < 0) return undefined;
      return vertexOf[s];
    };
    const offsets = new Uint32Array(n + 1);
    let targets = new Uint32Array(refIds.length);
    let k = 0;
    for (let v = 0; v < n; v++) {
      const i = kept[v];
      const start = k;
      for (let e = refOffsets[i]; e < refOffsets[i + 1]; e++) {
        const w = vertexOf[refIds[e]];
        if (w >= 0 && w !== v) targets[k++] = w;
      }
      // Rows are short: insertion sort, except for the odd huge row (a fake root).
      if (k - start > 32) targets.subarray(start, k).sort();
      else {
        for (let a = start + 1; a < k; a++) {
          const w = targets[a];
          let j = a;
          while (j > start && targets[j - 1] > w) {
            targets[j] = targets[j - 1];
            j--;
          }
          targets[j] = w;
        }
      }
      let end = start;
      for (let a = start; a < k; a++) if (a === start || targets[a] !== targets[a - 1]) targets[end++] = targets[a];
      k = end;
      offsets[v + 1] = k;
    }
    targets = targets.slice(0, k);
    return new Closure([], kept, byPath, { paths, narSize, givenClosureSize, offsets, targets });
  }

  static fromEntries(entries: readonly ClosureEntry[], options: ClosureOptions = {}): Closure {
    const excluded = new Set(options.exclude ?? []);
    const seen = new Map<string, number>();
    for (let i = 0; i < entries.length; i++) {
      const p = entries[i].path;
      const first = seen.get(p);
      if (first !== undefined) {
        throw duplicatePathError(p, first, i);
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
          throw new InputError("dangling-reference", `"${entries[i].path}" references "${ref}", which is not in the closure`, entries[i].path);
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
    return typeof this.byPath === "function" ? this.byPath(path) : this.byPath.get(path);
  }

  has(path: string): boolean {
    return this.indexOf(path) !== undefined;
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
 * The entries `list` (ascending) stably sorted by size: a native sort of
 * packed (size, position) numbers, or for sizes too large to pack a counting
 * sort over the ranks of the distinct sizes, which beats a comparator sort at
 * 1M paths.
 */
function stableOrderBySize(list: readonly number[], size: Float64Array): Uint32Array {
  const n = list.length;
  // Whole sizes small enough to pack (size, position in list) into one exact
  // double: one native sort of the packed numbers (no comparator, no
  // per-item search; what a one-shot CLI runs cold). Else ranks, below.
  const shift = 2 ** Math.max(1, Math.ceil(Math.log2(n + 1)));
  let packable = true;
  for (let k = 0; k < n && packable; k++) {
    const x = size[list[k]];
    if (!(x >= 0 && Number.isInteger(x) && x * shift + shift < 2 ** 53)) packable = false;
  }
  if (packable) {
    const keys = new Float64Array(n);
    for (let k = 0; k < n; k++) keys[k] = size[list[k]] * shift + k;
    keys.sort();
    const out = new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      const key = keys[k];
      out[k] = list[key - Math.floor(key / shift) * shift];
    }
    return out;
  }
  const sorted = new Float64Array(n);
  for (let k = 0; k < n; k++) sorted[k] = size[list[k]];
  sorted.sort();
  let distinct = 0;
  for (let k = 0; k < n; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) sorted[distinct++] = sorted[k];
  const ranks = sorted.subarray(0, distinct);
  const rank = new Uint32Array(n);
  const start = new Uint32Array(distinct + 1);
  for (let k = 0; k < n; k++) {
    const x = size[list[k]];
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ranks[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    rank[k] = lo;
    start[lo + 1]++;
  }
  for (let r = 0; r < distinct; r++) start[r + 1] += start[r];
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[start[rank[k]]++] = list[k];
  return out;
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
  const cycle = walk
    .slice(position.get(v))
    .reverse()
    .map((x) => g.paths[x]);
  cycle.push(cycle[0]);
  return new InputError("cycle", `the closure has a dependency cycle (Nix closures are acyclic): ${cycle.map((p) => `"${p}"`).join(" -> ")}`, cycle[0]);
}
