// The layer, popularity and check commands: in-process through runCli with a
// captured io, and the built CLI (dist/, `npm run build`) spawned on real data.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireShared, readJsonFile, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();
import { naivePopularityOrder } from "./helpers/pipeline-naive-popularity.js";
import { builtCli, captureCli, spawnCli } from "./helpers/cli.js";

const cli = captureCli;

const e = (path: string, narSize: number, references: string[] = []) => ({ path, narSize, references });
// A -> B -> C, A -> C; D alone. Popularity (by hand): C 4, B 2, A 1, D 1.
const graph = [e("A", 4, ["B", "C"]), e("B", 2, ["C"]), e("C", 1), e("D", 3)];

let dir: string;
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" || content instanceof Uint8Array ? content : JSON.stringify(content));
  return p;
};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "strata-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const layersOf = (text: string) => JSON.parse(text) as string[][];

describe("strata layer (in-process)", () => {
  it("uses the document's pipeline and exclude_paths", async () => {
    const doc = file("doc.json", { graph, pipeline: [["subcomponent_out", ["B"]]], exclude_paths: ["D"] });
    const r = await cli(["layer", doc, "--backend", "ts"]);
    expect(r).toEqual({ code: 0, out: '[\n  [\n    "C",\n    "B"\n  ],\n  [\n    "A"\n  ]\n]\n', err: "" });
  });

  it("defaults to nixpkgs' default pipeline", async () => {
    const r = await cli(["layer", file("plain.json", graph), "--backend", "ts"]);
    expect(layersOf(r.out)).toEqual([["C"], ["B"], ["A"], ["D"]]);
  });

  it("--pipeline (inline or file) and --exclude override the document", async () => {
    const doc = file("doc2.json", { graph, pipeline: [["subcomponent_out", ["B"]]], exclude_paths: ["D"] });
    const inline = await cli(["layer", doc, "--backend", "ts", "--pipeline", '[["popularity_contest"], ["limit_layers", 2]]', "--exclude", "A"]);
    // A excluded (D no longer): B -> C, D; popularity C 2, B 1, D 1.
    expect(layersOf(inline.out)).toEqual([["C"], ["B", "D"]]);
    const pfile = file("p.json", [["split_every", 3]]);
    const fromFile = await cli(["layer", doc, "--backend", "ts", "--pipeline", pfile]);
    expect(layersOf(fromFile.out)).toEqual([["C", "B", "A"]]);
  });

  it("--max-layers M --from-image-layers B: limit_layers M-1-B, and a clear error when no layer is left", async () => {
    const doc = file("doc3.json", { graph, pipeline: [["split_every", 1]] });
    expect(layersOf((await cli(["layer", doc, "--backend", "ts", "--max-layers", "4", "--from-image-layers", "1"])).out)).toEqual([["C"], ["B", "A", "D"]]);
    const none = await cli(["layer", doc, "--backend", "ts", "--max-layers", "3", "--from-image-layers", "2"]);
    expect(none.code).toBe(2);
    expect(none.out).toBe("");
    expect(none.err).toMatch(/no layer left for store paths: maxLayers 3 must exceed 1 \(customisation layer\) \+ 2 \(base image layers\)/);
  });

  it("--strategy popularity ignores the document's pipeline; unknown strategies and formats are usage errors", async () => {
    const doc = file("doc4.json", { graph, pipeline: [["split_every", 1]] });
    expect(layersOf((await cli(["layer", doc, "--backend", "ts", "--strategy", "popularity", "--max-layers", "3"])).out)).toEqual([["C"], ["B", "A", "D"]]);
    const bad = await cli(["layer", doc, "--strategy", "nope"]);
    expect([bad.code, bad.out]).toEqual([2, ""]);
    expect(bad.err).toMatch(/unknown strategy "nope". Strategies: pipeline, popularity/);
    const fmt = await cli(["layer", doc, "--format", "nope"]);
    expect(fmt.err).toMatch(/has no format "nope"/);
  });

  it("pipeline errors exit 2 with the location and no layers", async () => {
    const doc = file("doc5.json", {
      graph,
      pipeline: [
        ["split_paths", ["B"]],
        ["over", "main", ["popularity_contest"], 1],
      ],
    });
    const r = await cli(["layer", doc, "--backend", "ts"]);
    expect(r).toEqual({ code: 2, out: "", err: "strata: pipeline[1]: over expects a key and a step, got 3 arguments\n" });
    const missing = await cli([
      "layer",
      file("doc6.json", {
        graph,
        pipeline: [
          ["split_paths", ["A"]],
          ["over", "common", ["popularity_contest"]],
        ],
      }),
      "--backend",
      "ts",
    ]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/pipeline\[1\]: over "common"/);
    const lenient = await cli([
      "layer",
      file("doc7.json", {
        graph,
        pipeline: [
          ["split_paths", ["A"]],
          ["over", "common", ["popularity_contest"]],
        ],
      }),
      "--backend",
      "ts",
      "--lenient",
    ]);
    expect(lenient.code).toBe(0);
  });

  it("input errors (cycle) exit 2", async () => {
    const r = await cli(["layer", file("cycle.json", [e("A", 1, ["B"]), e("B", 1, ["A"])]), "--backend", "ts"]);
    expect([r.code, r.out]).toEqual([2, ""]);
    expect(r.err).toMatch(/cycle/);
  });
});

