// One loader for Node, worker threads and browsers. The module bytes are
// inlined as base64 at build time (scripts/build-wasm.mjs), so loading needs
// neither fs nor fetch; the module is a few KB, well under the 8 MB limit
// browsers put on synchronous compilation.
import { debugWasmBase64, releaseWasmBase64 } from "./generated/kernels-wasm.js";

export type WasmVariant = "release" | "debug";

/** The raw exports of assembly/index.ts. Pointers and sizes are plain numbers. */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  mark(): number;
  release(to: number): void;
  fill(ptr: number, value: number, bytes: number): void;
  reach(n: number, off: number, tgt: number, seeds: number, seedCount: number, blocked: number, mark: number, queue: number): number;
  transpose(n: number, off: number, tgt: number, rOff: number, rTgt: number): void;
  inDegrees(n: number, off: number, tgt: number, deg: number): void;
  topoOrder(n: number, off: number, tgt: number, deg: number, heap: number, order: number): number;
  topoAnyOrder(n: number, off: number, tgt: number, deg: number, queue: number): number;
  inducedCount(n: number, off: number, tgt: number, verts: number, k: number, blocked: number, local: number, outOff: number): number;
  inducedFill(off: number, tgt: number, verts: number, k: number, blocked: number, local: number, outTgt: number): void;
  unionAppend(outOff: number, outTgt: number, vBase: number, eBase: number, n: number, off: number, tgt: number): void;
  /** Returns 0 when `limbs` u32 limbs overflow (the host retries with more). */
  pathCounts(n: number, order: number, rOff: number, rTgt: number, limbs: number, paths: number, total: number): number;
  popularity(
    n: number,
    rOff: number,
    rTgt: number,
    limbs: number,
    paths: number,
    pivot: number,
    tOff: number,
    tKid: number,
    undo: number,
    frame: number,
    inSet: number,
    acc: number,
    out: number,
  ): void;
  dominators(n: number, order: number, rOff: number, rTgt: number, isRoot: number, depth: number, idom: number): void;
  [kernel: string]: unknown;
}

const modules = new Map<WasmVariant, WebAssembly.Module>();

export function wasmBytes(variant: WasmVariant = "release"): Uint8Array<ArrayBuffer> {
  const b64 = variant === "release" ? releaseWasmBase64 : debugWasmBase64;
  // Node's native base64 decoder where there is one: the loop below runs once per process, long
  // enough (one iteration per byte) for V8 to compile it with its optimising compiler, which costs
  // a short CLI run about 1.2 ms of compilation and 3.5 MiB more resident memory.
  const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: "base64"): Uint8Array } }).Buffer;
  if (NodeBuffer !== undefined) return new Uint8Array(NodeBuffer.from(b64, "base64"));
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Compiles (once per variant) and returns the module; it can be posted to workers. */
export function wasmModule(variant: WasmVariant = "release"): WebAssembly.Module {
  let m = modules.get(variant);
  if (m === undefined) {
    m = new WebAssembly.Module(wasmBytes(variant));
    modules.set(variant, m);
  }
  return m;
}

/** A fresh instance with its own linear memory. The module imports nothing. */
export function instantiateKernels(module: WebAssembly.Module = wasmModule()): KernelExports {
  const instance = new WebAssembly.Instance(module, {});
  return instance.exports as unknown as KernelExports;
}
