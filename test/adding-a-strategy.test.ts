// docs/strategies.md says adding a strategy takes its folder and one line in
// the registry. This registers the example strategy of test/fixtures (the
// runtime twin of that one line) and checks every front end offers it with no
// other change: the CLI's help, options, formats and explain; the worker
// service; evaluate; and pipelines, where its step appears.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { strategyRegistry } from "../src/strategies/index.js";
import { StrataService } from "../src/worker/service.js";
import { evaluateSeries } from "../src/evaluate/evaluate.js";
import { strategyPlanner } from "../src/evaluate/planners.js";
import { layersForDocument } from "../src/pipeline/index.js";
import { readClosureDocument } from "../src/graph/document.js";
import { chunksStrategy } from "./fixtures/chunks-strategy/index.js";
import { captureCli } from "./helpers/cli.js";
import { repoRoot } from "./helpers/shared.js";

const scipy = join(repoRoot, "examples/python-scipy.json.gz");
const chain = (n: number) =>
  readClosureDocument(
    Array.from({ length: n }, (_, i) => ({
      path: `/nix/store/${String(i).padStart(32, "a")}-p${i}-1.0`,
      narSize: 100 + i,
      references: i + 1 < n ? [`/nix/store/${String(i + 1).padStart(32, "a")}-p${i + 1}-1.0`] : [],
    })),
  );

describe("adding a strategy: one folder, one registry line", () => {
  beforeAll(() => {
    if (strategyRegistry.get("chunks") === undefined) strategyRegistry.register(chunksStrategy);
  });

  it("the registry refuses a second strategy of the same name", () => {
    expect(() => strategyRegistry.register(chunksStrategy)).toThrow(/registered twice/);
  });

  it("appears in every planning command's help with its own section", async () => {
    for (const command of ["layer", "explain", "dot", "report"]) {
      const { code, out } = await captureCli([command, "--help"]);
      expect(code).toBe(0);
      expect(out).toMatch(/--strategy NAME +pipeline, popularity, min-pull, auto-layer, nixery, chunks \(default: pipeline\)/);
      expect(out).toContain("chunks (--strategy chunks):\n  --chunk-size N          paths per layer (default 10)\n");
    }
    expect((await captureCli(["layer", "--help"])).out).toContain("  chunks       layers of N paths in input order (an example strategy)");
    expect((await captureCli(["evaluate", "--help"])).out).toMatch(/popularity, min-pull, auto-layer, nixery,\s+chunks\./);
  });

  it("plans from the CLI with its option, its format and its budget; its flag is refused elsewhere", async () => {
    const r = await captureCli(["layer", scipy, "--strategy", "chunks", "--chunk-size", "40"]);
    expect(r.code).toBe(0);
    const layers = JSON.parse(r.out) as string[][];
    expect(layers.map((l) => l.length)).toEqual([40, 40, 32]);
    const counted = await captureCli(["layer", scipy, "--strategy", "chunks", "--budget", "3", "--format", "count"]);
    expect(counted.out).toBe("3\n");
    const other = await captureCli(["layer", scipy, "--strategy", "auto-layer", "--chunk-size", "4"]);
    expect(other.code).toBe(2);
    expect(other.err).toContain("--chunk-size applies to --strategy chunks, not auto-layer");
    const bad = await captureCli(["layer", scipy, "--strategy", "chunks", "--chunk-size", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--chunk-size expects a whole number >= 1, got "0"');
  });

  it("explains a path with its own facts", async () => {
    const r = await captureCli(["explain", scipy, "numpy", "--strategy", "chunks", "--chunk-size", "50", "--json"]);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.out) as { strategy: string; facts: { label: string; value: string }[]; why: string[] };
    expect(e.strategy).toBe("chunks");
    expect(e.facts).toContainEqual({ label: "chunk size", value: "50" });
    expect(e.why.join(" ")).toMatch(/this is chunk \d/);
  });

  it("is offered and run by the worker service", () => {
    const service = new StrataService();
    service.init({ backend: "ts" });
    expect(service.strategies().find((s) => s.name === "chunks")).toEqual({
      name: "chunks",
      summary: chunksStrategy.summary,
      formats: ["nixpkgs", "count"],
      takesPrevious: false,
      takesPipeline: false,
    });
    const id = service.loadDocument(chain(25)).id;
    const planned = service.layer(id, { strategy: "chunks", options: { chunkSize: 10 }, format: "count" });
    expect(planned.layers.map((l) => l.length)).toEqual([10, 10, 5]);
    expect(planned.text).toBe("3\n");
    expect(service.explain(id, chain(25).entries[12].path).facts).toContainEqual({ label: "chunk size", value: "10" });
    // Evaluations compare every registered strategy by default.
    const v0 = service.loadDocument(chain(25)).id;
    const v1 = service.loadDocument(chain(26)).id;
    const names = service.evaluateSeries([v0, v1]).evaluation.strategies.map((s) => s.strategy);
    expect(names).toEqual(["popularity", "min-pull", "auto-layer", "nixery", "chunks"]);
  });

  it("is priced by evaluate and used as a pipeline step", async () => {
    const ev = evaluateSeries(
      [
        { name: "v0", doc: chain(30) },
        { name: "v1", doc: chain(31) },
      ],
      [strategyPlanner("chunks", { budget: 5 })],
    );
    expect(ev.strategies.map((s) => s.strategy)).toEqual(["chunks"]);
    expect(ev.strategies[0].versions.map((v) => v.layerCount)).toEqual([3, 4]);
    const cli = await captureCli(["evaluate", "--series", scipy, scipy, "--strategy", "chunks", "--json"]);
    expect(cli.code).toBe(0);
    expect((JSON.parse(cli.out) as { strategies: { strategy: string }[] }).strategies.map((s) => s.strategy)).toEqual(["chunks"]);
    // Its step, ["chunks", budget] (2 paths a layer), inside a nixpkgs pipeline.
    const doc = chain(6);
    const layers = layersForDocument(doc, { pipeline: [["chunks", 2]] });
    expect(layers.flat().sort()).toEqual(doc.entries.map((e) => e.path).sort());
    expect(layers).toHaveLength(2);
    expect((await captureCli(["check", '[["chunks", 0]]'])).out).toMatch(/chunks.*at least 1/);
  });
});
