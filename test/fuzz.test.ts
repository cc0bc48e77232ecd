// Fuzzing the readers and the pipeline parser: mutated inputs may only fail
// with a StrataError (InputError, PipelineError, UsageError), never with any
// other exception, a hang or an out-of-memory.
//
// Seeds: the compat corpus (shared/compat), the real closures (shared/data)
// cut to a few entries, and generated Nix-like closures with unicode, quotes,
// backslashes and control characters in their paths. Mutations: byte-level
// edits of the JSON text (flips, inserts, deletions, splices, truncation,
// number swaps) and structural edits of parsed values (replace, delete,
// duplicate, reorder, rename keys, add references).
//
// Per case, both closure readers run (JSON.parse + readClosureDocument, and
// the streaming parser) and must agree: the same closure, or the same error
// code. A readable closure then runs through its own pipeline (or the
// default) to the layers, which must be a partition of part of the closure.
//
// Counts: 100,000 reader inputs and 100,000 pipeline inputs per run;
// `npm run fuzz` multiplies them (STRATA_FUZZ_SCALE). A failure prints the
// case seed and the replay command (STRATA_SEED=... STRATA_ONE_CASE=1).
import { describe, expect, it } from "vitest";
import { InputError, StrataError } from "../src/errors.js";
import { Closure } from "../src/graph/closure.js";
import { parseJsonText, readClosureDocument, type ClosureDocument } from "../src/graph/document.js";
import { decodeUtf8 } from "../src/io/decode.js";
import { parseClosureBytes } from "../src/io/stream-json.js";
import { checkPipeline, parsePipeline, pipelineExtensions, pipelineFor, runPipeline, pipelineToJson } from "../src/pipeline/index.js";
import { forEachCase, fuzzScale, mutateBytes, mutateValue, nixLikeClosure, Rng, scaledTimeout, typedOutcome } from "./helpers/fuzz.js";
import { requireShared, listJson, readJsonFile, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();

const FILE = "test/fuzz.test.ts";
const encoder = new TextEncoder();

// --- seeds ---------------------------------------------------------------------

type Entry = { path: string; narSize?: unknown; references?: unknown; [k: string]: unknown };

/** The first `k` entries, references cut to those kept (so the seed itself is valid). */
function cut(graph: Entry[], k: number): Entry[] {
  const kept = graph.slice(0, k);
  const paths = new Set(kept.map((e) => e.path));
  return kept.map((e) => ({ ...e, references: Array.isArray(e.references) ? e.references.filter((r) => paths.has(r as string)) : e.references }));
}

function closureSeeds(): unknown[] {
  const seeds: unknown[] = [];
  const rng = new Rng(12345);
  {
    for (const f of listJson(sharedPath("compat", "flatten"))) {
      const c = readJsonFile(f) as { input: Record<string, unknown> };
      const input = { ...c.input };
      if (input.exclude_paths === null) delete input.exclude_paths;
      seeds.push(input);
    }
    for (const dir of ["random", "auto-layer", "nixery"]) {
      const files = listJson(sharedPath("compat", dir));
      for (let i = 0; i < files.length; i += Math.ceil(files.length / 12)) {
        const c = readJsonFile(files[i]) as { input: { graph: Entry[]; [k: string]: unknown } };
        seeds.push({ ...c.input, graph: cut(c.input.graph, 6 + rng.int(10)) });
      }
    }
    for (const f of listJson(sharedPath("data", "real"))) seeds.push(readJsonFile(f));
    for (const f of listJson(sharedPath("data", "debian-bookworm")).slice(0, 4)) {
      const doc = readJsonFile(f) as Entry[] | { graph: Entry[] };
      const graph = Array.isArray(doc) ? doc : doc.graph;
      seeds.push(cut(graph, 12));
    }
  }
  // Generated: list, attrs document and path-info object shapes, odd names.
  for (let i = 0; i < 12; i++) {
    const entries = nixLikeClosure(rng, { n: 1 + rng.int(12), oddNames: true });
    if (i % 3 === 0) seeds.push(entries);
    else if (i % 3 === 1)
      seeds.push({ graph: entries, pipeline: [["popularity_contest"], ["limit_layers", 1 + rng.int(5)]], exclude_paths: [entries[0].path] });
    else seeds.push(Object.fromEntries(entries.map((e) => [e.path, { narSize: e.narSize, references: e.references, valid: true, narHash: "sha256-x" }])));
  }
  return seeds;
}

function pipelineSeeds(): unknown[] {
  const seeds: unknown[] = [
    [["popularity_contest"], ["limit_layers", 99]],
    [
      ["subcomponent_out", ["B"]],
      ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 3]]]],
    ],
    [
      ["split_paths", ["B", { children_of: "C" }]],
      ["over", "main", ["pipe", [["map", ["subcomponent_in", ["D"]]], ["flatten"]]]],
      ["flatten"],
      ["map", ["remove_paths", "E"]],
      ["reverse"],
    ],
    [["subcomponent_in", ["C"]], ["flatten"], ["map", ["split_every", 2]], ["flatten"], ["limit_layers", 2]],
    [["auto_layer", 3]],
    [["nixery", 4]],
    [["min_pull", 3]],
  ];
  {
    for (const dir of ["flatten", "random"]) {
      for (const f of listJson(sharedPath("compat", dir))) {
        const c = readJsonFile(f) as { input: { pipeline?: unknown } };
        if (c.input.pipeline !== undefined && seeds.length < 120) seeds.push(c.input.pipeline);
      }
    }
  }
  return seeds;
}

