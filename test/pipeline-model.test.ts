// The typed pipeline model: JSON -> model -> JSON identity, located parse
// errors, the builder, and the static checker.
import { describe, expect, it } from "vitest";
import { PipelineError } from "../src/errors.js";
import { checkPipeline, parsePipeline, pipeline, pipelineToJson, PipelineBuilder, type Pipeline, type Step } from "../src/pipeline/index.js";
import { requireShared, listJson, readJsonFile, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();

function parseError(json: unknown): PipelineError {
  try {
    parsePipeline(json);
  } catch (e) {
    expect(e).toBeInstanceOf(PipelineError);
    return e as PipelineError;
  }
  throw new Error(`expected ${JSON.stringify(json)} to be rejected`);
}

const py = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-python3-3.12.8";
const app = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-my-app-1.0";

describe("JSON -> model -> JSON", () => {
  const samples: unknown[] = [
    [],
    [["popularity_contest"], ["limit_layers", 99]],
    [["split_paths", "B"]],
    [["split_paths", ["A", { children_of: "B" }, { children_of: ["C", "D"] }]]],
    [
      ["subcomponent_out", [py]],
      ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 100]]]],
    ],
    [["remove_paths", "A"]],
    [["remove_paths", ["A", "B"]]],
    [["split_every", -3], ["reverse"], ["flatten"], ["map", ["pipe", []]]],
  ];

  it.each(samples.map((s) => [JSON.stringify(s), s] as const))("%s", (_t, s) => {
    expect(pipelineToJson(parsePipeline(s))).toEqual(s);
  });

  it("round-trips every pipeline of the compat cases that parses", () => {
    let parsed = 0;
    for (const folder of ["flatten", "random"]) {
      for (const f of listJson(sharedPath("compat", folder))) {
        const c = readJsonFile(f) as { input: { pipeline?: unknown } };
        if (c.input.pipeline === undefined) continue;
        let model: Pipeline;
        try {
          model = parsePipeline(c.input.pipeline);
        } catch {
          continue;
        }
        parsed++;
        // Through the text too, as a file would carry it.
        expect(JSON.parse(JSON.stringify(pipelineToJson(model)))).toEqual(c.input.pipeline);
      }
    }
    expect(parsed).toBeGreaterThan(300);
  });

  it("model is a discriminated union", () => {
    const m = parsePipeline([["over", "main", ["limit_layers", 3]]]);
    const s: Step = m[0];
    expect(s.op).toBe("over");
    if (s.op === "over") {
      expect(s.key).toBe("main");
      expect(s.step).toEqual({ op: "limit_layers", count: 3 });
    }
  });
});

