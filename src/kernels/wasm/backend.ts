// The WebAssembly backend. Each backend object owns one instance and its
// linear memory; graphs live there as CSR arrays and kernels get pointers.
// Views over memory.buffer are created per access because any allocation may
// grow the memory and detach older views.
//
// Memory is an arena (assembly/memory.ts): `scope` releases everything
// allocated inside it, so graphs (and cached reverse CSRs) created in a scope
// are invalidated when it ends; using one afterwards throws.
import type { CsrGraph } from "../../graph/csr.js";
import { StrataError } from "../../errors.js";
import type { GraphRef, Kernels } from "../types.js";
import { instantiateKernels, type KernelExports } from "../../wasm/load.js";

/** The closure does not fit in wasm32's 4 GiB; a user-facing limit, so exit code 2. */
export class WasmOutOfMemoryError extends StrataError {
  override readonly name = "WasmOutOfMemoryError";
  readonly exitCode = 2;
  constructor(message: string) {
    super("too-large", message);
  }
}

/** Largest single block the arena hands out (assembly/memory.ts stops at 0xFFFF0000). */
const MAX_BLOCK = 0xffff0000;

export class WasmGraph implements GraphRef {
  /** Pointers of the reverse CSR, built on first use (0 = not built). */
  rOff = 0;
  rTgt = 0;
  /** Set when the scope that allocated the graph has been released. */
  released = false;
  constructor(
    readonly owner: WasmKernels,
    readonly n: number,
    readonly m: number,
    readonly off: number,
    readonly tgt: number,
  ) {}
}

export class WasmKernels implements Kernels {
  readonly backend = "wasm" as const;
  readonly x: KernelExports;
  /** Graphs that own arena memory, to invalidate them when a scope ends. */
  private readonly graphs: WasmGraph[] = [];

  constructor(exports: KernelExports = instantiateKernels()) {
    this.x = exports;
  }

  // --- memory helpers -------------------------------------------------------

  /** Allocates `bytes` in the arena or throws when wasm32's 4 GiB are exhausted. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`wasm: bad allocation size ${bytes}`);
    // Checked here too: a size past 2^32 would wrap when converted to i32.
    const ptr = bytes > MAX_BLOCK ? 0 : this.x.alloc(bytes);
    if (ptr === 0 && bytes > 0) {
      throw new WasmOutOfMemoryError(`wasm: cannot allocate ${bytes} bytes (linear memory is limited to 4 GiB)`);
    }
    return ptr;
  }
  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.x.memory.buffer, ptr, length);
  }
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.x.memory.buffer, ptr, length);
  }
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, ptr, length);
  }
  /** Copies a JS array into a fresh arena block and returns its pointer. */
  putU32(values: ArrayLike<number>): number {
    const ptr = this.alloc(values.length * 4);
    this.u32(ptr, values.length).set(values);
    return ptr;
  }
  /** Copies `values` into a zeroed block of `length` bytes (shorter input = trailing zeros). */
  putU8(values: Uint8Array, length: number = values.length): number {
    const ptr = this.zeroed(length);
    this.u8(ptr, length).set(values.length > length ? values.subarray(0, length) : values);
    return ptr;
  }
  zeroed(bytes: number): number {
    const ptr = this.alloc(bytes);
    this.x.fill(ptr, 0, bytes);
    return ptr;
  }

  own(g: GraphRef): WasmGraph {
    if (!(g instanceof WasmGraph) || g.owner !== this) {
      throw new TypeError("kernels(wasm): graph was not loaded by this backend instance");
    }
    if (g.released) throw new Error("kernels(wasm): graph used after the scope that created it ended");
    return g;
  }

  reverseOf(g: WasmGraph): { off: number; tgt: number } {
    if (g.rOff === 0) {
      g.rOff = this.alloc((g.n + 1) * 4);
      g.rTgt = this.alloc(g.m * 4);
      this.x.transpose(g.n, g.off, g.tgt, g.rOff, g.rTgt);
      if (!this.graphs.includes(g)) this.graphs.push(g);
    }
    return { off: g.rOff, tgt: g.rTgt };
  }

  private track(g: WasmGraph): WasmGraph {
    this.graphs.push(g);
    return g;
  }

  /** Topological order into a scratch block; throws on a cycle. */
  private topo(g: WasmGraph, what: string): number {
    const order = this.alloc(g.n * 4);
    const count = this.scope(() => this.x.topoOrder(g.n, g.off, g.tgt, this.alloc(g.n * 4), this.alloc(g.n * 4), order));
    if (count !== g.n) throw new Error(`${what}: graph has a cycle`);
    return order;
  }

  // --- Kernels --------------------------------------------------------------