// --- the two readers -----------------------------------------------------------

interface ReadResult {
  readonly doc: ClosureDocument;
  readonly closure: Closure;
}

/** What the CLI does with a small input: decode, JSON.parse, readClosureDocument, build. */
function readWhole(bytes: Uint8Array): ReadResult {
  const doc = readClosureDocument(parseJsonText(decodeUtf8(bytes, "input")));
  return { doc, closure: Closure.fromDocument(doc, { exclude: doc.excludePaths }) };
}

function readStreaming(bytes: Uint8Array): ReadResult {
  const doc = parseClosureBytes(bytes);
  return { doc, closure: Closure.fromDocument(doc, { exclude: doc.excludePaths }) };
}

function sameClosure(a: ReadResult, b: ReadResult): void {
  expect(b.doc.format).toBe(a.doc.format);
  expect(b.closure.paths).toEqual(a.closure.paths);
  expect([...b.closure.narSize]).toEqual([...a.closure.narSize]);
  expect([...b.closure.offsets]).toEqual([...a.closure.offsets]);
  expect([...b.closure.targets]).toEqual([...a.closure.targets]);
  expect(b.doc.excludePaths).toEqual(a.doc.excludePaths);
  expect(b.doc.roots).toEqual(a.doc.roots);
  expect(b.doc.pipeline).toEqual(a.doc.pipeline);
}

/** Layers must be disjoint, non-empty, and made of closure paths. */
function checkLayers(layers: string[][], closure: Closure): void {
  const seen = new Set<string>();
  for (const layer of layers) {
    expect(layer.length).toBeGreaterThan(0);
    for (const p of layer) {
      expect(closure.has(p)).toBe(true);
      expect(seen.has(p)).toBe(false);
      seen.add(p);
    }
  }
}

/** Runs the document's pipeline (or the default) on a readable closure. */
function planReadable(r: ReadResult, rng: Rng): void {
  if (r.closure.n > 200) return;
  const lenient = rng.chance(0.5);
  const outcome = typedOutcome("pipeline run", () => runPipeline(r.closure, pipelineFor(r.doc), { lenient }));
  if (outcome.ok) checkLayers(outcome.value, r.closure);
}

