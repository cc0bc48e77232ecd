// `strata check PIPELINE [INPUT]`: validates a pipeline without running it.
import { isStrataError, UsageError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import { readClosureInput } from "../../io/node.js";
import { checkPipeline, namedPaths, parsePipeline, pipelineExtensions, type Issue, type Kind } from "../../pipeline/index.js";
import { parseCommandArgs, type CliIo, type Command } from "../command.js";
import { readPipelineArgument } from "./layer.js";

const help = `Usage: strata check PIPELINE [INPUT] [--lenient]

Validates a layering pipeline without running it: step names, arity and
argument types, and the kind of value each step receives (graph, dict or
list), e.g. popularity_contest on the dict split_paths returns, map over a
dict, a pipeline that ends in a single graph. Every finding names the step by
its location (pipeline[1][2] = third element of the second step).

PIPELINE: inline JSON, or a file holding a pipeline or a document with a
"pipeline" key (.attrs.json). With INPUT (a closure document), the closure is
read and validated too, and paths the pipeline names but the closure lacks are
reported (nixpkgs silently ignores them).

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
  strata check '[["popularity_contest"], ["limit_layers", 99]]'
  strata check pipeline.json .attrs.json
`;

export const checkCommand: Command = {
  name: "check",
  summary: "validate a layering pipeline without running it",
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("check", args, { lenient: { type: "boolean" } });
    if (positionals.length < 1 || positionals.length > 2) {
      throw new UsageError(`check: expected PIPELINE [INPUT], got ${positionals.length} arguments. See 'strata check --help'.`);
    }
    const lenient = values.lenient === true;
    const json = await readPipelineArgument(positionals[0], "PIPELINE");
    let issues: Issue[];
    let steps = 0;
    let result: Kind | undefined;
    try {
      const p = parsePipeline(json, { extensions: pipelineExtensions });
      const checked = checkPipeline(p, { lenient, extensions: pipelineExtensions });
      issues = [...checked.issues];
      result = checked.result;
      steps = p.length;
      if (positionals[1] !== undefined) {
        const doc = await readClosureInput(positionals[1]);
        const closure = Closure.fromDocument(doc, { exclude: doc.excludePaths });
        for (const n of namedPaths(p)) {
          if (!closure.has(n.path)) {
            issues.push({
              severity: "warning",
              code: "absent-path",
              location: n.location,
              message: `${n.location}: ${JSON.stringify(n.path)} is not in the closure${doc.excludePaths?.includes(n.path) ? " (it is in exclude_paths)" : ""}; ${n.op} ignores it`,
            });
          }
        }
      }
    } catch (e) {
      if (!isStrataError(e) || e.name !== "PipelineError") throw e;
      issues = [{ severity: "error", code: e.code, location: "", message: e.message }];
    }
    for (const i of issues) {
      const [loc, ...rest] = i.message.split(": ");
      io.out(`${loc}: ${i.severity}: ${rest.join(": ")}\n`);
    }
    const failing = issues.filter((i) => i.severity !== "warning").length;
    const warnings = issues.length - failing;
    if (failing > 0) {
      io.out(`${failing} error${failing === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}\n`);
      return 2;
    }
    io.out(`ok: ${steps} step${steps === 1 ? "" : "s"}, result ${describeResult(result)}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}\n`);
    return 0;
  },
};

function describeResult(k: Kind | undefined): string {
  if (k === undefined || k.k === "any") return "a list";
  if (k.k === "dict") return `a dict (${k.keys.map((e) => e.key).join(", ")})`;
  if (k.k === "list") return k.of.k === "graph" ? "a list of graphs" : "a list";
  return "a graph";
}
