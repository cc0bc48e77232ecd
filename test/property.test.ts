// Properties of every strategy and of the pipeline language on random
// Nix-like closures (fast-check):
//   * coverage: every path no operation removed is in exactly one layer, and
//     no layer is empty;
//   * budget: the layer count stays within the budget, min-pull's layers
//     within the size bounds;
//   * determinism: the same bytes from the Wasm kernels and the TS twins,
//     whatever the JSON key order, the order of each references list or the
//     reader (JSON.parse or streaming);
//   * round trips: pipeline JSON -> model -> JSON, and plan -> `--format
//     pipeline` -> plan (src/format/pipeline.ts).
// fast-check prints the seed of a failure; STRATA_SEED=<seed> replays it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Closure } from "../src/graph/closure.js";
import { readClosureDocument, type ClosureDocument } from "../src/graph/document.js";
import { parseClosureBytes } from "../src/io/stream-json.js";
import { formatLayersIndented } from "../src/format/python-json.js";
import { pipelineForPlan } from "../src/format/pipeline.js";
import { tsKernels } from "../src/kernels/ts/backend.js";
import { kernels } from "../src/kernels/index.js";
import { layersForDocument, parsePipeline, pipelineExtensions, pipelineToJson } from "../src/pipeline/index.js";
import { planWithGroups } from "../src/strategies/groups.js";
import { findStrategy, strategies, type Layers } from "../src/strategies/index.js";
import { minPullLayers } from "../src/strategies/min-pull/index.js";
import { envSeed, fuzzScale, nixLikeClosure, Rng, scaledTimeout, shuffledKeysJson } from "./helpers/fuzz.js";
import { randomPipeline } from "./helpers/fuzz-pipelines.js";

/**
 * fast-check parameters: STRATA_SEED (and optionally STRATA_FC_PATH, both as
 * fast-check prints them) replay a failure; STRATA_FUZZ_SCALE runs more.
 */
function params(numRuns: number): fc.Parameters<unknown> {
  const seed = envSeed();
  const path = process.env.STRATA_FC_PATH;
  return {
    numRuns: Math.round(numRuns * fuzzScale()),
    // fast-check seeds are int32: `| 0` turns envSeed's u32 back into the printed value.
    ...(seed !== undefined ? { seed: seed | 0 } : {}),
    ...(path ? { path } : {}),
  };
}