describe("fuzz: closure readers", () => {
  const seeds = closureSeeds();
  const texts = seeds.map((s) => encoder.encode(JSON.stringify(s)));

  it("the seeds themselves are readable closures, identical through both readers", () => {
    expect(seeds.length).toBeGreaterThan(100);
    let readable = 0;
    for (const t of texts) {
      const a = typedOutcome("seed", () => readWhole(t));
      const b = typedOutcome("seed stream", () => readStreaming(t));
      expect(b.ok).toBe(a.ok);
      if (a.ok && b.ok) (sameClosure(a.value, b.value), readable++);
    }
    // Some compat seeds are error cases (cycles, dangling references) on purpose.
    expect(readable).toBeGreaterThan(seeds.length * 0.7);
  });

  it(
    "100,000 byte-level mutations: typed errors only, both readers agree",
    () => {
      const count = Math.round(100_000 * fuzzScale());
      const codes = new Map<string, number>();
      let ok = 0;
      const report = forEachCase(FILE, count, (seed) => {
        const rng = new Rng(seed);
        const bytes = mutateBytes(rng.pick(texts), rng);
        const a = typedOutcome("whole-text reader", () => readWhole(bytes));
        const b = typedOutcome("streaming reader", () => readStreaming(bytes));
        if (a.ok !== b.ok || (!a.ok && !b.ok && a.error.code !== b.error.code)) {
          const what = (o: typeof a) => (o.ok ? "ok" : `${o.error.code}: ${o.error.message}`);
          throw new Error(`readers disagree on ${JSON.stringify(new TextDecoder().decode(bytes).slice(0, 400))}\n whole:  ${what(a)}\n stream: ${what(b)}`);
        }
        if (a.ok && b.ok) {
          sameClosure(a.value, b.value);
          ok++;
          if (rng.chance(0.3)) planReadable(a.value, rng);
        } else if (!a.ok) codes.set(a.error.code, (codes.get(a.error.code) ?? 0) + 1);
      });
      // The mutations must reach many different errors, and still leave some inputs readable.
      console.log(`byte mutations: ${ok} readable; errors ${JSON.stringify(Object.fromEntries(codes))}`);
      if (report.cases > 1000) {
        expect(codes.size).toBeGreaterThanOrEqual(8);
        expect(ok).toBeGreaterThan(report.cases / 100);
      }
    },
    scaledTimeout(150_000),
  );

  it(
    "structural mutations of parsed values: typed errors only, as values and as text",
    () => {
      const count = Math.round(25_000 * fuzzScale());
      const codes = new Set<string>();
      const report = forEachCase(FILE, count, (seed) => {
        const rng = new Rng(seed);
        const value = mutateValue(rng.pick(seeds), rng);
        // As a library caller's value (may hold NaN, undefined, ...).
        const direct = typedOutcome("readClosureDocument(value)", () => {
          const doc = readClosureDocument(value);
          return { doc, closure: Closure.fromDocument(doc, { exclude: doc.excludePaths }) };
        });
        if (direct.ok && rng.chance(0.3)) planReadable(direct.value, rng);
        if (!direct.ok) codes.add(direct.error.code);
        // As JSON text, through both readers.
        const text = JSON.stringify(value);
        if (text === undefined) return;
        const bytes = encoder.encode(text);
        const a = typedOutcome("whole-text reader", () => readWhole(bytes));
        const b = typedOutcome("streaming reader", () => readStreaming(bytes));
        if (a.ok !== b.ok || (!a.ok && !b.ok && a.error.code !== b.error.code)) {
          const what = (o: typeof a) => (o.ok ? "ok" : `${o.error.code}: ${o.error.message}`);
          throw new Error(`readers disagree on ${JSON.stringify(text.slice(0, 400))}\n whole:  ${what(a)}\n stream: ${what(b)}`);
        }
        if (a.ok && b.ok) sameClosure(a.value, b.value);
      });
      if (report.cases > 1000) expect(codes.size).toBeGreaterThanOrEqual(8);
    },
    scaledTimeout(120_000),
  );
});

