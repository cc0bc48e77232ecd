// The public barrel: what an embedding build tool imports.
import { describe, expect, it } from "vitest";
import * as strata from "../src/index.js";
import { readClosureInput } from "../src/node.js";
import { sharedPath } from "./helpers/shared.js";

describe("library API", () => {
  it("plans a real closure with every registered strategy through the barrel", async () => {
    const doc = await readClosureInput(sharedPath("data/debian-bookworm/img-postgresql.json.gz"));
    const all = doc.entries.map((e) => e.path).sort();
    const names = strata.strategies.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["pipeline", "popularity", "auto-layer", "nixery", "min-pull"]));
    for (const s of strata.strategies) {
      const { layers } = s.plan(doc, { maxLayers: 31 });
      // Every strategy keeps every path exactly once.
      expect(layers.flat().sort()).toEqual(all);
      if (s.name !== "nixery") expect(layers.length).toBeLessThanOrEqual(30);
    }
  });

  it("exposes the typed pipeline builder, evaluation and formatting", () => {
    const json = strata.pipeline().popularityContest().limitLayers(3).toJson();
    expect(json).toEqual([["popularity_contest"], ["limit_layers", 3]]);
    expect(strata.formatLayersIndented([["a"]])).toBe('[\n  [\n    "a"\n  ]\n]\n');
    expect(typeof strata.evaluateSeries).toBe("function");
  });
});
