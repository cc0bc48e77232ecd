// Evaluation arithmetic on hand-made series; every expected number is worked
// out by hand in the comments.
import { describe, expect, it } from "vitest";
import { evaluateImages, evaluateSeries, type NamedClosure, type Planner } from "../src/evaluate/evaluate.js";
import type { ClosureDocument } from "../src/graph/document.js";

function closure(name: string, sizes: Record<string, number>): NamedClosure {
  const doc: ClosureDocument = {
    format: "references-graph",
    entries: Object.entries(sizes).map(([path, narSize]) => ({ path, narSize, references: [] })),
  };
  return { name, doc };
}

/** A planner that returns fixed plans, looked up by the document. */
function fixed(name: string, plans: Map<ClosureDocument, string[][]>): Planner {
  return { name, plan: (doc) => plans.get(doc)! };
}

describe("evaluateSeries", () => {
  const v0 = closure("v0", { a: 100, b: 10, c: 1 });
  const v1 = closure("v1", { a2: 100, b: 10, c: 1 }); // a changed: new path a2
  const v2 = closure("v2", { a2: 100, b: 10, c: 1 }); // nothing changed

  it("prices a changed path in its own layer at exactly the ideal", () => {
    const plans = new Map([
      [v0.doc, [["c"], ["b"], ["a"]]],
      [v1.doc, [["c"], ["b"], ["a2"]]],
      [v2.doc, [["c"], ["b"], ["a2"]]],
    ]);
    const [s] = evaluateSeries([v0, v1, v2], [fixed("per-path", plans)]).strategies;
    const [u1, u2] = s.updates;
    // v0 -> v1: only layer [a2] is new: 100 bytes; ideal = a2 = 100; worst = 111.
    expect(u1).toMatchObject({ pulledBytes: 100, pulledLayers: 1, layerCount: 3, imageBytes: 111, idealBytes: 100, worstBytes: 111 });
    expect(u1.fractionOfWorst).toBe(0);
    // Layers 0 and 1 are unchanged, so a local store re-extracts only the top layer.
    expect(u1.localBytes).toBe(100);
    // v1 -> v2: nothing changed at all.
    expect(u2).toMatchObject({ pulledBytes: 0, pulledLayers: 0, idealBytes: 0, worstBytes: 0, localBytes: 0 });
    expect(u2.fractionOfWorst).toBeNull();
    expect(s.total).toMatchObject({ pulledBytes: 100, idealBytes: 100, worstBytes: 111, localBytes: 100 });
  });

  it("counts a layer whose paths only changed order as pulled", () => {
    const w0 = closure("w0", { a: 100, b: 10, c: 1 });
    const w1 = closure("w1", { a: 100, b: 10, c: 1 });
    const plans = new Map([
      [w0.doc, [["b", "c"], ["a"]]],
      [w1.doc, [["c", "b"], ["a"]]],
    ]);
    const [u] = evaluateSeries([w0, w1], [fixed("reordered", plans)]).strategies[0].updates;
    // [c, b] is a different tarball from [b, c]: 11 bytes pulled though no path changed.
    expect(u.pulledBytes).toBe(11);
    expect(u.idealBytes).toBe(0);
    expect(u.worstBytes).toBe(0);
    // The bottom layer changed, so both layers get new chain IDs: 111 bytes re-extracted.
    expect(u.localBytes).toBe(111);
  });

  it("measures a single-layer plan at the worst case and reports the fraction", () => {
    const plans = new Map([
      [v0.doc, [["c", "b", "a"]]],
      [v1.doc, [["c", "b", "a2"]]],
    ]);
    const [u] = evaluateSeries([v0, v1], [fixed("one-layer", plans)]).strategies[0].updates;
    expect(u.pulledBytes).toBe(111);
    expect(u.fractionOfWorst).toBe(1);
  });

  it("puts a mixed plan between the bounds: (pulled - ideal) / (worst - ideal)", () => {
    const plans = new Map([
      [v0.doc, [["c"], ["b", "a"]]],
      [v1.doc, [["c"], ["b", "a2"]]],
    ]);
    const [u] = evaluateSeries([v0, v1], [fixed("mixed", plans)]).strategies[0].updates;
    // pulled 110, ideal 100, worst 111 -> 10 / 11.
    expect(u.pulledBytes).toBe(110);
    expect(u.fractionOfWorst).toBeCloseTo(10 / 11, 12);
  });

  it("shows a stateful planner its own previous plan", () => {
    const seen: (string[][] | undefined)[] = [];
    const planner: Planner = {
      name: "stateful",
      plan: (doc, previous) => {
        seen.push(previous?.layers);
        return [doc.entries.map((e) => e.path)];
      },
    };
    evaluateSeries([v0, v1], [planner]);
    expect(seen).toEqual([undefined, [["a", "b", "c"]]]);
  });

  it("rejects a series of one version", () => {
    expect(() => evaluateSeries([v0], [])).toThrow(/at least two/);
  });
});

describe("evaluateImages", () => {
  it("counts registry bytes, shared layers and the dedup ratio", () => {
    const i1 = closure("i1", { c: 1, b: 10, x: 5 });
    const i2 = closure("i2", { c: 1, b: 10, y: 7 });
    const plans = new Map([
      [i1.doc, [["c"], ["b"], ["x"]]],
      [i2.doc, [["c"], ["b", "y"]]],
    ]);
    const [s] = evaluateImages([i1, i2], [fixed("p", plans)]).strategies;
    // Distinct layers: [c] 1, [b] 10, [x] 5, [b, y] 17 -> 33 bytes; images 16 + 18 = 34.
    expect(s.registryBytes).toBe(33);
    expect(s.distinctLayers).toBe(4);
    expect(s.totalImageBytes).toBe(34);
    // Only [c] is in both images ([b] and [b, y] are different layers).
    expect(s.sharedBytes).toBe(1);
    expect(s.sharedLayers).toBe(1);
    expect(s.dedupRatio).toBeCloseTo(34 / 33, 12);
  });
});