/** A random closure: n paths, odd names sometimes, plus a random subset to exclude. */
const closureArb = fc
  .record({
    n: fc.integer({ min: 0, max: 45 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    odd: fc.boolean(),
    excludeRate: fc.constantFrom(0, 0, 0.1, 0.3),
  })
  .map(({ n, seed, odd, excludeRate }) => {
    const rng = new Rng(seed);
    const entries = nixLikeClosure(rng, { n, oddNames: odd });
    const exclude = entries.filter(() => rng.chance(excludeRate)).map((e) => e.path);
    return { entries, exclude, seed };
  });

/** Every path of `expected` exactly once, nothing else, no empty layer. */
function expectPartition(layers: Layers, expected: Iterable<string>, label: string): void {
  const seen = new Map<string, number>();
  layers.forEach((layer, i) => {
    expect(layer.length, `${label}: layer ${i} is empty`).toBeGreaterThan(0);
    for (const p of layer) {
      expect(seen.has(p), `${label}: ${JSON.stringify(p)} in layers ${seen.get(p)} and ${i}`).toBe(false);
      seen.set(p, i);
    }
  });
  const want = new Set(expected);
  for (const p of want) expect(seen.has(p), `${label}: ${JSON.stringify(p)} is missing`).toBe(true);
  for (const p of seen.keys()) expect(want.has(p), `${label}: ${JSON.stringify(p)} should not be there`).toBe(true);
}

/** The options under which each strategy must stay within `bound` layers. */
function budgetOptions(name: string, maxLayers: number, fromImageLayers: number): { options: Record<string, unknown>; bound: number } {
  const bound = maxLayers - 1 - fromImageLayers;
  if (name === "nixery") return { options: { budget: bound }, bound };
  return { options: { maxLayers, fromImageLayers }, bound };
}

describe("properties: every strategy", () => {
  it(
    "covers every path not excluded exactly once, without empty layers, within the layer budget",
    () => {
      fc.assert(
        fc.property(closureArb, fc.integer({ min: 2, max: 30 }), fc.integer({ min: 0, max: 5 }), ({ entries, exclude }, maxLayers, base) => {
          const fromImageLayers = Math.min(base, maxLayers - 2);
          const doc = readClosureDocument(entries);
          const excluded = new Set(exclude);
          const kept = entries.map((e) => e.path).filter((p) => !excluded.has(p));
          for (const s of strategies) {
            const { options, bound } = budgetOptions(s.name, maxLayers, fromImageLayers);
            const { layers } = s.plan(doc, { ...options, exclude });
            expectPartition(layers, kept, s.name);
            expect(layers.length, `${s.name}: ${layers.length} layers for a budget of ${bound}`).toBeLessThanOrEqual(bound);
          }
          // Groups pin some paths first; the rest goes to popularity with what is left.
          const budget = maxLayers - 1 - fromImageLayers;
          let grouped;
          try {
            grouped = planWithGroups(
              doc,
              { budget, groups: [{ name: "base", match: "glibc*|bash*" }] },
              (rest, b) => findStrategy("popularity")!.plan(rest, { maxLayers: b + 1 }).layers,
            );
          } catch (e) {
            // Allowed only when the group leaves no layer for the other paths.
            expect((e as Error).name).toBe("UsageError");
            expect(budget).toBe(1);
            return;
          }
          expectPartition(
            grouped.layers.map((l) => l.paths),
            entries.map((e) => e.path),
            "groups",
          );
          expect(grouped.layers.length).toBeLessThanOrEqual(budget);
        }),
        params(200),
      );
    },
    scaledTimeout(60_000),
  );

  it(
    "min-pull keeps merged layers within maxLayerSize and, when there are several, above minLayerSize",
    () => {
      fc.assert(
        fc.property(
          closureArb,
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 0, max: 2 ** 21 }),
          fc.integer({ min: 0, max: 2 ** 19 }),
          ({ entries }, budget, maxLayerSize, minLayerSize) => {
            const doc = readClosureDocument(entries);
            const size = new Map(entries.map((e) => [e.path, e.narSize]));
            const bytes = (l: string[]) => l.reduce((a, p) => a + size.get(p)!, 0);
            let result;
            try {
              result = minPullLayers(doc, { budget, maxLayerSize });
            } catch (e) {
              // The only allowed failure: the budget cannot be met under the size cap.
              expect((e as Error).message).toMatch(/cannot fit .* without exceeding the maximum layer size/);
              return;
            }
            expectPartition(
              result.layers,
              entries.map((e) => e.path),
              "min-pull max",
            );
            expect(result.layers.length).toBeLessThanOrEqual(budget);
            for (const l of result.layers) if (l.length > 1) expect(bytes(l)).toBeLessThanOrEqual(maxLayerSize);
            const low = minPullLayers(doc, { budget, minLayerSize });
            expectPartition(
              low.layers,
              entries.map((e) => e.path),
              "min-pull min",
            );
            expect(low.layers.length).toBeLessThanOrEqual(budget);
            if (low.layers.length > 1) for (const l of low.layers) expect(bytes(l)).toBeGreaterThanOrEqual(minLayerSize);
          },
        ),
        params(200),
      );
    },
    scaledTimeout(60_000),
  );
});

describe("properties: determinism", () => {
  /** Every strategy's output bytes, with the given kernels. */
  function outputs(doc: ClosureDocument, backend: "wasm" | "ts"): string[] {
    return strategies.map((s) => s.name + "\n" + formatLayersIndented(s.plan(doc, { maxLayers: 8, kernels: kernels(backend) }).layers));
  }

  it(
    "the same bytes from Wasm and TS kernels, any JSON key order, any references order, either reader",
    () => {
      fc.assert(
        fc.property(closureArb, fc.integer(), ({ entries }, shuffleSeed) => {
          const rng = new Rng(shuffleSeed);
          const want = outputs(readClosureDocument(entries), "wasm");
          expect(outputs(readClosureDocument(entries), "ts")).toEqual(want);
          // References reordered and repeated, keys in a random order; entries stay in order
          // (their order breaks narSize ties in nixpkgs, so it legitimately matters).
          const shuffled = entries.map((e) => ({ ...e, references: rng.shuffle([...e.references, ...e.references.filter(() => rng.chance(0.2))]) }));
          const text = shuffledKeysJson(shuffled, rng);
          expect(outputs(readClosureDocument(JSON.parse(text)), "wasm")).toEqual(want);
          expect(outputs(parseClosureBytes(new TextEncoder().encode(text)), "ts")).toEqual(want);
        }),
        params(120),
      );
    },
    scaledTimeout(60_000),
  );
});

