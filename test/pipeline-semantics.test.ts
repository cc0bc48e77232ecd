// Interpreter behaviour beyond the recorded cases: --lenient, errors before any
// graph work, no recursion limit (a 1,000,000-deep chain), the extension hook,
// and popularity_contest against an independent oracle on random DAGs.
import { describe, expect, it } from "vitest";
import { PipelineError } from "../src/errors.js";
import { Closure } from "../src/graph/closure.js";
import { readClosureDocument, type ClosureEntry } from "../src/graph/document.js";
import { kernels, type BackendName, type Kernels } from "../src/kernels/index.js";
import { ExtensionRegistry, layersForDocument, parsePipeline, pipelineToJson, runPipeline, type PipelineExtension } from "../src/pipeline/index.js";
import { naivePopularityOrder } from "./helpers/pipeline-naive-popularity.js";

const e = (path: string, narSize: number, references: string[] = []) => ({ path, narSize, references });

// A -> B -> C, A -> C; D alone. narSize order: C, B, D, A.
const small = [e("A", 4, ["B", "C"]), e("B", 2, ["C"]), e("C", 1), e("D", 3)];

function run(entries: ClosureEntry[], pipeline: unknown, opts: { lenient?: boolean; backend?: BackendName; extensions?: ExtensionRegistry } = {}) {
  return layersForDocument(readClosureDocument(entries), {
    pipeline,
    lenient: opts.lenient,
    kernels: kernels(opts.backend ?? "ts"),
    extensions: opts.extensions,
  });
}

function pipelineError(fn: () => unknown): PipelineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    return err as PipelineError;
  }
  throw new Error("expected a PipelineError");
}

/** A backend whose every kernel call fails: proves no graph work happened. */
const untouchable: Kernels = new Proxy({} as Kernels, {
  get(_t, prop) {
    if (prop === "backend") return "ts";
    return () => {
      throw new Error(`graph work happened: kernels.${String(prop)}`);
    };
  },
});