describe("parse errors name the step, what was expected and what was found", () => {
  it("over arity, nested: the example of the issue", () => {
    const e = parseError([
      ["split_paths", ["A"]],
      ["over", "main", ["over", "rest", ["flatten"], 1]],
    ]);
    expect(e.message).toBe("pipeline[1][2]: over expects a key and a step, got 3 arguments");
    expect(e.location).toBe("pipeline[1][2]");
  });

  it("top-level over with 3 arguments (nixpkgs: ValueError too many values to unpack)", () => {
    expect(
      parseError([
        ["split_paths", ["B"]],
        ["over", "main", ["popularity_contest"], 1],
      ]).message,
    ).toBe("pipeline[1]: over expects a key and a step, got 3 arguments");
  });

  it("unknown names, with a suggestion", () => {
    const e = parseError([["popularity-contest"]]);
    expect(e.message).toMatch(/^pipeline\[0\]\[0\]: unknown step "popularity-contest"; did you mean "popularity_contest"\?/);
    expect(parseError([["map", ["pipe", [["sort"]]]]]).message).toMatch(/^pipeline\[0\]\[1\]\[1\]\[0\]\[0\]: unknown step "sort"/);
  });

  it("limit_layers <= 0 and non-integers", () => {
    expect(parseError([["popularity_contest"], ["limit_layers", 0]]).message).toMatch(/^pipeline\[1\]\[1\]: limit_layers needs a count greater than 0, got 0/);
    expect(parseError([["popularity_contest"], ["limit_layers", -3]]).message).toMatch(/got -3/);
    expect(parseError([["popularity_contest"], ["limit_layers", 2.5]]).message).toMatch(/whole number of layers, got number 2.5/);
    expect(parseError([["popularity_contest"], ["limit_layers", "99"]]).message).toMatch(/got "99"/);
  });

  it("split_every 0", () => {
    expect(parseError([["split_every", 0]]).message).toMatch(/^pipeline\[0\]\[1\]: split_every needs a chunk size other than 0/);
  });

  it("argument counts of argument-less steps", () => {
    expect(parseError([["popularity_contest", 3]]).message).toBe("pipeline[0]: popularity_contest takes no arguments, got 1 argument");
  });

  it("bad split specs (nixpkgs: Exception Unexpected split path spec)", () => {
    expect(parseError([["split_paths", [{ x: "A" }]]]).message).toMatch(/^pipeline\[0\]\[1\]\[0\]: split_paths spec must be a path or \{"children_of"/);
    expect(parseError([["split_paths", [{ children_of: 3 }]]]).message).toMatch(
      /^pipeline\[0\]\[1\]\[0\]\.children_of: children_of expects a list of paths, got number 3/,
    );
  });

  it("shapes", () => {
    expect(parseError({ pipeline: [] }).message).toMatch(/^pipeline: a pipeline is a list of steps/);
    expect(parseError(["popularity_contest"]).message).toMatch(
      /^pipeline\[0\]: a step is a list \[name, arguments\.\.\.\], got "popularity_contest" \(write \["popularity_contest"\]\)/,
    );
    expect(parseError([["subcomponent_out", "A"]]).message).toMatch(/subcomponent_out expects a list of paths, got "A" \(write \["A"\]\)/);
    expect(parseError([["over", 1, ["flatten"]]]).message).toMatch(/^pipeline\[0\]\[1\]: over expects a dict key/);
  });
});

describe("builder", () => {
  it("compiles to the hand-written JSON (one nested step stays bare, several become pipe)", () => {
    const built = pipeline()
      .subcomponentOut([py])
      .over("rest", (p) => p.popularityContest().limitLayers(100))
      .toJson();
    expect(built).toEqual([
      ["subcomponent_out", [py]],
      ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 100]]]],
    ]);
    expect(
      pipeline()
        .splitPaths([py])
        .over("main", (p) => p.popularityContest())
        .toJson(),
    ).toEqual([
      ["split_paths", [py]],
      ["over", "main", ["popularity_contest"]],
    ]);
  });

  it("covers every step and round-trips through parse", () => {
    const b = pipeline()
      .splitPaths([py, { childrenOf: app }, { childrenOf: [py, app] }])
      .over("common", (p) => p.subcomponentIn([app]))
      .flatten()
      .map((p) => p.removePaths(app))
      .map((p) => p.removePaths([py]).splitEvery(3))
      .flatten()
      .reverse()
      .limitLayers(5)
      .pipe((p) => p.flatten());
    const json = b.toJson();
    expect(pipelineToJson(parsePipeline(json))).toEqual(json);
    expect(parsePipeline(json)).toEqual(b.build());
    expect(PipelineBuilder.from(json).popularityContest().steps.length).toBe(b.steps.length + 1);
  });

  it("builder-made models are validated like parsed ones", () => {
    const issues = checkPipeline(pipeline().popularityContest().limitLayers(0).build()).issues;
    expect(issues.some((i) => i.severity === "error" && /limit_layers needs a count greater than 0/.test(i.message))).toBe(true);
  });
});

describe("static checker", () => {
  const errors = (json: unknown, lenient = false) =>
    checkPipeline(parsePipeline(json), { lenient })
      .issues.filter((i) => i.severity === "error")
      .map((i) => i.message);
  const all = (json: unknown, lenient = false) => checkPipeline(parsePipeline(json), { lenient }).issues;

  it("accepts the common pipelines", () => {
    expect(errors([["popularity_contest"], ["limit_layers", 99]])).toEqual([]);
    expect(
      errors([
        ["subcomponent_out", [py]],
        ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 98]]]],
      ]),
    ).toEqual([]);
    expect(errors([["split_paths", [py]], ["over", "main", ["popularity_contest"]], ["flatten"], ["limit_layers", 50]])).toEqual([]);
  });

  it("popularity_contest on a dict", () => {
    expect(errors([["split_paths", [py]], ["popularity_contest"]])).toEqual([
      `pipeline[1]: popularity_contest expects a graph, got a dict (keys main, common, rest); apply it to one part with ["over", "rest", ...] or make a list with ["flatten"] and use ["map", ...]`,
    ]);
  });

  it("map over a dict", () => {
    expect(
      errors([
        ["split_paths", ["B"]],
        ["map", ["popularity_contest"]],
      ])[0],
    ).toMatch(/^pipeline\[1\]: map expects a list, got a dict \(keys main, common, rest\); nixpkgs would iterate the dict's keys/);
  });

  it("a pipeline ending in a bare graph, and the empty pipeline", () => {
    expect(errors([["remove_paths", "A"]])[0]).toMatch(/^pipeline: the pipeline ends with a single graph/);
    expect(errors([])[0]).toMatch(/^pipeline: the pipeline is empty/);
    expect(
      errors([
        ["subcomponent_out", ["A"]],
        ["over", "main", ["remove_paths", "A"]],
      ]),
    ).toEqual([]);
  });

  it("split_every on a list, over on a list, over on a key that never exists", () => {
    expect(errors([["popularity_contest"], ["split_every", 2]])[0]).toMatch(
      /^pipeline\[1\]: split_every expects a graph, got a list of graphs; apply it to each element with \["map", \.\.\.\]/,
    );
    expect(
      errors([
        ["split_every", 2],
        ["over", "main", ["popularity_contest"]],
      ])[0],
    ).toMatch(/^pipeline\[1\]: over expects a dict, got a list of graphs/);
    expect(
      errors([
        ["subcomponent_out", ["A"]],
        ["over", "common", ["popularity_contest"]],
      ])[0],
    ).toMatch(/^pipeline\[1\]\[1\]: over: the dict here never has the key "common" \(it can have "main", "rest"\)/);
  });

  it("mismatches inside map are conditional (nixpkgs' map is lazy: an empty list never fails)", () => {
    const issues = all([["popularity_contest"], ["map", ["over", "main", ["flatten"]]]]);
    expect(issues.map((i) => [i.severity, i.location])).toEqual([["conditional", "pipeline[1][1]"]]);
  });

  it("over a maybe-missing split_paths part: a warning, and in strict mode errors below it are certain", () => {
    const issues = all([
      ["split_paths", ["A"]],
      ["over", "common", ["popularity_contest"]],
    ]);
    expect(issues.map((i) => [i.severity, i.code])).toEqual([["warning", "maybe-missing-key"]]);
    expect(
      errors([
        ["split_paths", ["A"]],
        ["over", "common", ["over", "main", ["flatten"]]],
      ]),
    ).toHaveLength(1);
    const lenient = all(
      [
        ["split_paths", ["A"]],
        ["over", "common", ["over", "main", ["flatten"]]],
      ],
      true,
    );
    expect(lenient.filter((i) => i.severity === "error")).toEqual([]);
    expect(lenient.some((i) => i.severity === "conditional")).toBe(true);
  });

  it("warns about string split specs and negative split_every", () => {
    expect(all([["split_paths", "AB"], ["flatten"]]).map((i) => i.code)).toEqual(["string-spec"]);
    expect(all([["split_every", -1]]).map((i) => i.code)).toEqual(["paths-vanish"]);
  });
});