  load(g: CsrGraph): GraphRef {
    // Checked before anything is allocated: a graph wasm32 cannot hold with its
    // reverse (popularity, dominators and "in" reach build it) fails with its
    // size and the way out, instead of failing half-loaded.
    const m = g.targets.length;
    const need = 2 * (4 * (g.n + 1) + 4 * m) + 64;
    const left = MAX_BLOCK - this.x.mark();
    if (need > left) {
      throw new WasmOutOfMemoryError(
        `kernels(wasm): a closure of ${g.n} paths and ${m} references needs ${need} bytes of linear memory for its graph, more than the ${left} bytes left of wasm32's 4 GiB; use the TypeScript kernels (--backend ts)`,
      );
    }
    const off = this.putU32(g.offsets);
    const tgt = this.putU32(g.targets);
    return this.track(new WasmGraph(this, g.n, g.targets.length, off, tgt));
  }

  read(ref: GraphRef): CsrGraph {
    const g = this.own(ref);
    return { n: g.n, offsets: this.u32(g.off, g.n + 1).slice(), targets: this.u32(g.tgt, g.m).slice() };
  }

  scope<T>(fn: () => T): T {
    const m = this.x.mark();
    try {
      return fn();
    } finally {
      this.x.release(m);
      // Forget what lived above the mark: graphs die, reverse CSRs get rebuilt.
      let keep = 0;
      for (const g of this.graphs) {
        if (g.off >= m) {
          g.released = true;
          continue;
        }
        if (g.rOff >= m) g.rOff = g.rTgt = 0;
        this.graphs[keep++] = g;
      }
      this.graphs.length = keep;
    }
  }

  reach(ref: GraphRef, seeds: ArrayLike<number>, direction: "out" | "in", blocked?: Uint8Array): Uint8Array {
    const g = this.own(ref);
    // The reverse CSR belongs to the graph, so it is built outside the scratch scope.
    const csr = direction === "out" ? { off: g.off, tgt: g.tgt } : this.reverseOf(g);
    return this.scope(() => {
      const seedPtr = this.putU32(seeds);
      const blockedPtr = blocked === undefined ? 0 : this.putU8(blocked, g.n);
      const markPtr = this.zeroed(g.n);
      const queuePtr = this.alloc(g.n * 4);
      this.x.reach(g.n, csr.off, csr.tgt, seedPtr, seeds.length, blockedPtr, markPtr, queuePtr);
      return this.u8(markPtr, g.n).slice();
    });
  }

  inDegrees(ref: GraphRef): Uint32Array {
    const g = this.own(ref);
    return this.scope(() => {
      const deg = this.alloc(g.n * 4);
      this.x.inDegrees(g.n, g.off, g.tgt, deg);
      return this.u32(deg, g.n).slice();
    });
  }

  topoOrder(ref: GraphRef): Uint32Array {
    const g = this.own(ref);
    return this.scope(() => {
      const order = this.alloc(g.n * 4);
      const count = this.x.topoOrder(g.n, g.off, g.tgt, this.alloc(g.n * 4), this.alloc(g.n * 4), order);
      return this.u32(order, count).slice();
    });
  }

  induced(ref: GraphRef, vertices: Uint32Array, blocked?: Uint8Array): GraphRef {
    const g = this.own(ref);
    const k = vertices.length;
    for (let i = 0; i < k; i++) {
      if (vertices[i] >= g.n) throw new RangeError(`induced: vertex ${vertices[i]} is not in the graph (n = ${g.n})`);
    }
    // Scratch first, result above it; then the result slides down over the
    // scratch (memmove) so the arena keeps no garbage below the new graph.
    const base = this.x.mark();
    let m: number;
    let bytes: number;
    let tgtAt: number;
    try {
      const verts = this.putU32(vertices);
      const blockedPtr = blocked === undefined ? 0 : this.putU8(blocked, g.n);
      const local = this.alloc(g.n * 4);
      const outOff = this.alloc((k + 1) * 4);
      m = this.x.inducedCount(g.n, g.off, g.tgt, verts, k, blockedPtr, local, outOff);
      const outTgt = this.alloc(m * 4);
      this.x.inducedFill(g.off, g.tgt, verts, k, blockedPtr, local, outTgt);
      bytes = outTgt + m * 4 - outOff;
      tgtAt = outTgt - outOff;
      new Uint8Array(this.x.memory.buffer).copyWithin(base, outOff, outOff + bytes);
    } finally {
      this.x.release(base);
    }
    this.alloc(bytes); // re-reserves exactly the moved block (16-byte aligned like before)
    return this.track(new WasmGraph(this, k, m, base, base + tgtAt));
  }