describe("--lenient", () => {
  const p = [
    ["split_paths", ["A"]],
    ["over", "common", ["popularity_contest"]],
  ];

  it("strict (default): over on a missing key fails like nixpkgs' KeyError, naming the step", () => {
    const err = pipelineError(() => run(small, p));
    expect(err.message).toMatch(/^pipeline\[1\]: over "common": the dict has no "common" part here \(it has "main", "rest"/);
  });

  it("lenient: the dict passes through unchanged", () => {
    expect(run(small, p, { lenient: true })).toEqual(run(small, [["split_paths", ["A"]]]));
    // ... and present keys are still transformed.
    // split_paths B: main B, common C (A -> C survives), rest A, D (two roots, popularity 1 each).
    expect(
      run(
        small,
        [
          ["split_paths", ["B"]],
          ["over", "rest", ["popularity_contest"]],
        ],
        { lenient: true },
      ),
    ).toEqual([["B"], ["C"], ["A"], ["D"]]);
  });
});

describe("errors are raised before any graph work when the pipeline alone decides them", () => {
  const closure = Closure.fromDocument(readClosureDocument(small));
  const cases: [string, unknown, RegExp][] = [
    ["popularity_contest on a dict", [["split_paths", ["A"]], ["popularity_contest"]], /^pipeline\[1\]: popularity_contest expects a graph, got a dict/],
    [
      "map over a dict",
      [
        ["subcomponent_out", ["A"]],
        ["map", ["flatten"]],
      ],
      /^pipeline\[1\]: map expects a list, got a dict \(keys main, rest\)/,
    ],
    ["a bare graph", [["remove_paths", ["A"]]], /^pipeline: the pipeline ends with a single graph/],
    ["reverse on a graph", [["reverse"]], /^pipeline\[0\]: reverse expects a list, got a graph/],
    [
      "nested kind error in pipe",
      [["pipe", [["popularity_contest"], ["split_every", 1]]]],
      /^pipeline\[0\]\[1\]\[1\]: split_every expects a graph, got a list of graphs/,
    ],
  ];
  it.each(cases)("%s", (_n, json, message) => {
    const err = pipelineError(() => runPipeline(closure, parsePipeline(json), { kernels: untouchable }));
    expect(err.message).toMatch(message);
  });

  it("a mismatch inside map over an EMPTY list does not fail (nixpkgs' map is lazy)", () => {
    const empty = readClosureDocument([]);
    expect(layersForDocument(empty, { pipeline: [["popularity_contest"], ["map", ["over", "main", ["flatten"]]]], kernels: kernels("ts") })).toEqual([]);
    // ...but fails, at the step, as soon as there is an element.
    expect(pipelineError(() => run(small, [["popularity_contest"], ["map", ["over", "main", ["flatten"]]]])).message).toMatch(
      /^pipeline\[1\]\[1\]: over expects a dict, got a graph \(1 path\)/,
    );
  });

  it("limit_layers merging dicts fails only when it has to merge", () => {
    const p = (n: number) => [["popularity_contest"], ["map", ["subcomponent_out", ["A"]]], ["limit_layers", n]];
    // 4 dicts, limit 5: nothing to merge, the dicts are flattened at the end.
    // Popularity (by hand): C 4, B 2, A 1, D 1 (tie: A before D).
    expect(run(small, p(5))).toEqual([["C"], ["B"], ["A"], ["D"]]);
    expect(pipelineError(() => run(small, p(2))).message).toMatch(
      /^pipeline\[2\]: limit_layers merges the elements from position 2 on into one graph, but element 2 is a dict/,
    );
  });
});

describe("no recursion limit", () => {
  it("a 1,000,000-deep chain under the default pipeline and under subcomponent_out", () => {
    const n = 1_000_000;
    const name = (i: number) => `/nix/store/${String(i).padStart(32, "0")}-p-${i}`;
    const entries: ClosureEntry[] = new Array(n);
    // p-0 -> p-1 -> ... -> p-(n-1); narSize decreasing along the chain.
    for (let i = 0; i < n; i++) entries[i] = { path: name(i), narSize: n - i, references: i + 1 < n ? [name(i + 1)] : [] };
    const closure = Closure.fromEntries(entries);
    const layers = runPipeline(closure, parsePipeline([["popularity_contest"], ["limit_layers", 99]]), { kernels: kernels("ts") });
    // Popularity along a chain = depth + 1: deepest first; the remainder merged in that order.
    expect(layers).toHaveLength(99);
    for (let j = 0; j < 98; j++) expect(layers[j]).toEqual([name(n - 1 - j)]);
    expect(layers[98]).toHaveLength(n - 98);
    expect(layers[98][0]).toBe(name(n - 99));
    expect(layers[98][n - 99]).toBe(name(0));

    const split = runPipeline(closure, parsePipeline([["subcomponent_out", [name(n / 2)]]]), { kernels: kernels("ts") });
    // Vertex order is narSize ascending = deepest first.
    expect(split.map((l) => l.length)).toEqual([n / 2, n / 2]);
    expect(split[0][0]).toBe(name(n - 1));
    expect(split[1][0]).toBe(name(n / 2 - 1));
  }, 120_000);
});

describe("no recursion limit on the pipeline's own nesting either", () => {
  it("a pipeline nested 100,000 pipes deep parses, checks, runs and prints back", () => {
    const d = 100_000;
    const text = "[" + '["pipe",['.repeat(d) + '["popularity_contest"]' + "]]".repeat(d) + "]";
    const json = JSON.parse(text);
    const model = parsePipeline(json);
    expect(run(small, json)).toEqual([["C"], ["B"], ["A"], ["D"]]);
    // Walk the JSON back down without recursion: the same shape.
    let x = pipelineToJson(model) as unknown[];
    for (let i = 0; i < d; i++) x = (x[0] as unknown[])[1] as unknown[];
    expect(x).toEqual([["popularity_contest"]]);
    // And errors deep inside are located.
    const bad = "[" + '["pipe",['.repeat(3) + '["limit_layers", 0]' + "]]".repeat(3) + "]";
    expect(pipelineError(() => run(small, JSON.parse(bad))).location).toBe("pipeline[0][1][0][1][0][1][0][1]");
  });
});

describe("extension steps", () => {
  // A toy strategy: one layer per path whose narSize is odd, the rest together.
  const oddOnes: PipelineExtension = {
    name: "odd_ones",
    summary: '["odd_ones", label]: graph -> list of graphs',
    output: "list",
    checkArgs: (args) => (args.length === 1 && typeof args[0] === "string" ? undefined : { message: "expects one label string" }),
    apply(graph, _args) {
      const odd: number[][] = [];
      const even: number[] = [];
      graph.vertices.forEach((v, i) => (graph.closure.narSize[v] % 2 === 1 ? odd.push([i]) : even.push(i)));
      expect(graph.ref.n).toBe(graph.vertices.length);
      return [...odd, even.reverse()];
    },
  };
  const registry = new ExtensionRegistry([oddOnes]);

  it("runs inside over, with its arguments checked before any work", () => {
    const p = [
      ["subcomponent_out", ["B"]],
      ["over", "main", ["odd_ones", "x"]],
    ];
    // main = B, C (narSize 2, 1): C alone, then [B]; rest = A, D.
    expect(run(small, p, { extensions: registry })).toEqual([["C"], ["B"], ["D", "A"]]);
    expect(pipelineError(() => run(small, [["odd_ones"]], { extensions: registry })).message).toBe("pipeline[0]: odd_ones expects one label string");
    expect(pipelineError(() => run(small, [["odd_ones", "x"]])).message).toMatch(/unknown step "odd_ones"/);
    expect(pipelineError(() => run(small, [["popularity_contest"], ["odd_ones", "x"]], { extensions: registry })).message).toMatch(
      /^pipeline\[1\]: odd_ones expects a graph, got a list/,
    );
  });

  it("cannot shadow nixpkgs steps", () => {
    expect(() => new ExtensionRegistry([{ ...oddOnes, name: "flatten" }])).toThrow(/shadow/);
  });
});

describe("popularity_contest against the independent oracle on random DAGs", () => {
  function randomDag(seed: number, n: number, forest: boolean): ClosureEntry[] {
    let s = seed >>> 0;
    const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const names = Array.from({ length: n }, (_, i) => `/nix/store/${(i * 7919 + seed).toString(36).padStart(8, "x")}-pkg${Math.floor(rnd() * 5)}-${i % 3}`);
    const refs: string[][] = names.map(() => []);
    for (let i = 1; i < n; i++) {
      const parents = forest ? 1 : 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < parents; k++) {
        if (forest && rnd() < 0.1) continue; // a new root
        const p = Math.floor(rnd() * i);
        if (!refs[p].includes(names[i])) refs[p].push(names[i]);
      }
    }
    return names.map((path, i) => ({ path, narSize: Math.floor(rnd() * 4), references: refs[i] }));
  }

  for (const backend of ["ts", "wasm"] as BackendName[]) {
    it(`${backend}: random DAGs and forests`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const entries = randomDag(seed, 5 + seed * 3, seed % 2 === 0);
        const got = run(entries, [["popularity_contest"]], { backend }).map((l) => l[0]);
        expect(got).toEqual(naivePopularityOrder(entries));
      }
    });
  }
});