describe("fuzz: pipeline parser, checker and interpreter", () => {
  const seeds = pipelineSeeds();
  const texts = seeds.map((s) => encoder.encode(JSON.stringify(s)));
  const closure = Closure.fromDocument(
    readClosureDocument(["A", "B", "C", "D", "E", "F"].map((path, i, all) => ({ path, narSize: (i * 37) % 5, references: all.slice(i + 1, i + 3) }))),
  );

  /** Parse, check, then run on a six-path closure; only StrataErrors may escape. */
  function exercise(json: unknown, rng: Rng, counts: Map<string, number>): void {
    const parsed = typedOutcome("parsePipeline", () => parsePipeline(json, { extensions: pipelineExtensions }));
    if (!parsed.ok) {
      expect(parsed.error.name).toBe("PipelineError");
      counts.set(parsed.error.code, (counts.get(parsed.error.code) ?? 0) + 1);
      return;
    }
    // Round trip: the model's JSON parses to the same model.
    const again = pipelineToJson(parsed.value);
    expect(parsePipeline(again, { extensions: pipelineExtensions })).toEqual(parsed.value);
    const lenient = rng.chance(0.5);
    const checked = typedOutcome("checkPipeline", () => checkPipeline(parsed.value, { lenient, extensions: pipelineExtensions }));
    expect(checked.ok).toBe(true);
    const run = typedOutcome("runPipeline", () => runPipeline(closure, parsed.value, { lenient }));
    if (run.ok) {
      counts.set("ran", (counts.get("ran") ?? 0) + 1);
      checkLayers(run.value, closure);
    } else counts.set(`run:${run.error.code}`, (counts.get(`run:${run.error.code}`) ?? 0) + 1);
  }

  it(
    "100,000 mutated pipelines (text and structure): typed errors only",
    () => {
      const count = Math.round(100_000 * fuzzScale());
      const counts = new Map<string, number>();
      const report = forEachCase(FILE, count, (seed) => {
        const rng = new Rng(seed);
        const i = rng.int(seeds.length);
        let json: unknown;
        if (rng.chance(0.5)) {
          const text = typedOutcome("decode", () => {
            const bytes = mutateBytes(texts[i], rng);
            return parseJsonText(new TextDecoder().decode(bytes));
          });
          if (!text.ok) return;
          json = text.value;
        } else json = mutateValue(seeds[i], rng);
        exercise(json, rng, counts);
      });
      console.log(`pipeline outcomes: ${JSON.stringify(Object.fromEntries(counts))}`);
      if (report.cases < 1000) return;
      expect(counts.get("ran") ?? 0).toBeGreaterThan(report.cases / 50);
      expect([...counts.keys()].filter((k) => !k.startsWith("run:") && k !== "ran").length).toBeGreaterThanOrEqual(4);
    },
    scaledTimeout(150_000),
  );

  it("a thrown non-StrataError is reported as a finding (the harness can fail)", () => {
    expect(() => typedOutcome("x", () => JSON.parse("{"))).toThrow(/untyped SyntaxError/);
    expect(typedOutcome("x", () => parseJsonText("{")).ok).toBe(false);
    expect(new InputError("invalid-json", "m")).toBeInstanceOf(StrataError);
  });
});

// Bugs the fuzzer found, kept as plain cases.
describe("fuzz findings", () => {
  it("a step named after an Object.prototype member is an unknown step, not a TypeError", () => {
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"]) {
      expect(() => parsePipeline([[name]], { extensions: pipelineExtensions })).toThrow(
        expect.objectContaining({ name: "PipelineError", code: "unknown-step" }),
      );
    }
  });

  it("the streaming reader keeps a leading U+FEFF inside strings, as JSON.parse does", () => {
    const text = '[{"\uFEFFpath":"C","narSize":1}]';
    expect(() => readWhole(encoder.encode(text))).toThrow(expect.objectContaining({ code: "bad-path" }));
    expect(() => readStreaming(encoder.encode(text))).toThrow(expect.objectContaining({ code: "bad-path" }));
    const path = '[{"path":"\uFEFF/nix/store/a","narSize":1}]';
    expect(readStreaming(encoder.encode(path)).closure.paths).toEqual(["\uFEFF/nix/store/a"]);
    // A byte order mark before the document is still allowed by both.
    expect(readStreaming(encoder.encode("\uFEFF[]")).closure.n).toBe(0);
    expect(readWhole(encoder.encode("\uFEFF[]")).closure.n).toBe(0);
  });
});
