// Columns of the streaming closure reader: the entries read so far as typed
// arrays of string ids (see ClosureColumns in src/graph/closure.ts), grown by
// doubling; and, at the end, the ClosureColumns a Closure is built from.
import type { ClosureColumns } from "../../graph/closure.js";
import type { ClosureEntry } from "../../graph/document.js";

/** Growable typed columns of the entries read so far. */
export class Columns {
  count = 0;
  pathId = new Uint32Array(1024);
  narSize = new Float64Array(1024);
  closureSize = new Float64Array(1024);
  refOffsets = new Uint32Array(1025);
  refIds = new Uint32Array(8192);
  refCount = 0;

  pushRef(id: number): void {
    if (this.refCount === this.refIds.length) {
      const r = new Uint32Array(this.refIds.length * 2);
      r.set(this.refIds);
      this.refIds = r;
    }
    this.refIds[this.refCount++] = id;
  }

  /**
   * Appends k entries at once (the Wasm fast path's columns): entry i has
   * references refs[refEnd[i - 1] .. refEnd[i]) (refEnd[-1] = 0).
   */
  append(k: number, pathId: Uint32Array, narSize: Float64Array, closureSize: Float64Array, refEnd: Uint32Array, refs: Uint32Array): void {
    const r = refEnd[k - 1];
    if (this.refCount + r > this.refIds.length) {
      const grown = new Uint32Array(Math.max(this.refIds.length * 2, this.refCount + r));
      grown.set(this.refIds.subarray(0, this.refCount));
      this.refIds = grown;
    }
    this.refIds.set(refs.subarray(0, r), this.refCount);
    const base = this.refCount;
    this.refCount += r;
    const i0 = this.count;
    if (i0 + k + 1 > this.pathId.length) this.grow(i0 + k + 1);
    this.pathId.set(pathId.subarray(0, k), i0);
    this.narSize.set(narSize.subarray(0, k), i0);
    this.closureSize.set(closureSize.subarray(0, k), i0);
    const o = this.refOffsets;
    for (let i = 0; i < k; i++) o[i0 + i + 1] = base + refEnd[i];
    this.count = i0 + k;
  }

  private grow(need: number): void {
    let cap = this.pathId.length * 2;
    while (cap < need) cap *= 2;
    const p = new Uint32Array(cap);
    p.set(this.pathId);
    this.pathId = p;
    const s = new Float64Array(cap);
    s.set(this.narSize);
    this.narSize = s;
    const c = new Float64Array(cap);
    c.set(this.closureSize);
    this.closureSize = c;
    const o = new Uint32Array(cap + 1);
    o.set(this.refOffsets);
    this.refOffsets = o;
  }

  /** Appends an entry whose references are refIds[refOffsets[count] .. refCount). */
  pushEntry(pathId: number, narSize: number, closureSize: number): void {
    const i = this.count;
    if (i + 1 >= this.pathId.length) this.grow(i + 2);
    this.pathId[i] = pathId;
    this.narSize[i] = narSize;
    this.closureSize[i] = closureSize;
    this.count = i + 1;
    this.refOffsets[i + 1] = this.refCount;
  }
}

/** The final, trimmed columns (the id map is built on first use). */
export function finishColumns(strings: string[], c: Columns): ClosureColumns {
  let ids: Map<string, number> | undefined;
  return {
    strings,
    // Built on first use: the default pipeline never looks a path up by name here.
    get ids(): ReadonlyMap<string, number> {
      if (ids === undefined) {
        ids = new Map();
        for (let i = 0; i < strings.length; i++) ids.set(strings[i], i);
      }
      return ids;
    },
    count: c.count,
    pathId: c.pathId.slice(0, c.count),
    narSize: c.narSize.slice(0, c.count),
    closureSize: c.closureSize.slice(0, c.count),
    refOffsets: c.refOffsets.slice(0, c.count + 1),
    refIds: c.refIds.slice(0, c.refCount),
  };
}

/** ClosureEntry objects of the columns (for strategies that read doc.entries). */
export function entriesOf(c: ClosureColumns): ClosureEntry[] {
  const out: ClosureEntry[] = new Array(c.count);
  const { strings, refIds, refOffsets } = c;
  for (let i = 0; i < c.count; i++) {
    const refs: string[] = new Array(refOffsets[i + 1] - refOffsets[i]);
    for (let e = refOffsets[i], k = 0; e < refOffsets[i + 1]; e++, k++) refs[k] = strings[refIds[e]];
    const cs = c.closureSize[i];
    out[i] = Number.isNaN(cs)
      ? { path: strings[c.pathId[i]], narSize: c.narSize[i], references: refs }
      : { path: strings[c.pathId[i]], narSize: c.narSize[i], references: refs, closureSize: cs };
  }
  return out;
}
