// The worker API in Node worker_threads, through the built library (a worker
// thread loads compiled JavaScript: dist/worker/node-entry.js). Results are
// compared with the same strategies run in this process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { repoRoot, sharedPath } from "./helpers/shared.js";
import { createNodePool, createNodeWorker, layerMany, plannersInWorkers, spawnNodeWorker } from "../dist/worker/node.js";
import { StrataWorker } from "../dist/worker/client.js";
import { StrataPool } from "../dist/worker/pool.js";
import { wasmModule } from "../dist/wasm/load.js";
import { formatLayersIndented } from "../src/format/python-json.js";
import { readClosureDocument, type ClosureDocument } from "../src/graph/document.js";
import { findStrategy, strategies } from "../src/strategies/index.js";
import { evaluateImages, evaluateSeries } from "../src/evaluate/evaluate.js";
import { pipelinePlanner, strategyPlanner } from "../src/evaluate/planners.js";

const scipyFile = join(repoRoot, "examples/python-scipy.json.gz");
const webapp = [0, 1, 2, 3].map((k) => join(repoRoot, `bench/data/webapp-v${k}.json.gz`));
const archiveFile = sharedPath("data/debian-bookworm/archive-all.json.gz");

const bytes = (file: string): Uint8Array => new Uint8Array(readFileSync(file));
const docOf = (file: string): ClosureDocument => readClosureDocument(JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")));

/** `strata layer FILE --strategy NAME [--max-layers M]`, in this process. */
function inProcess(doc: ClosureDocument, strategy: string, maxLayers?: number): string {
  const options: Record<string, unknown> = {};
  if (maxLayers !== undefined) options.maxLayers = maxLayers;
  if (doc.roots !== undefined) options.roots = doc.roots;
  return formatLayersIndented(findStrategy(strategy)!.plan(doc, options).layers);
}

describe("StrataWorker (worker_threads)", () => {
  let worker: StrataWorker;
  beforeAll(async () => {
    worker = await createNodeWorker();
  });
  afterAll(() => worker.terminate());

  it("lists the registry's strategies", async () => {
    const listed = await worker.strategies();
    expect(listed.map((s) => s.name)).toEqual(strategies.map((s) => s.name));
    expect(listed.every((s) => s.formats[0] === "nixpkgs")).toBe(true);
  });

  it("transfers the input bytes instead of copying them", async () => {
    const input = bytes(scipyFile);
    expect(input.buffer.byteLength).toBeGreaterThan(0);
    const info = await worker.load(input, "scipy");
    // A transferred ArrayBuffer is detached on this side.
    expect(input.buffer.byteLength).toBe(0);
    expect(info).toMatchObject({ name: "scipy", format: "attrs-document", paths: 112, roots: 2 });
    await worker.release(info.id);
  });

  it("loads once and runs every strategy against it, identical to an in-process run", async () => {
    const doc = docOf(scipyFile);
    const info = await worker.load(bytes(scipyFile), "scipy");
    for (const s of strategies) {
      for (const maxLayers of [undefined, 12]) {
        const r = await worker.layer(info.id, { strategy: s.name, format: "nixpkgs", ...(maxLayers ? { maxLayers } : {}) });
        expect(r.text, `${s.name} maxLayers=${maxLayers}`).toBe(inProcess(doc, s.name, maxLayers));
        expect(r.paths).toBe(r.layers.reduce((a, l) => a + l.length, 0));
        expect(r.totalBytes).toBe(r.layerBytes.reduce((a, b) => a + b, 0));
      }
    }
    // Pipelines against the same loaded closure.
    const r = await worker.layer(info.id, { pipeline: [["popularity_contest"], ["limit_layers", 3]] });
    expect(r.layers).toHaveLength(3);
    expect(r.paths).toBe(112);
    await worker.release(info.id);
  });

  it("explains a path: its layer, sizes, closure and popularity", async () => {
    const info = await worker.load(bytes(scipyFile), "scipy");
    const plan = await worker.layer(info.id, { strategy: "popularity", maxLayers: 10 });
    const last = plan.layers[plan.layers.length - 1];
    const ex = await worker.explain(info.id, last[0]);
    expect(ex.layer).toBe(plan.layers.length - 1);
    expect(ex.layerPaths).toBe(last.length);
    expect(ex.layerBytes).toBe(plan.layerBytes[plan.layers.length - 1]);
    expect(ex.closureBytes).toBeGreaterThanOrEqual(ex.narSize);
    expect(ex.closurePaths).toBeGreaterThanOrEqual(1);
    // Below the 8 most popular paths, so merged into the last layer.
    expect(ex.popularityRank).toBeGreaterThan(8);
    expect(ex.why.join(" ")).toMatch(/merges it into the last layer/);
    const top = await worker.explain(info.id, plan.layers[0][0]);
    expect(top.popularityRank).toBe(1);
    expect(top.layerPaths).toBe(1);
    await expect(worker.explain(info.id, "/nix/store/nope")).rejects.toThrow(/not a path of this closure/);
    await worker.release(info.id);
  });

  it("evaluates a series like the library does", async () => {
    const ids = [];
    for (const f of webapp) ids.push((await worker.load(bytes(f), f.slice(f.lastIndexOf("/") + 1))).id);
    const specs = ["popularity", "min-pull+previous"];
    const { evaluation, html } = await worker.evaluateSeries(ids, { strategies: specs, maxLayers: 20 });
    const local = evaluateSeries(
      webapp.map((f) => ({ name: f.slice(f.lastIndexOf("/") + 1), doc: docOf(f) })),
      specs.map((s) => strategyPlanner(s, { maxLayers: 20, fromImageLayers: 0, budget: 19 })),
    );
    expect(evaluation).toEqual(local);
    expect(html).toContain("<svg");
    for (const id of ids) await worker.release(id);
  });

  it("keeps a strata error's code and pipeline location across the boundary", async () => {
    const info = await worker.load(bytes(scipyFile), "scipy");
    const failure = await worker.layer(info.id, { pipeline: [["popularity_contest"], ["limit_layer", 3]] }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: "PipelineError", code: "unknown-step", location: "pipeline[1][0]" });
    const bad = await worker.load(new TextEncoder().encode('{"graph": [{"path": "/nix/store/a"}]}'), "bad.json").catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: "InputError", code: "bad-nar-size", path: "/nix/store/a" });
    await expect(worker.layer(9999)).rejects.toThrow(/no closure with id 9999/);
    // The worker is still usable after errors.
    expect((await worker.layer(info.id)).paths).toBe(112);
  });
});