describe("properties: random pipelines", () => {
  it(
    "keep every path no remove_paths names, each once, no empty layer; Wasm and TS agree",
    () => {
      let ran = 0;
      fc.assert(
        fc.property(closureArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), ({ entries, exclude }, pSeed) => {
          const rng = new Rng(pSeed);
          const p = randomPipeline(
            rng,
            entries.map((e) => e.path),
          );
          const doc: ClosureDocument = { ...readClosureDocument(entries), pipeline: p.json };
          let layers: Layers;
          try {
            layers = layersForDocument(doc, { exclude, lenient: true });
          } catch (e) {
            // Well-kinded pipelines fail only where nixpkgs does: limit_layers merging non-graphs.
            expect((e as Error).name).toBe("PipelineError");
            return;
          }
          ran++;
          expect(layersForDocument(doc, { exclude, lenient: true, kernels: tsKernels })).toEqual(layers);
          const excluded = new Set(exclude);
          const all = new Set(entries.map((e) => e.path).filter((x) => !excluded.has(x)));
          const seen = new Set<string>();
          for (const layer of layers) {
            expect(layer.length).toBeGreaterThan(0);
            for (const x of layer) {
              expect(all.has(x), `${x} is not in the closure`).toBe(true);
              expect(seen.has(x), `${x} twice`).toBe(false);
              seen.add(x);
            }
          }
          for (const x of all) if (!p.removable.has(x)) expect(seen.has(x), `${x} vanished; pipeline ${JSON.stringify(p.json)}`).toBe(true);
          if (p.limit !== undefined) expect(layers.length).toBeLessThanOrEqual(p.limit);
        }),
        params(800),
      );
      expect(ran).toBeGreaterThan(100 * fuzzScale());
    },
    scaledTimeout(60_000),
  );

  it("pipeline JSON -> model -> JSON is the identity (text too)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(fc.string({ unit: "binary", minLength: 1 }), { minLength: 1, maxLength: 6 }),
        (seed, paths) => {
          const { json } = randomPipeline(new Rng(seed), paths, 4);
          const model = parsePipeline(json, { extensions: pipelineExtensions });
          expect(pipelineToJson(model)).toEqual(json);
          const text = JSON.stringify(json);
          expect(JSON.stringify(pipelineToJson(parsePipeline(JSON.parse(text))))).toBe(text);
        },
      ),
      params(800),
    );
  });
});

describe("properties: plan -> pipeline format -> plan", () => {
  it(
    "every strategy's plan, run back through its --format pipeline, gives the same layers",
    () => {
      fc.assert(
        fc.property(closureArb, fc.integer({ min: 2, max: 12 }), ({ entries }, maxLayers) => {
          const doc = readClosureDocument(entries);
          for (const s of strategies) {
            const { options } = budgetOptions(s.name, maxLayers, 0);
            const { layers } = s.plan(doc, options);
            const made = pipelineForPlan(doc, layers);
            expect(layersForDocument(doc, { pipeline: made.pipeline }), s.name).toEqual(layers);
          }
        }),
        params(120),
      );
    },
    scaledTimeout(60_000),
  );

  it("any partition of any subset, in any order, round-trips (paths left out are removed)", () => {
    fc.assert(
      fc.property(closureArb, fc.integer(), ({ entries }, seed) => {
        const rng = new Rng(seed);
        const doc = readClosureDocument(entries);
        const chosen = rng.shuffle(entries.map((e) => e.path).filter(() => rng.chance(0.8)));
        const layers: Layers = [];
        for (const p of chosen) {
          if (layers.length === 0 || rng.chance(0.3)) layers.push([p]);
          else layers[rng.int(layers.length)].push(p);
        }
        const made = pipelineForPlan(doc, layers);
        expect(made.removed.length).toBe(entries.length - chosen.length);
        expect(layersForDocument(doc, { pipeline: made.pipeline })).toEqual(layers);
        // Also through the model: the pipeline is plain nixpkgs JSON.
        expect(pipelineToJson(parsePipeline(made.pipeline))).toEqual(made.pipeline);
      }),
      params(100),
    );
  });

  it("the closure object is the same through either reader (sanity for the determinism property)", () => {
    const entries = nixLikeClosure(new Rng(5), { n: 30, oddNames: true });
    const a = Closure.fromDocument(readClosureDocument(entries));
    const b = Closure.fromDocument(parseClosureBytes(new TextEncoder().encode(JSON.stringify(entries))));
    expect(b.paths).toEqual(a.paths);
    expect([...b.targets]).toEqual([...a.targets]);
  });
});
