// strata's strategies as pipeline steps, checked against the strategies run directly.
import { describe, expect, it } from "vitest";
import { layersForDocument } from "../src/pipeline/index.js";
import { strategies } from "../src/strategies/index.js";
import { autoLayer } from "../src/strategies/auto-layer/index.js";
import { minPullLayers } from "../src/strategies/min-pull/index.js";
import { readClosureDocument } from "../src/graph/document.js";
import { PipelineError } from "../src/errors.js";
import { listJson, readJsonFile, sharedPath } from "./helpers/shared.js";

void strategies; // importing the registry registers the steps

describe("strategy steps", () => {
  it('["auto_layer", L] on a whole closure equals auto-layer itself (compat cases)', () => {
    const files = listJson(sharedPath("compat/auto-layer")).filter((f) => /deb-img-postgresql-limit(20|99)|syn100-s1-limit10|many-roots-limit9/.test(f));
    expect(files.length).toBe(4);
    for (const f of files) {
      const c = readJsonFile(f) as { input: { graph: unknown }; params: { layer_limit: number }; expected: { layers: string[][] } };
      const doc = readClosureDocument(c.input.graph);
      const viaStep = layersForDocument(doc, { pipeline: [["auto_layer", c.params.layer_limit]] });
      expect(viaStep).toEqual(c.expected.layers);
      expect(viaStep).toEqual(autoLayer(doc.entries, { limit: c.params.layer_limit }).layers);
    }
  });

  it("composes with nixpkgs operations: the app's closure alone, min_pull on the rest", () => {
    const doc = readClosureDocument(readJsonFile(sharedPath("data/debian-bookworm/img-python-scipy.json.gz")));
    const scipy = doc.entries.find((e) => /-python3-scipy-/.test(e.path))!.path;
    const layers = layersForDocument(doc, {
      pipeline: [
        ["subcomponent_out", [scipy]],
        ["over", "rest", ["min_pull", 10]],
      ],
    });
    // main = scipy and its whole closure... everything below it; rest = the other root's private part.
    const main = layers[0];
    expect(main).toContain(scipy);
    expect(layers.length).toBeLessThanOrEqual(11);
    expect(layers.flat().sort()).toEqual(doc.entries.map((e) => e.path).sort());
    // The rest, planned by min_pull inside the pipeline, equals min-pull run on that rest alone.
    const restPaths = new Set(layers.slice(1).flat());
    const restDoc = {
      ...doc,
      entries: doc.entries.filter((e) => restPaths.has(e.path)).map((e) => ({ ...e, references: e.references.filter((r) => restPaths.has(r)) })),
    };
    expect(layers.slice(1)).toEqual(minPullLayers(restDoc, { budget: 10 }).layers);
  });

  it("checks the arguments before any graph work, naming the step", () => {
    const doc = readClosureDocument([{ path: "A", narSize: 1, references: [] }]);
    for (const [pipeline, message] of [
      [[["min_pull", 0]], /min_pull.*at least 1/],
      [[["nixery"]], /nixery.*one argument/],
      [[["auto_layer", "many"]], /auto_layer.*whole number/],
    ] as const) {
      let err: unknown;
      try {
        layersForDocument(doc, { pipeline });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PipelineError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain("pipeline[0]");
    }
  });
});

describe("layer_groups step", () => {
  it("pins groups and plans the rest with the named strategy within the budget", () => {
    const doc = readClosureDocument(readJsonFile(sharedPath("data/debian-bookworm/img-python-scipy.json.gz")));
    const step = [
      "layer_groups",
      {
        groups: [
          { name: "interpreter", match: "python3.11*|libpython3.11*" },
          { name: "scipy", match: "python3-scipy-*", each: true },
        ],
        budget: 12,
        strategy: "auto-layer",
      },
    ];
    const layers = layersForDocument(doc, { pipeline: [step] });
    expect(layers.length).toBeLessThanOrEqual(12);
    expect(layers.flat().sort()).toEqual(doc.entries.map((e) => e.path).sort());
    const name = (p: string) => p.slice(p.indexOf("-") + 1);
    // First layer: every python3.11 / libpython3.11 path, nothing else.
    const interp = doc.entries.map((e) => e.path).filter((p) => /^(python3\.11|libpython3\.11)/.test(name(p)));
    expect(interp.length).toBeGreaterThan(2);
    expect([...layers[0]].sort()).toEqual(interp.sort());
    expect(layers[1].map(name)).toEqual([expect.stringMatching(/^python3-scipy-/)]);
  });

  it("rejects a malformed group spec at check time", () => {
    const doc = readClosureDocument([{ path: "A", narSize: 1, references: [] }]);
    expect(() => layersForDocument(doc, { pipeline: [["layer_groups", { groups: [{ name: "x", match: "re:(" }], budget: 3 }]] })).toThrow(
      /pipeline\[0\].*regular expression/,
    );
    expect(() => layersForDocument(doc, { pipeline: [["layer_groups", { groups: [], budget: 3, strategy: "nope" }]] })).toThrow(/strategy/);
  });
});
