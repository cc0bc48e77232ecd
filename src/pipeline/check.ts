// Static checking of a parsed pipeline: follows the kind of value (graph, dict,
// list) through the steps without touching a graph, so that a step given the
// wrong kind of value is reported before any work, with its location.
//
// nixpkgs' lists are lazy and `map` only runs its step on the elements that
// exist, so a mismatch inside `map` fails only when the list is non-empty (it
// can be empty: popularity_contest on an empty part). Such findings are
// "conditional": `strata check` reports them as errors, but `layer` leaves them
// to the run, so that an input on which nixpkgs succeeds still succeeds.
// Likewise limit_layers fails on non-graph elements only when it has to merge.
import type { ExtensionRegistry } from "./extensions.js";
import { PipelineError, type StrataErrorCode } from "../errors.js";
import { assertNever, parsePipeline, pipelineToJson, type Pipeline, type Step } from "./model.js";
import { describeKindFound, kindMismatch, type Expected, type Kind } from "./messages.js";
import { runCo, type Co } from "./co.js";

export type { DictKey, Kind } from "./messages.js";

export type Severity = "error" | "conditional" | "warning";

/** An issue's code: a PipelineError's, or one of the warnings only the checker gives. */
export type IssueCode = StrataErrorCode | "string-spec" | "paths-vanish" | "maybe-missing-key" | "absent-path";

export interface Issue {
  readonly severity: Severity;
  readonly code: IssueCode;
  readonly location: string;
  /** Full text, starting with the location. */
  readonly message: string;
}

export interface CheckOptions {
  readonly lenient?: boolean;
  readonly extensions?: ExtensionRegistry;
  readonly location?: string;
}

export interface CheckResult {
  readonly issues: readonly Issue[];
  /** Kind of the pipeline's result. */
  readonly result: Kind;
}

const GRAPH: Kind = { k: "graph" };
const ANY: Kind = { k: "any" };
const LIST_OF_GRAPHS: Kind = { k: "list", of: GRAPH };

