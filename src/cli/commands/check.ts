// `strata check`: validates a pipeline without running it, a closure input,
// or both (a pipeline against a closure; an .attrs.json with its pipeline).
import { isStrataError, PipelineError, UsageError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import { parseJsonText, readClosureDocument, type ClosureDocument } from "../../graph/document.js";
import { readClosureInput, readTextInput } from "../../io/node.js";
import { checkPipeline, namedPaths, parsePipeline, pipelineExtensions, type Issue, type Kind } from "../../pipeline/index.js";
import { formatBytes } from "../../report/format.js";
import { parseCommandArgs, type CliIo, type Command } from "../command.js";
import { palette } from "../messages.js";
import { readPipelineArgument } from "../plan.js";

const help = `Usage: strata check INPUT
       strata check PIPELINE [INPUT] [--lenient]

Validates without running anything and says what is wrong and where.

One argument: a closure document (an exportReferencesGraph list, nix
path-info --json output, or an .attrs.json) is checked as strata layer would
read it: JSON syntax, shapes and fields (with their location, e.g.
$.graph[12].narSize), duplicate paths, references to paths the closure lacks,
cycles, exclude_paths and roots the closure lacks. An .attrs.json's pipeline
is checked too. A pipeline (a JSON list of steps, inline or a file) is
checked alone.

Pipeline checks: step names, arity and argument types, and the kind of value
each step receives (graph, dict or list), e.g. popularity_contest on the dict
split_paths returns, map over a dict, a pipeline that ends in a single graph.
Every finding names the step by its location (pipeline[1][2] = third element
of the second step). With INPUT, paths the pipeline names but the closure
lacks are reported (nixpkgs silently ignores them).

Findings:
  error        fails whatever the data (strata layer refuses it before any work)
  conditional  fails when the list it is mapped over is not empty, or when
               limit_layers has to merge non-graphs (strata layer fails only then,
               as nixpkgs does)
  warning      runs, but probably not as meant

Options:
  --lenient    check as 'strata layer --lenient' would run ("over" on a missing
               key passes the data through)

Exit codes: 0 no errors (warnings allowed), 2 errors or conditional errors.

Examples:
  strata check .attrs.json
  strata check closure.json.gz
  strata check '[["popularity_contest"], ["limit_layers", 99]]'
  strata check pipeline.json .attrs.json
`;

/** A pipeline is a list of steps (lists); a closure is a list of objects or an object with "graph". */
function looksLikePipeline(value: unknown): boolean {
  if (Array.isArray(value)) return value.every((s) => Array.isArray(s));
  return typeof value === "object" && value !== null && "pipeline" in value && !("graph" in value);
}

export const checkCommand: Command = {
  name: "check",
  summary: "validate a closure input and/or a layering pipeline without running it",
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("check", args, { lenient: { type: "boolean" } });
    if (positionals.length < 1 || positionals.length > 2) {
      throw new UsageError(`check: expected INPUT, or PIPELINE [INPUT], got ${positionals.length} arguments. See 'strata check --help'.`);
    }
    const lenient = values.lenient === true;
    const c = palette(io, "stdout");
    const issues: Issue[] = [];
    const lines: string[] = [];
    let pipelineJson: unknown;
    let doc: ClosureDocument | undefined;
    let closureOk = false;
    const closureIssue = (e: unknown) => {
      if (!isStrataError(e)) throw e;
      issues.push({ severity: "error", code: e.code, location: "input", message: `input: ${e.message}` });
    };
    if (positionals.length === 1) {
      const arg = positionals[0];
      const trimmed = arg.trimStart();
      let value: unknown;
      try {
        value =
          trimmed.startsWith("[") || trimmed.startsWith("{")
            ? parseJsonText(arg, "argument")
            : parseJsonText(await readTextInput(arg), arg === "-" ? "stdin" : arg);
      } catch (e) {
        closureIssue(e);
      }
      if (value !== undefined && looksLikePipeline(value)) {
        pipelineJson = Array.isArray(value) ? value : (value as { pipeline: unknown }).pipeline;
      } else if (value !== undefined) {
        try {
          doc = readClosureDocument(value);
          if (doc.pipeline !== undefined) pipelineJson = doc.pipeline;
        } catch (e) {
          closureIssue(e);
        }
      }
    } else {
      pipelineJson = await readPipelineArgument(positionals[0], "PIPELINE");
      try {
        doc = await readClosureInput(positionals[1]);
      } catch (e) {
        closureIssue(e);
      }
    }
    let closure: Closure | undefined;
    if (doc !== undefined) {
      try {
        closure = Closure.fromDocument(doc);
        closureOk = true;
        const excluded = new Set(doc.excludePaths ?? []);
        for (const p of excluded) {
          if (!closure.has(p))
            issues.push({
              severity: "warning",
              code: "absent-path",
              location: "input",
              message: `input: $.exclude_paths: ${JSON.stringify(p)} is not in the closure (nothing to exclude)`,
            });
        }
        for (const p of doc.roots ?? []) {
          if (!closure.has(p))
            issues.push({ severity: "warning", code: "absent-path", location: "input", message: `input: roots: ${JSON.stringify(p)} is not in the closure` });
        }
        let bytes = 0;
        for (const e of doc.entries) bytes += e.narSize;
        lines.push(
          `input: ${closure.n} path${closure.n === 1 ? "" : "s"}, ${formatBytes(bytes)}, ${closure.roots().length} root${closure.roots().length === 1 ? "" : "s"} (paths nothing references)` +
            (excluded.size ? `, ${excluded.size} in exclude_paths` : "") +
            (doc.pipeline !== undefined ? ", with a pipeline" : ""),
        );
      } catch (e) {
        closureIssue(e);
      }
    }
    let steps = 0;
    let result: Kind | undefined;
    if (pipelineJson !== undefined) {
      try {
        const p = parsePipeline(pipelineJson, { extensions: pipelineExtensions });
        const checked = checkPipeline(p, { lenient, extensions: pipelineExtensions });
        issues.push(...checked.issues);
        result = checked.result;
        steps = p.length;
        if (closure !== undefined) {
          const excluded = doc?.excludePaths ?? [];
          for (const n of namedPaths(p)) {
            if (!closure.has(n.path) || excluded.includes(n.path)) {
              issues.push({
                severity: "warning",
                code: "absent-path",
                location: n.location,
                message: `${n.location}: ${JSON.stringify(n.path)} is not in the closure${excluded.includes(n.path) ? " (it is in exclude_paths)" : ""}; ${n.op} ignores it`,
              });
            }
          }
        }
        lines.push(`pipeline: ${steps} step${steps === 1 ? "" : "s"}, result ${describeResult(result)}`);
      } catch (e) {
        if (!(e instanceof PipelineError)) throw e;
        issues.push({ severity: "error", code: e.code, location: "", message: e.message });
      }
    }
    for (const i of issues) {
      const [loc, ...rest] = i.message.split(": ");
      const sev = i.severity === "warning" ? c.yellow(i.severity) : c.red(i.severity);
      io.out(`${loc}: ${sev}: ${rest.join(": ")}\n`);
    }
    const failing = issues.filter((i) => i.severity !== "warning").length;
    const warnings = issues.length - failing;
    if (failing > 0) {
      io.out(`${failing} error${failing === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}\n`);
      return 2;
    }
    // PIPELINE [INPUT]: "ok: N steps, result ..." as before; a closure INPUT alone: its summary.
    if (positionals.length === 2 || doc === undefined || !closureOk) {
      io.out(
        `${c.green("ok")}: ${steps} step${steps === 1 ? "" : "s"}, result ${describeResult(result)}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}\n`,
      );
    } else {
      for (const l of lines) io.out(l + "\n");
      io.out(`${c.green("ok")}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}\n`);
    }
    return 0;
  },
};

function describeResult(k: Kind | undefined): string {
  if (k === undefined || k.k === "any") return "a list";
  if (k.k === "dict") return `a dict (${k.keys.map((e) => e.key).join(", ")})`;
  if (k.k === "list") return k.of.k === "graph" ? "a list of graphs" : "a list";
  return "a graph";
}
