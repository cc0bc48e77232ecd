// The typed model of nixpkgs' layeringPipeline language (flatten_references_graph,
// pipe.py) and its JSON form.
//
// A pipeline is a list of steps; a step is `[name, args...]`. The model keeps
// every JSON shape nixpkgs accepts distinguishable (a bare string vs a list for
// split_paths and remove_paths, a string vs a list under children_of), so
// JSON -> model -> JSON is the identity.
//
// Parsing checks everything that can be known from the pipeline alone: names,
// arity, argument types and ranges. Each error names the step by its location
// in the JSON (`pipeline[1][2]` = the third element of the second step).
import { PipelineError, type PipelineErrorCode } from "../errors.js";
import { describe } from "../graph/document.js";
import type { ExtensionRegistry } from "./extensions.js";
import { runCo, type Co } from "./co.js";

export type SplitSpec = string | { readonly childrenOf: string | readonly string[] };

export type Step =
  /** graph -> dict {main?, common?, rest?}. A bare string is iterated per character, as in Python. */
  | { readonly op: "split_paths"; readonly specs: readonly SplitSpec[] | string }
  /** graph -> dict {main, rest}: the paths plus their ancestors. */
  | { readonly op: "subcomponent_in"; readonly paths: readonly string[] }
  /** graph -> dict {main, rest}: the paths plus their descendants. */
  | { readonly op: "subcomponent_out"; readonly paths: readonly string[] }
  /** graph -> list of one-path graphs, most popular first. */
  | { readonly op: "popularity_contest" }
  /** list of graphs -> the first count-1 items, then the rest merged into one graph. */
  | { readonly op: "limit_layers"; readonly count: number }
  /** graph -> list of graphs of `size` vertices (size < 0: empty list, as nixpkgs). */
  | { readonly op: "split_every"; readonly size: number }
  /** graph -> graph without these paths. */
  | { readonly op: "remove_paths"; readonly paths: string | readonly string[] }
  /** list -> reversed list. */
  | { readonly op: "reverse" }
  /** nested lists and dicts -> flat list of graphs. */
  | { readonly op: "flatten" }
  /** dict -> dict with dict[key] replaced by step(dict[key]). */
  | { readonly op: "over"; readonly key: string; readonly step: Step }
  /** list -> list with step applied to each element. */
  | { readonly op: "map"; readonly step: Step }
  /** x -> the nested pipeline applied to x. */
  | { readonly op: "pipe"; readonly pipeline: Pipeline }
  /** A strata extension step (not nixpkgs), registered in the ExtensionRegistry. */
  | { readonly op: "extension"; readonly name: string; readonly args: readonly unknown[] };

export type Pipeline = readonly Step[];
export type StepName = Exclude<Step["op"], "extension">;

/** Argument descriptions, used in arity errors and in the docs. */
export const stepSignatures: Readonly<Record<StepName, { readonly args: readonly string[]; readonly summary: string }>> = {
  split_paths: { args: ['a list of paths and {"children_of": ...} specs'], summary: "graph -> {main, common, rest}" },
  subcomponent_in: { args: ["a list of paths"], summary: "graph -> {main, rest}: paths and their referrers" },
  subcomponent_out: { args: ["a list of paths"], summary: "graph -> {main, rest}: paths and their dependencies" },
  popularity_contest: { args: [], summary: "graph -> list of one-path graphs, most popular first" },
  limit_layers: { args: ["a layer count"], summary: "list of graphs -> at most count graphs" },
  split_every: { args: ["a chunk size"], summary: "graph -> list of graphs of that many paths" },
  remove_paths: { args: ["a path or a list of paths"], summary: "graph -> graph without those paths" },
  reverse: { args: [], summary: "list -> reversed list" },
  flatten: { args: [], summary: "nested lists and dicts -> list of graphs" },
  over: { args: ["a key", "a step"], summary: "dict -> dict with one value transformed" },
  map: { args: ["a step"], summary: "list -> list with each element transformed" },
  pipe: { args: ["a pipeline (a list of steps)"], summary: "x -> the nested pipeline applied to x" },
};

export const stepNames = Object.keys(stepSignatures) as StepName[];

export interface ParseOptions {
  /** Extra steps strata knows beyond nixpkgs (e.g. auto_layer). */
  readonly extensions?: ExtensionRegistry;
  /** Root location for messages; default "pipeline". */
  readonly location?: string;
}