describe("worker failures", () => {
  it("rejects a pending call when the thread dies, and every later call", async () => {
    const host = spawnNodeWorker();
    const worker = new StrataWorker(host);
    await worker.init({ module: wasmModule() });
    const pending = worker.load(bytes(join(repoRoot, "bench/data/desktop-v0.json.gz")), "desktop");
    void host.thread.terminate(); // killed from outside, not through worker.terminate()
    await expect(pending).rejects.toMatchObject({ name: "WorkerCrashedError", message: expect.stringMatching(/exited with code 1/) });
    await expect(worker.strategies()).rejects.toMatchObject({ name: "WorkerCrashedError" });
  });

  it("reports out-of-memory, and the pool replaces the worker for the next image", async () => {
    let spawned = 0;
    // Only the first worker gets a heap too small for the 63,667-path archive: 16 MB of old
    // generation (it stopped failing in 32 MB once the closure's path index and the popularity
    // tie keys were made only on demand, issue 17).
    const pool = new StrataPool({
      size: 1,
      module: wasmModule(),
      spawn: () => spawnNodeWorker(spawned++ === 0 ? { resourceLimits: { maxOldGenerationSizeMb: 16 } } : {}),
    });
    try {
      const [big, small] = await Promise.allSettled([
        pool.layerMany([{ input: bytes(archiveFile), name: "archive-all" }]),
        pool.layerMany([{ input: bytes(scipyFile), name: "scipy" }], { strategy: "popularity" }),
      ]);
      expect(big.status).toBe("rejected");
      const reason = (big as PromiseRejectedResult).reason as Error;
      expect(reason.name).toBe("WorkerCrashedError");
      expect(reason.message).toMatch(/memory limit.*ERR_WORKER_OUT_OF_MEMORY.*archive-all/);
      expect(small.status).toBe("fulfilled");
      const [r] = (small as PromiseFulfilledResult<Awaited<ReturnType<StrataPool["layerMany"]>>>).value;
      expect(formatLayersIndented(r.layers)).toBe(inProcess(docOf(scipyFile), "popularity"));
      expect(spawned).toBe(2);
      expect(pool.replaced).toBe(1);
    } finally {
      pool.close();
    }
  });
});

