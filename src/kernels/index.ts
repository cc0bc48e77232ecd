// Backend selection. The Wasm backend is the default; the TypeScript twins are
// the oracle in tests and a fallback where WebAssembly is unavailable.
import type { BackendName, Kernels } from "./types.js";
import { tsKernels } from "./ts/backend.js";
import { WasmKernels } from "./wasm/backend.js";

export type { BackendName, GraphRef, Kernels } from "./types.js";
export { tsKernels } from "./ts/backend.js";
export { WasmKernels, WasmOutOfMemoryError } from "./wasm/backend.js";

let defaultWasm: WasmKernels | undefined;

/** The shared backend of this thread (one Wasm instance, created on first use). */
export function kernels(backend: BackendName = "wasm"): Kernels {
  if (backend === "ts") return tsKernels;
  return (defaultWasm ??= new WasmKernels());
}