  disjointUnion(parts: readonly GraphRef[]): GraphRef {
    const owned = parts.map((p) => this.own(p));
    let n = 0;
    let m = 0;
    for (const p of owned) {
      n += p.n;
      m += p.m;
    }
    if (n >= 2 ** 32 || m >= 2 ** 32) throw new RangeError("disjointUnion: more than 2^32 vertices or edges");
    const off = this.alloc((n + 1) * 4);
    const tgt = this.alloc(m * 4);
    this.u32(off, 1)[0] = 0;
    let vBase = 0;
    let eBase = 0;
    for (const p of owned) {
      this.x.unionAppend(off, tgt, vBase, eBase, p.n, p.off, p.tgt);
      vBase += p.n;
      eBase += p.m;
    }
    return this.track(new WasmGraph(this, n, m, off, tgt));
  }

  popularity(ref: GraphRef): bigint[] {
    const g = this.own(ref);
    const rev = this.reverseOf(g);
    return this.scope(() => {
      const n = g.n;
      const m = g.m;
      const order = this.topo(g, "popularity");
      // The kernel's time is memory latency (random reads of referrer lists,
      // N and inSet while walking ancestor sets), so it runs on a copy of the
      // reverse graph relabelled in topological order: ancestors walked
      // together then sit near each other in memory. Popularity values do
      // not depend on the labels; they are mapped back below. (Measured on a
      // gen-closure.mjs graph: docs/speed.md, "1M paths, round 2".)
      const rOff = this.alloc((n + 1) * 4);
      const rTgt = this.alloc(m * 4);
      const newId = this.alloc(n * 4);
      const ident = this.alloc(n * 4);
      {
        const ord = this.u32(order, n);
        const perm = this.u32(newId, n);
        const id = this.u32(ident, n);
        for (let i = 0; i < n; i++) {
          perm[ord[i]] = i;
          id[i] = i;
        }
        const oldOff = this.u32(rev.off, n + 1);
        const oldTgt = this.u32(rev.tgt, m);
        const off = this.u32(rOff, n + 1);
        const tgt = this.u32(rTgt, m);
        let k = 0;
        off[0] = 0;
        for (let i = 0; i < n; i++) {
          const v = ord[i];
          const end = oldOff[v + 1];
          for (let e = oldOff[v]; e < end; e++) tgt[k++] = perm[oldTgt[e]];
          off[i + 1] = k;
        }
      }
      // Grow the limb count until N and the grand total (>= every popularity) fit.
      let limbs = 1;
      let paths = 0;
      for (;;) {
        const mark = this.x.mark();
        const total = this.alloc(limbs * 4);
        paths = this.alloc(n * limbs * 4);
        if (this.x.pathCounts(n, ident, rOff, rTgt, limbs, paths, total) !== 0) break;
        this.x.release(mark);
        limbs *= 2;
      }
      const inSet = this.zeroed(n);
      const acc = this.alloc(limbs * 8);
      const out = this.alloc(n * limbs * 4);
      const s = (k: number) => this.alloc(k * 4);
      this.x.popularity(n, rOff, rTgt, limbs, paths, s(n), s(n + 1), s(n), s(n), s(2 * n), inSet, acc, out);
      const relabelled = limbsToBigints(this.u32(out, n * limbs), n, limbs);
      const perm = this.u32(newId, n);
      const result: bigint[] = new Array(n);
      for (let v = 0; v < n; v++) result[v] = relabelled[perm[v]];
      return result;
    });
  }

  dominators(ref: GraphRef, roots: ArrayLike<number>): Int32Array {
    const g = this.own(ref);
    const rev = this.reverseOf(g);
    return this.scope(() => {
      const n = g.n;
      // Any topological order gives the same (unique) dominators: the heap's
      // smallest-index-first order is not needed here.
      const order = this.alloc(n * 4);
      const count = this.scope(() => this.x.topoAnyOrder(n, g.off, g.tgt, this.alloc(n * 4), order));
      if (count !== n) throw new Error("dominators: graph has a cycle");
      const isRoot = this.zeroed(n);
      const flags = this.u8(isRoot, n);
      for (let i = 0; i < roots.length; i++) if (roots[i] < n) flags[roots[i]] = 1;
      const depth = this.alloc(n * 4);
      const idom = this.alloc(n * 4);
      this.x.dominators(n, order, rev.off, rev.tgt, isRoot, depth, idom);
      return this.i32(idom, n).slice();
    });
  }
}

/** Little-endian u32 limbs (`limbs` per value) to BigInts; small values take the Number path. */
export function limbsToBigints(words: Uint32Array, n: number, limbs: number): bigint[] {
  const out: bigint[] = new Array(n);
  for (let v = 0; v < n; v++) {
    const at = v * limbs;
    let top = limbs - 1;
    while (top > 0 && words[at + top] === 0) top--;
    if (top === 0) {
      out[v] = BigInt(words[at]);
    } else if (top === 1 && words[at + 1] < 0x200000) {
      out[v] = BigInt(words[at + 1] * 4294967296 + words[at]); // < 2^53, exact
    } else {
      let x = 0n;
      for (let k = top; k >= 0; k--) x = (x << 32n) | BigInt(words[at + k]);
      out[v] = x;
    }
  }
  return out;
}