function fail(location: string, code: PipelineErrorCode, message: string): never {
  throw new PipelineError(code, `${location}: ${message}`, location);
}

/** Parses a pipeline JSON value into the model, or throws a PipelineError naming the location. */
export function parsePipeline(json: unknown, options: ParseOptions = {}): Pipeline {
  return runCo(parseSteps(json, options.location ?? "pipeline", options));
}

function* parseSteps(json: unknown, at: string, options: ParseOptions): Co<Step[]> {
  if (!Array.isArray(json)) {
    fail(at, "not-a-pipeline", `a pipeline is a list of steps like [["popularity_contest"], ["limit_layers", 99]], got ${describe(json)}`);
  }
  const out: Step[] = [];
  for (let i = 0; i < json.length; i++) out.push((yield parseStepCo(json[i], `${at}[${i}]`, options)) as Step);
  return out;
}

/** Parses one step (`[name, args...]`). */
export function parseStep(json: unknown, at: string, options: ParseOptions = {}): Step {
  return runCo(parseStepCo(json, at, options));
}

function* parseStepCo(json: unknown, at: string, options: ParseOptions): Co<Step> {
  if (!Array.isArray(json) || json.length === 0 || typeof json[0] !== "string") {
    const hint =
      typeof json === "string"
        ? ` (write ["${json}"])`
        : Array.isArray(json) && Array.isArray(json[0])
          ? ' (a nested pipeline is written ["pipe", [...]])'
          : "";
    fail(at, "not-a-step", `a step is a list [name, arguments...], got ${describe(json)}${hint}`);
  }
  const name = json[0] as string;
  const args = json.slice(1) as unknown[];
  const argAt = (i: number) => `${at}[${i + 1}]`;
  const ext = options.extensions?.get(name);
  // Own keys only: "toString" or "__proto__" must be unknown steps, not Object.prototype members.
  const builtin = Object.hasOwn(stepSignatures, name);
  if (ext !== undefined && !builtin) {
    const problem = ext.checkArgs(args);
    if (problem !== undefined) fail(problem.index === undefined ? at : argAt(problem.index), "bad-argument", `${name} ${problem.message}`);
    return { op: "extension", name, args };
  }
  if (!builtin) {
    const known = [...stepNames, ...(options.extensions?.names() ?? [])];
    const guess = closest(name, known);
    fail(`${at}[0]`, "unknown-step", `unknown step "${name}"${guess ? `; did you mean "${guess}"?` : ""} Known steps: ${known.join(", ")}`);
  }
  const op = name as StepName;
  const expected = stepSignatures[op].args;
  if (args.length !== expected.length) {
    const what = expected.length === 0 ? "takes no arguments" : `expects ${expected.join(" and ")}`;
    fail(at, "arity", `${op} ${what}, got ${args.length} argument${args.length === 1 ? "" : "s"}`);
  }
  switch (op) {
    case "split_paths":
      return { op, specs: parseSplitSpecs(args[0], argAt(0)) };
    case "subcomponent_in":
    case "subcomponent_out":
      return { op, paths: parsePathList(args[0], argAt(0), op) };
    case "popularity_contest":
    case "reverse":
    case "flatten":
      return { op };
    case "limit_layers": {
      const n = args[0];
      if (typeof n !== "number" || !Number.isSafeInteger(n))
        fail(argAt(0), "bad-argument", `limit_layers expects a whole number of layers, got ${describe(n)}`);
      if (n <= 0) fail(argAt(0), "bad-argument", `limit_layers needs a count greater than 0, got ${n} (nixpkgs: AssertionError "max count needs to > 0")`);
      return { op, count: n };
    }
    case "split_every": {
      const k = args[0];
      if (typeof k !== "number" || !Number.isSafeInteger(k))
        fail(argAt(0), "bad-argument", `split_every expects a whole number of paths per chunk, got ${describe(k)}`);
      if (k === 0) fail(argAt(0), "bad-argument", "split_every needs a chunk size other than 0 (nixpkgs: ValueError from range())");
      return { op, size: k };
    }
    case "remove_paths": {
      const p = args[0];
      if (typeof p === "string") return { op, paths: p };
      return { op, paths: parsePathList(p, argAt(0), op) };
    }
    case "over": {
      const key = args[0];
      if (typeof key !== "string") fail(argAt(0), "bad-argument", `over expects a dict key ("main", "common" or "rest"), got ${describe(key)}`);
      return { op, key, step: (yield parseStepCo(args[1], argAt(1), options)) as Step };
    }
    case "map":
      return { op, step: (yield parseStepCo(args[0], argAt(0), options)) as Step };
    case "pipe":
      return { op, pipeline: (yield parseSteps(args[0], argAt(0), options)) as Step[] };
  }
}

