// The kernels in a Node worker thread: the compiled WebAssembly.Module is
// posted to the worker (compile once, instantiate per worker), or the worker
// compiles the inlined base64 bytes itself. The worker speaks the raw pointer
// ABI, so this also pins the export signatures in src/wasm/load.ts.
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { csrFromLists } from "../src/graph/csr.js";
import { WasmKernels } from "../src/kernels/wasm/backend.js";
import { wasmModule } from "../src/wasm/load.js";
import { releaseWasmBase64 } from "../src/wasm/generated/kernels-wasm.js";

// Graph: 0->1, 0->2, 1->3, 2->3, 3->4 (a diamond with a tail). Runs Kahn's
// order and popularity (one u32 limb) and posts both back.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const module = workerData.module ?? new WebAssembly.Module(Buffer.from(workerData.base64, "base64"));
const x = new WebAssembly.Instance(module, {}).exports;
const put = (values) => {
  const ptr = x.alloc(values.length * 4);
  new Uint32Array(x.memory.buffer, ptr, values.length).set(values);
  return ptr;
};
const n = 5;
const off = put([0, 2, 3, 4, 5, 5]);
const tgt = put([1, 2, 3, 3, 4]);
const rOff = x.alloc((n + 1) * 4), rTgt = x.alloc(5 * 4);
x.transpose(n, off, tgt, rOff, rTgt);
const order = x.alloc(n * 4);
const count = x.topoOrder(n, off, tgt, x.alloc(n * 4), x.alloc(n * 4), order);
const paths = x.alloc(n * 4), total = x.alloc(4);
const fits = x.pathCounts(n, order, rOff, rTgt, 1, paths, total);
const out = x.alloc(n * 4), inSet = x.alloc(n), acc = x.alloc(8);
x.fill(inSet, 0, n);
const s = (k) => x.alloc(k * 4);
x.popularity(n, rOff, rTgt, 1, paths, s(n), s(n + 1), s(n), s(n), s(2 * n), inSet, acc, out);
parentPort.postMessage({
  order: Array.from(new Uint32Array(x.memory.buffer, order, count)),
  fits,
  popularity: Array.from(new Uint32Array(x.memory.buffer, out, n)),
});
`;

function runWorker(workerData: object): Promise<{ order: number[]; fits: number; popularity: number[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true, workerData });
    worker.once("message", (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

describe("kernels in a worker thread", () => {
  // N = 1, 1, 1, 2, 2; popularity = 1, 2, 2, 2+1+1+1, 2+5 (hand-worked).
  const expected = { order: [0, 1, 2, 3, 4], fits: 1, popularity: [1, 2, 2, 5, 7] };

  it("instantiates a posted WebAssembly.Module and runs kernels", async () => {
    expect(await runWorker({ module: wasmModule() })).toEqual(expected);
  });

  it("compiles the inlined bytes inside the worker", async () => {
    expect(await runWorker({ base64: releaseWasmBase64 })).toEqual(expected);
  });

  it("gives what the main-thread backend gives", () => {
    const k = new WasmKernels();
    const g = k.load(csrFromLists([[1, 2], [3], [3], [4], []]));
    expect([...k.topoOrder(g)]).toEqual(expected.order);
    expect(k.popularity(g).map(Number)).toEqual(expected.popularity);
  });
});
