// --format pipeline: the generated layeringPipeline, run back through strata's
// nixpkgs-exact pipeline engine, gives the plan back exactly (layers, their
// order and the order inside each layer).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { pipelineForPlan, formatPipeline } from "../src/format/pipeline.js";
import { layersForDocument, parsePipeline, checkPipeline, pipelineExtensions } from "../src/pipeline/index.js";
import type { ClosureDocument, ClosureEntry } from "../src/graph/document.js";
import { kernels } from "../src/kernels/index.js";
import { strategies } from "../src/strategies/index.js";
import { randomDag, mulberry32 } from "./helpers/random-dag.js";
import { requireShared, readJsonFile, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();
import { readClosureDocument } from "../src/graph/document.js";

const k = kernels("ts");

function roundTrip(doc: ClosureDocument, layers: string[][]): string[][] {
  const { pipeline } = pipelineForPlan(doc, layers);
  // Through the text form, as nixpkgs reads it from a file.
  const parsed = JSON.parse(formatPipeline(pipeline)) as unknown;
  return layersForDocument(doc, { pipeline: parsed, kernels: k });
}

function dagDoc(seed: number, n: number, sizes: "distinct" | "ties"): ClosureDocument {
  const g = randomDag({ seed, n, avgRefs: 3 });
  const rnd = mulberry32(seed ^ 0x5eed);
  const name = (v: number) => `/nix/store/${String(v).padStart(4, "0")}hash-p${v}`;
  const entries: ClosureEntry[] = [];
  for (let v = 0; v < n; v++) {
    const refs: string[] = [];
    for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++) refs.push(name(g.targets[e]));
    entries.push({ path: name(v), narSize: sizes === "ties" ? 1 + Math.floor(rnd() * 3) : 1000 + Math.floor(rnd() * 1e6), references: refs });
  }
  return { format: "references-graph", entries };
}

/** A random plan over the doc's paths: random layers, random in-layer orders, maybe some paths left out. */
function randomPlan(doc: ClosureDocument, seed: number, leaveOut: boolean): string[][] {
  const rnd = mulberry32(seed);
  const paths = doc.entries.map((e) => e.path).filter(() => !leaveOut || rnd() > 0.1);
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [paths[i], paths[j]] = [paths[j], paths[i]];
  }
  const m = 1 + Math.floor(rnd() * Math.min(paths.length, 40));
  const layers: string[][] = Array.from({ length: m }, () => []);
  paths.forEach((p, i) => layers[i < m ? i : Math.floor(rnd() * m)].push(p));
  return layers.filter((l) => l.length > 0);
}