export function checkPipeline(p: Pipeline, options: CheckOptions = {}): CheckResult {
  const root = options.location ?? "pipeline";
  const issues: Issue[] = [];
  const lenient = options.lenient ?? false;
  const extensions = options.extensions;

  const report = (severity: Severity, code: IssueCode, location: string, message: string) =>
    issues.push({ severity, code, location, message: `${location}: ${message}` });

  // `certain`: the step surely runs when the pipeline gets this far.
  const steps = function* (list: Pipeline, kind: Kind, at: string, certain: boolean): Co<Kind> {
    let k = kind;
    for (let i = 0; i < list.length; i++) k = (yield step(list[i], k, `${at}[${i}]`, certain)) as Kind;
    return k;
  };

  const mismatch = (s: Step, expected: Expected, kind: Kind, at: string, certain: boolean): Kind => {
    report(
      certain ? "error" : "conditional",
      "kind",
      at,
      kindMismatch(stepLabel(s), expected, describeKindFound(kind)) + (certain ? "" : " (when the list it is mapped over is not empty)"),
    );
    return ANY;
  };

  const step = function* (s: Step, kind: Kind, at: string, certain: boolean): Co<Kind> {
    switch (s.op) {
      case "split_paths":
        if (typeof s.specs === "string") {
          report(
            "warning",
            "string-spec",
            `${at}[1]`,
            `split_paths got the string ${JSON.stringify(s.specs)}, not a list: nixpkgs iterates it character by character and splits on one-character paths; write [${JSON.stringify(s.specs)}]`,
          );
        }
        if (!isGraph(kind)) return mismatch(s, "graph", kind, at, certain);
        return { k: "dict", keys: ["main", "common", "rest"].map((key) => ({ key, kind: GRAPH, sure: false })) };
      case "subcomponent_in":
      case "subcomponent_out":
        if (!isGraph(kind)) return mismatch(s, "graph", kind, at, certain);
        return { k: "dict", keys: ["main", "rest"].map((key) => ({ key, kind: GRAPH, sure: true })) };
      case "popularity_contest":
        if (!isGraph(kind)) return mismatch(s, "graph", kind, at, certain);
        return LIST_OF_GRAPHS;
      case "split_every":
        if (s.size < 0) {
          report(
            "warning",
            "paths-vanish",
            `${at}[1]`,
            `split_every with a negative size (${s.size}) returns an empty list: every path of this graph disappears from the image (nixpkgs does the same)`,
          );
        }
        if (!isGraph(kind)) return mismatch(s, "graph", kind, at, certain);
        return LIST_OF_GRAPHS;
      case "remove_paths":
        if (!isGraph(kind)) return mismatch(s, "graph", kind, at, certain);
        return GRAPH;
      case "limit_layers":
        if (kind.k === "list") {
          if (kind.of.k === "graph") return kind;
          if (kind.of.k !== "any") {
            report(
              "conditional",
              "kind",
              at,
              `limit_layers merges the elements from the ${s.count}th on into one graph, but they are ${describeKindFound(kind.of)}s (fails when there are ${s.count} or more; flatten first)`,
            );
          }
          return { k: "list", of: ANY };
        }
        if (kind.k === "any") return { k: "list", of: ANY };
        return mismatch(s, "list", kind, at, certain);
      case "reverse":
        if (kind.k === "list") return kind;
        if (kind.k === "any") return { k: "list", of: ANY };
        return mismatch(s, "list", kind, at, certain);
      case "flatten":
        if (kind.k === "graph") return mismatch(s, "list", kind, at, certain);
        return LIST_OF_GRAPHS;
      case "over": {
        if (kind.k === "any") {
          yield step(s.step, ANY, `${at}[2]`, certain && !lenient);
          return ANY;
        }
        if (kind.k !== "dict") return mismatch(s, "dict", kind, at, certain);
        const entry = kind.keys.find((e) => e.key === s.key);
        if (entry === undefined) {
          report(
            certain ? "error" : "conditional",
            "missing-key",
            `${at}[1]`,
            `over: the dict here never has the key ${JSON.stringify(s.key)} (it can have ${kind.keys.map((e) => JSON.stringify(e.key)).join(", ")})`,
          );
          return kind;
        }
        if (!entry.sure) {
          report(
            "warning",
            "maybe-missing-key",
            `${at}[1]`,
            lenient
              ? `over ${JSON.stringify(s.key)}: split_paths omits empty parts; with --lenient the dict passes through unchanged when ${JSON.stringify(s.key)} is absent`
              : `over ${JSON.stringify(s.key)}: split_paths omits empty parts, so this fails (nixpkgs: KeyError '${s.key}') when the ${s.key} part is empty; --lenient passes the dict through instead`,
          );
        }
        // Strict: a missing key fails anyway, so the step's own errors are certain too.
        const inner = (yield step(s.step, entry.kind, `${at}[2]`, certain && (entry.sure || !lenient))) as Kind;
        return { k: "dict", keys: kind.keys.map((e) => (e.key === s.key ? { ...e, kind: inner } : e)) };
      }
      case "map": {
        if (kind.k === "list") return { k: "list", of: (yield step(s.step, kind.of, `${at}[1]`, false)) as Kind };
        if (kind.k === "any") return { k: "list", of: (yield step(s.step, ANY, `${at}[1]`, false)) as Kind };
        return mismatch(s, "list", kind, at, certain);
      }
      case "pipe":
        return (yield steps(s.pipeline, kind, `${at}[1]`, certain)) as Kind;
      case "extension": {
        const ext = extensions?.get(s.name);
        if (ext === undefined) {
          report("error", "unknown-step", `${at}[0]`, `unknown step "${s.name}" (no extension of that name is registered)`);
          return ANY;
        }
        if (!isGraph(kind)) return mismatch(s, "graph", kind, at, certain);
        return ext.output === "graph" ? GRAPH : LIST_OF_GRAPHS;
      }
      default:
        return assertNever(s);
    }
  };

  // Models built in code skip parsePipeline: re-parse their JSON for argument errors.
  try {
    parsePipeline(pipelineToJson(p), { extensions, location: root });
  } catch (e) {
    if (!(e instanceof PipelineError)) throw e;
    report("error", e.code, e.location ?? root, e.message.slice((e.location ?? root).length + 2));
  }

  const result = runCo(steps(p, GRAPH, root, true));
  if (result.k === "graph") {
    report(
      "error",
      "bare-graph",
      root,
      p.length === 0
        ? `the pipeline is empty, so its result is the whole graph, not a list of layers (nixpkgs: TypeError: 'Graph' object is not iterable); the default is [["popularity_contest"], ["limit_layers", 99]]`
        : `the pipeline ends with a single graph, not a list of layers (nixpkgs: TypeError: 'Graph' object is not iterable); end with a step that makes layers, e.g. ["popularity_contest"] or ["split_every", N]`,
    );
  }
  return { issues, result };
}

function isGraph(kind: Kind): boolean {
  return kind.k === "graph" || kind.k === "any";
}

function stepLabel(s: Step): string {
  return s.op === "extension" ? s.name : s.op;
}
