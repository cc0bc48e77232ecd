// The WebAssembly backend. Each backend object owns one instance and its
// linear memory; graphs live there as CSR arrays and kernels get pointers.
// Views over memory.buffer are created per access because any allocation may
// grow the memory and detach older views.
import type { CsrGraph } from "../../graph/csr.js";
import type { GraphRef, Kernels } from "../types.js";
import { instantiateKernels, type KernelExports } from "../../wasm/load.js";

export class WasmOutOfMemoryError extends Error {
  override readonly name = "WasmOutOfMemoryError";
}

export class WasmGraph implements GraphRef {
  /** Pointers of the reverse CSR, built on first use. */
  rOff = 0;
  rTgt = 0;
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

  constructor(exports: KernelExports = instantiateKernels()) {
    this.x = exports;
  }

  // --- memory helpers -------------------------------------------------------

  /** Allocates `bytes` in the arena or throws when wasm32's 4 GiB are exhausted. */
  alloc(bytes: number): number {
    const ptr = this.x.alloc(bytes);
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
  putU8(values: Uint8Array): number {
    const ptr = this.alloc(values.length);
    this.u8(ptr, values.length).set(values);
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
    return g;
  }

  reverseOf(g: WasmGraph): { off: number; tgt: number } {
    if (g.rOff === 0) {
      g.rOff = this.alloc((g.n + 1) * 4);
      g.rTgt = this.alloc(g.m * 4);
      this.x.transpose(g.n, g.off, g.tgt, g.rOff, g.rTgt);
    }
    return { off: g.rOff, tgt: g.rTgt };
  }

  // --- Kernels --------------------------------------------------------------

  load(g: CsrGraph): GraphRef {
    const off = this.putU32(g.offsets);
    const tgt = this.putU32(g.targets);
    return new WasmGraph(this, g.n, g.targets.length, off, tgt);
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
    }
  }

  reach(ref: GraphRef, seeds: ArrayLike<number>, direction: "out" | "in", blocked?: Uint8Array): Uint8Array {
    const g = this.own(ref);
    // The reverse CSR belongs to the graph, so it is built outside the scratch scope.
    const csr = direction === "out" ? { off: g.off, tgt: g.tgt } : this.reverseOf(g);
    return this.scope(() => {
      const seedPtr = this.putU32(seeds);
      const blockedPtr = blocked === undefined ? 0 : this.putU8(blocked);
      const markPtr = this.zeroed(g.n);
      const queuePtr = this.alloc(g.n * 4);
      this.x.reach(g.n, csr.off, csr.tgt, seedPtr, seeds.length, blockedPtr, markPtr, queuePtr);
      return this.u8(markPtr, g.n).slice();
    });
  }

  inDegrees(_g: GraphRef): Uint32Array {
    throw new Error("wasm kernel inDegrees: not built yet");
  }
  topoOrder(_g: GraphRef): Uint32Array {
    throw new Error("wasm kernel topoOrder: not built yet");
  }
  induced(_g: GraphRef, _vertices: Uint32Array, _blocked?: Uint8Array): GraphRef {
    throw new Error("wasm kernel induced: not built yet");
  }
  disjointUnion(_parts: readonly GraphRef[]): GraphRef {
    throw new Error("wasm kernel disjointUnion: not built yet");
  }
  popularity(_g: GraphRef): bigint[] {
    throw new Error("wasm kernel popularity: not built yet");
  }
  dominators(_g: GraphRef, _roots: ArrayLike<number>): Int32Array {
    throw new Error("wasm kernel dominators: not built yet");
  }
}