describe("strata popularity (in-process)", () => {
  it("prints closure-graph.py's bytes for its recorded case, narSize not required", async () => {
    const c = readJsonFile(sharedPath("compat", "flatten", "closure_graph-doc-example.json")) as { input: { graph: unknown[] }; expected: { stdout: string } };
    const r = await cli(["popularity", file("cg.json", { graph: c.input.graph }), "--backend", "ts"]);
    expect(r.out).toBe(c.expected.stdout);
  });

  it("an empty graph prints a single newline", async () => {
    expect(await cli(["popularity", file("empty.json", { graph: [] })])).toEqual({ code: 0, out: "\n", err: "" });
  });
});

describe("strata check", () => {
  it("ok, with the result kind", async () => {
    const r = await cli(["check", '[["popularity_contest"], ["limit_layers", 99]]']);
    expect(r).toEqual({ code: 0, out: "ok: 2 steps, result a list of graphs\n", err: "" });
  });

  it("errors with locations exit 2", async () => {
    const r = await cli(["check", '[["split_paths", ["/nix/store/x-a"]], ["popularity_contest"]]']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^pipeline\[1\]: error: popularity_contest expects a graph, got a dict/);
    expect(r.out).toMatch(/1 error, 0 warnings\n$/);
    const parse = await cli(["check", '[["limit_layers", 0]]']);
    expect(parse.out).toMatch(/^pipeline\[0\]\[1\]: error: limit_layers needs a count greater than 0/);
  });

  it("with INPUT: paths the closure lacks are warnings; a document's pipeline is found", async () => {
    const doc = file("doc8.json", {
      graph,
      pipeline: [
        ["subcomponent_out", ["B", "Z"]],
        ["over", "rest", ["popularity_contest"]],
      ],
    });
    const r = await cli(["check", doc, doc]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'pipeline[0][1][1]: warning: "Z" is not in the closure; subcomponent_out ignores it\nok: 2 steps, result a dict (main, rest), 1 warning\n',
    );
  });
});

describe("the built CLI (spawned)", () => {
  const main = builtCli;
  const spawn = (args: string[], input?: Uint8Array) => spawnCli(args, { input });

  it("dist/cli/main.js exists (run `npm run build`)", () => {
    expect(existsSync(main)).toBe(true);
  });

  it("layers a real closure: exit 0, every path once, popularity order matches the independent oracle", () => {
    const input = sharedPath("data", "debian-bookworm", "img-python-scipy.json.gz");
    const r = spawn(["layer", input]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const layers = layersOf(r.stdout);
    const doc = readJsonFile(input) as { graph: { path: string; references: string[] }[] };
    const order = naivePopularityOrder(doc.graph);
    const want = [...order.slice(0, 98).map((p) => [p]), order.slice(98)].filter((l) => l.length > 0);
    expect(layers).toEqual(want);
    // nixpkgs' text: 2-space indent, ASCII, final newline.
    expect(r.stdout.startsWith('[\n  [\n    "/nix/store/')).toBe(true);
    expect(r.stdout.endsWith("\n  ]\n]\n")).toBe(true);
  });

  it("reads gzip and plain JSON from stdin, and the wasm and ts backends agree", () => {
    const input = readFileSync(sharedPath("data", "debian-bookworm", "img-postgresql.json.gz"));
    const viaStdin = spawn(["layer", "-", "--pipeline", '[["split_every", 7], ["map", ["pipe", [["popularity_contest"], ["limit_layers", 3]]]]]'], input);
    expect(viaStdin.status).toBe(0);
    const ts = spawn(
      ["layer", "-", "--backend", "ts", "--pipeline", '[["split_every", 7], ["map", ["pipe", [["popularity_contest"], ["limit_layers", 3]]]]]'],
      gunzipSync(input),
    );
    expect(ts.status).toBe(0);
    expect(viaStdin.stdout).toBe(ts.stdout);
    expect(layersOf(viaStdin.stdout).length).toBeGreaterThan(1);
  });

  it("exit 2 and nothing on stdout for a bad pipeline", () => {
    const r = spawn(["layer", file("spawn.json", { graph, pipeline: [["popularity_contest"], ["split_every", 2]] })]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^strata: pipeline\[1\]: split_every expects a graph, got a list of graphs/);
  });
});