describe("--format pipeline: round trip through the pipeline engine", () => {
  it("a hand example: reversed narSize order inside a layer, layers out of narSize order", () => {
    const doc: ClosureDocument = {
      format: "references-graph",
      entries: [
        { path: "/nix/store/a-app", narSize: 5, references: ["/nix/store/b-lib", "/nix/store/c-libc"] },
        { path: "/nix/store/b-lib", narSize: 3, references: ["/nix/store/c-libc"] },
        { path: "/nix/store/c-libc", narSize: 1, references: [] },
        { path: "/nix/store/d-data", narSize: 2, references: [] },
      ],
    };
    const plan = [["/nix/store/a-app", "/nix/store/c-libc"], ["/nix/store/d-data"], ["/nix/store/b-lib"]];
    const { pipeline, removed, layerBits, positionBits } = pipelineForPlan(doc, plan);
    expect(removed).toEqual([]);
    expect([layerBits, positionBits]).toEqual([2, 1]);
    expect(pipeline).toEqual([
      ["split_every", 1],
      ["limit_layers", 1],
      ["map", ["subcomponent_out", ["/nix/store/a-app", "/nix/store/c-libc", "/nix/store/d-data"]]],
      ["flatten"],
      ["map", ["subcomponent_out", ["/nix/store/a-app", "/nix/store/c-libc", "/nix/store/b-lib"]]],
      ["flatten"],
      ["map", ["pipe", [["subcomponent_out", ["/nix/store/a-app"]], ["flatten"], ["limit_layers", 1]]]],
    ]);
    expect(roundTrip(doc, plan)).toEqual(plan);
    // The checker (what `strata check` runs) finds nothing wrong with it.
    const checked = checkPipeline(parsePipeline(pipeline, { extensions: pipelineExtensions }), { extensions: pipelineExtensions });
    expect(checked.issues.filter((i) => i.severity !== "warning")).toEqual([]);
  });

  it("random DAGs and random plans (distinct sizes, narSize ties, paths left out): exact", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 120 }), fc.boolean(), fc.boolean(), (seed, n, ties, leaveOut) => {
        const doc = dagDoc(seed, n, ties ? "ties" : "distinct");
        const plan = randomPlan(doc, seed + 1, leaveOut);
        expect(roundTrip(doc, plan)).toEqual(plan);
      }),
      { numRuns: 150 },
    );
  });

  it("with exclude_paths in the document: the plan of the rest round-trips", () => {
    const base = dagDoc(7, 60, "ties");
    const excluded = base.entries.slice(0, 5).map((e) => e.path);
    const doc: ClosureDocument = { ...base, excludePaths: excluded };
    const plan = randomPlan({ ...base, entries: base.entries.slice(5) }, 3, false);
    expect(roundTrip(doc, plan)).toEqual(plan);
    expect(() => pipelineForPlan(doc, [[excluded[0]]])).toThrow(/exclude_paths/);
  });

  it("every registered strategy's plan of a real closure round-trips", () => {
    requireShared();
    const doc = readClosureDocument(readJsonFile(sharedPath("data", "debian-bookworm", "img-postgresql.json.gz")));
    for (const s of strategies) {
      const layers = s.plan(doc, { kernels: k, maxLayers: 40 }).layers;
      expect(roundTrip(doc, layers), s.name).toEqual(layers);
    }
  });

  it("unplanned paths: remove_paths; paths of a newer closure: one extra top layer", () => {
    const doc = dagDoc(11, 30, "distinct");
    const plan = randomPlan(doc, 5, true);
    const { pipeline, removed } = pipelineForPlan(doc, plan);
    expect(removed.length).toBe(doc.entries.length - plan.flat().length);
    expect(removed.length).toBeGreaterThan(0);
    expect(layersForDocument(doc, { pipeline, kernels: k })).toEqual(plan);
    // The same pipeline on a closure with two new paths: the plan, then the new paths.
    const full = randomPlan(doc, 9, false);
    const p2 = pipelineForPlan(doc, full).pipeline;
    const newer: ClosureDocument = {
      ...doc,
      entries: [
        ...doc.entries,
        { path: "/nix/store/zz-new-b", narSize: 7, references: [] },
        { path: "/nix/store/zz-new-a", narSize: 3, references: [doc.entries[0].path] },
      ],
    };
    expect(layersForDocument(newer, { pipeline: p2, kernels: k })).toEqual([...full, ["/nix/store/zz-new-a", "/nix/store/zz-new-b"]]);
  });

  it("refuses plans nixpkgs cannot produce: a path twice, an empty layer, an unknown path", () => {
    const doc = dagDoc(3, 5, "distinct");
    const [a, b] = doc.entries.map((e) => e.path);
    expect(() => pipelineForPlan(doc, [[a], [a, b]])).toThrow(/is in layer 1 and in layer 2/);
    expect(() => pipelineForPlan(doc, [[a], []])).toThrow(/layer 2 is empty/);
    expect(() => pipelineForPlan(doc, [["/nix/store/x-nope"]])).toThrow(/not in the closure/);
  });

  it("an empty plan of an empty closure is an empty layer list", () => {
    const doc: ClosureDocument = { format: "references-graph", entries: [] };
    expect(roundTrip(doc, [])).toEqual([]);
  });
});