function parsePathList(v: unknown, at: string, op: string): string[] {
  if (!Array.isArray(v)) {
    const hint = typeof v === "string" ? ` (write [${JSON.stringify(v)}])` : "";
    fail(at, "bad-argument", `${op} expects a list of paths, got ${describe(v)}${hint}`);
  }
  v.forEach((p, i) => {
    if (typeof p !== "string") fail(`${at}[${i}]`, "bad-argument", `${op} expects a path (a string), got ${describe(p)}`);
  });
  return v as string[];
}

function parseSplitSpecs(v: unknown, at: string): SplitSpec[] | string {
  // nixpkgs iterates a bare string character by character; kept for compatibility.
  if (typeof v === "string") return v;
  if (!Array.isArray(v)) fail(at, "bad-argument", `split_paths expects a list of paths and {"children_of": ...} specs, got ${describe(v)}`);
  return v.map((spec, i): SplitSpec => {
    const where = `${at}[${i}]`;
    if (typeof spec === "string") return spec;
    if (typeof spec === "object" && spec !== null && !Array.isArray(spec)) {
      const keys = Object.keys(spec);
      if (keys.length !== 1 || keys[0] !== "children_of") {
        fail(
          where,
          "bad-argument",
          `split_paths spec must be a path or {"children_of": path or list of paths}, got an object with keys ${keys.length ? keys.map((k) => JSON.stringify(k)).join(", ") : "(none)"}`,
        );
      }
      const target = (spec as Record<string, unknown>).children_of;
      if (typeof target === "string") return { childrenOf: target };
      return { childrenOf: parsePathList(target, `${where}.children_of`, "children_of") };
    }
    fail(where, "bad-argument", `split_paths spec must be a path or {"children_of": ...}, got ${describe(spec)}`);
  });
}

/** The JSON form of a model (the inverse of parsePipeline). */
export function pipelineToJson(p: Pipeline): unknown[] {
  return runCo(stepsToJsonCo(p));
}

export function stepToJson(s: Step): unknown[] {
  return runCo(stepToJsonCo(s));
}

function* stepsToJsonCo(p: Pipeline): Co<unknown[]> {
  const out: unknown[] = [];
  for (const s of p) out.push(yield stepToJsonCo(s));
  return out;
}

function* stepToJsonCo(s: Step): Co<unknown[]> {
  switch (s.op) {
    case "split_paths":
      return [
        s.op,
        typeof s.specs === "string"
          ? s.specs
          : s.specs.map((x) => (typeof x === "string" ? x : { children_of: typeof x.childrenOf === "string" ? x.childrenOf : [...x.childrenOf] })),
      ];
    case "subcomponent_in":
    case "subcomponent_out":
      return [s.op, [...s.paths]];
    case "popularity_contest":
    case "reverse":
    case "flatten":
      return [s.op];
    case "limit_layers":
      return [s.op, s.count];
    case "split_every":
      return [s.op, s.size];
    case "remove_paths":
      return [s.op, typeof s.paths === "string" ? s.paths : [...s.paths]];
    case "over":
      return [s.op, s.key, yield stepToJsonCo(s.step)];
    case "map":
      return [s.op, yield stepToJsonCo(s.step)];
    case "pipe":
      return [s.op, yield stepsToJsonCo(s.pipeline)];
    case "extension":
      return [s.name, ...s.args];
    default:
      return assertNever(s);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unhandled pipeline step ${JSON.stringify(x)}`);
}

/** nixpkgs' default pipeline for a number of available store-path layers. */
export function defaultPipeline(availableLayers = 99): Pipeline {
  return [{ op: "popularity_contest" }, { op: "limit_layers", count: availableLayers }];
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase().replace(/-/g, "_"), c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