describe("the recipes of docs/pipeline.md", async () => {
  const { readClosureDocument } = await import("../src/graph/document.js");
  const { layersForDocument } = await import("../src/pipeline/index.js");
  const { kernels } = await import("../src/kernels/index.js");
  const { readFileSync } = await import("node:fs");
  const p = (h: string, name: string) => `/nix/store/${h.repeat(32)}-${name}`;
  const [appP, python, libfoo, glibc, zlib, bash] = [
    p("a", "app-1.0"),
    p("p", "python3-3.12.8"),
    p("f", "libfoo-2.0"),
    p("g", "glibc-2.40-66"),
    p("z", "zlib-1.3.1"),
    p("b", "bash-5.2p37"),
  ];
  const entry = (path: string, narSize: number, references: string[]) => ({ path, narSize, references: [path, ...references] });
  // app -> python, libfoo; python -> glibc, zlib; libfoo -> glibc; bash -> glibc. Roots: app, bash.
  const graph = [
    entry(appP, 50, [python, libfoo]),
    entry(bash, 20, [glibc]),
    entry(glibc, 30, []),
    entry(libfoo, 5, [glibc]),
    entry(python, 40, [glibc, zlib]),
    entry(zlib, 3, []),
  ];
  const layers = (pipe: unknown) => layersForDocument(readClosureDocument({ graph, pipeline: pipe }), { kernels: kernels("ts") });

  // Expected layers worked out by hand (vertex order = narSize ascending; popularity per part).
  const recipes: [string, PipelineBuilder, string[][]][] = [
    [
      "python base in its own layer",
      pipeline()
        .subcomponentOut([python])
        .over("rest", (r) => r.popularityContest().limitLayers(98)),
      [[zlib, glibc, python], [libfoo], [appP], [bash]],
    ],
    [
      "the app in its own layer",
      pipeline()
        .subcomponentIn([appP])
        .over("rest", (r) => r.popularityContest().limitLayers(98)),
      [[appP], [glibc], [zlib], [bash], [libfoo], [python]],
    ],
    [
      "both combined",
      pipeline()
        .subcomponentOut([python])
        .over("rest", (r) => r.subcomponentIn([appP]).over("rest", (q) => q.popularityContest().limitLayers(97))),
      [[zlib, glibc, python], [appP], [bash], [libfoo]],
    ],
  ];
  it.each(recipes)("%s", (_name, b, want) => {
    expect(layers(b.toJson())).toEqual(want);
  });

  it("the docs show these pipelines verbatim (JSON blocks compiled from the builder)", () => {
    const doc = readFileSync(new URL("../docs/pipeline.md", import.meta.url), "utf8").replace(/\s+/g, "");
    const placeholder = (json: unknown) =>
      JSON.stringify(json).replaceAll(python, "/nix/store/...-python3-3.12.8").replaceAll(appP, "/nix/store/...-my-app-1.0");
    for (const [, b] of recipes) expect(doc).toContain(placeholder(b.toJson()).replace(/\s+/g, ""));
  });
});