describe("StrataPool", () => {
  it("layerMany spreads images over workers and returns results in input order", async () => {
    const pool = createNodePool({ size: 2 });
    try {
      const files = [...webapp, scipyFile];
      const results = await pool.layerMany(
        files.map((f) => ({ input: bytes(f), name: f })),
        { strategy: "popularity", maxLayers: 30 },
      );
      expect(results.map((r) => formatLayersIndented(r.layers))).toEqual(files.map((f) => inProcess(docOf(f), "popularity", 30)));
      // Per-image requests.
      const mixed = await pool.layerMany([bytes(webapp[0]), bytes(webapp[0])], [{ strategy: "auto-layer" }, { strategy: "nixery" }]);
      expect(mixed.map((r) => r.strategy)).toEqual(["auto-layer", "nixery"]);
      expect(formatLayersIndented(mixed[1].layers)).toBe(inProcess(docOf(webapp[0]), "nixery"));
      // A stateful planner's series runs in one worker, in order.
      const plans = await pool.plans(
        webapp.map((f) => bytes(f)),
        { name: "min-pull+previous" },
        { maxLayers: 20 },
      );
      const local = strategyPlanner("min-pull+previous", { maxLayers: 20, fromImageLayers: 0, budget: 19 });
      const docs = webapp.map(docOf);
      const expected: string[][][] = [];
      docs.forEach((d, k) => expected.push(local.plan(d, k === 0 ? undefined : { doc: docs[k - 1], layers: expected[k - 1] })));
      expect(plans).toEqual(expected);
    } finally {
      pool.close();
    }
  });

  it("makes an evaluation's plans in workers, identical to planning in this thread", async () => {
    const closures = webapp.map((f) => ({ name: f, doc: docOf(f) }));
    const names = ["popularity", "min-pull+previous", "auto-layer@stable-first", "nixery"];
    const pipeline = [["popularity_contest"], ["limit_layers", 7]];
    const specs = [...names.map((name) => ({ name })), { name: "pipeline", pipeline }];
    const base = { maxLayers: 20, fromImageLayers: 0, budget: 19 };
    const local = () => [...names.map((n) => strategyPlanner(n, base)), pipelinePlanner("pipeline", pipeline)];
    const pool = createNodePool({ size: 2 });
    try {
      const series = await pool.planners(closures, specs, { maxLayers: 20 }, "series");
      expect(evaluateSeries(closures, series)).toEqual(evaluateSeries(closures, local()));
      const images = await pool.planners(closures, specs, { maxLayers: 20 }, "images");
      expect(evaluateImages(closures, images)).toEqual(evaluateImages(closures, local()));
    } finally {
      pool.close();
    }
    // strata evaluate's gate: small jobs and few cores stay in this thread.
    expect(await plannersInWorkers(closures, specs, {}, "series", { cores: 2 })).toBeUndefined();
    expect(await plannersInWorkers(closures, specs, {}, "series", { cores: 8, minWork: 10 ** 9 })).toBeUndefined();
    const forced = await plannersInWorkers(closures, specs, { maxLayers: 20 }, "series", { cores: 2, minCores: 2, minWork: 0 });
    expect(forced && evaluateSeries(closures, forced)).toEqual(evaluateSeries(closures, local()));
  });

  it("layerMany without a pool starts and stops its own", async () => {
    const [r] = await layerMany([bytes(scipyFile)], { strategy: "auto-layer" });
    expect(formatLayersIndented(r.layers)).toBe(inProcess(docOf(scipyFile), "auto-layer"));
  });
});
