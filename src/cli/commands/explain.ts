// `strata explain INPUT PATH`: which layer a path lands in and why. The facts
// and their rows come from src/explain/ (the worker and the web page use it
// too); this command runs the plan, resolves PATH and prints the rows.
import { UsageError } from "../../errors.js";
import type { ClosureDocument } from "../../graph/document.js";
import { explainPlannedPath, explanationRows, type FullExplanation } from "../../explain/index.js";
import { formatBytes } from "../../report/format.js";
import { parseCommandArgs, type CliIo, type Command } from "../command.js";
import { palette } from "../messages.js";
import { planOptionSpecsFor, planOptionsHelpText, runPlan, setupPlan, type Planned } from "../plan.js";

export { explainPlannedPath, type FullExplanation } from "../../explain/index.js";

const help = () => `Usage: strata explain INPUT PATH [options]

Says which layer PATH lands in and why: its layer (and position in it), its
size and closure size, its nixpkgs popularity and rank, its dominator (the
path every route from a root to it passes through), the roots that reach it,
the groups that matched it (--group), the strategy's own reasons (auto-layer's
primaries, Nixery's merge rating, min-pull's change probability, the
pipeline), the expected bytes its layer costs per update under min-pull's
change model, and the other paths of its layer.

PATH: a full store path, or a unique part of one (e.g. "python3-3.11").

Options:
  --json                  the explanation as JSON
  --mates N               list at most N other paths of the layer (default 20;
                          0 = all)
${planOptionsHelpText()}

Examples:
  strata explain .attrs.json python3-3.11
  strata explain closure.json /nix/store/...-glibc-2.39 --strategy auto-layer
  strata explain closure.json openssl --strategy min-pull --history v1.json --history v2.json
  strata explain closure.json libstdc++ --group 'gcc=gcc-*|libgcc*' --json

Exit codes: 0 explained, 2 bad input or options, or PATH not in the closure
(or matching several paths), 1 internal error.
`;

export const explainCommand: Command = {
  name: "explain",
  summary: "which layer a path lands in, and why",
  get help() {
    return help();
  },
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("explain", args, {
      ...planOptionSpecsFor(undefined, "explain"),
      json: { type: "boolean" },
      mates: { type: "string" },
    });
    if (positionals.length !== 2) throw new UsageError(`explain: expected INPUT and PATH, got ${positionals.length} arguments. See 'strata explain --help'.`);
    const matesText = typeof values.mates === "string" ? values.mates : "20";
    if (!/^\d+$/.test(matesText)) throw new UsageError(`explain: --mates expects a whole number, got "${matesText}"`);
    const setup = await setupPlan("explain", values, io);
    const planned = await runPlan(positionals[0], setup);
    const path = resolvePath(planned.doc, positionals[1]);
    const e = explainPlanned(planned, path);
    if (values.json === true) {
      io.out(JSON.stringify(e, null, 2) + "\n");
      return 0;
    }
    io.out(renderExplanation(e, Number(matesText), io));
    return 0;
  },
};

export function explainPlanned(planned: Planned, path: string): FullExplanation {
  const { setup } = planned;
  // Reordered layers no longer line up with min-pull's per-layer detail.
  const detail = planned.grouped !== undefined || (planned.composite && setup.strategy.detailByLayer === true) ? undefined : planned.result?.detail;
  return explainPlannedPath(
    {
      doc: planned.doc,
      layers: planned.layers,
      strategy: setup.strategy,
      detail,
      kernels: setup.kernels,
      roots: (setup.options.roots as string[] | undefined) ?? planned.doc.roots,
      assignments: planned.grouped?.assignments,
      model: setup.model,
      excluded: planned.excluded,
    },
    path,
  );
}

/** A full path, or the one path containing the text. */
export function resolvePath(doc: ClosureDocument, text: string): string {
  if (doc.entries.some((e) => e.path === text)) return text;
  const hits = doc.entries.filter((e) => e.path.includes(text)).map((e) => e.path);
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) throw new UsageError(`explain: no path of the closure contains "${text}"`);
  throw new UsageError(
    `explain: "${text}" matches ${hits.length} paths: ${hits.slice(0, 5).join(", ")}${hits.length > 5 ? ", ..." : ""}; give more of the path`,
  );
}

export function renderExplanation(e: FullExplanation, maxMates: number, io: CliIo): string {
  const c = palette(io, "stdout");
  const rows = explanationRows(e);
  const width = Math.max(...rows.map(([l]) => l.length));
  const lines = [c.bold(e.path), ...rows.map(([l, v]) => `  ${l.padEnd(width)}  ${v}`), "", "Why:", ...e.why.map((w) => `  - ${w}`)];
  if (e.layer !== null && e.layerMates.length > 0) {
    const shown = maxMates === 0 ? e.layerMates : e.layerMates.slice(0, maxMates);
    lines.push("", `Shares layer ${e.layer + 1} with ${e.layerMates.length} path${e.layerMates.length === 1 ? "" : "s"}:`);
    for (const m of shown) lines.push(`  ${m.path}  ${c.dim(formatBytes(m.narSize))}`);
    if (shown.length < e.layerMates.length) lines.push(`  ... and ${e.layerMates.length - shown.length} more (--mates 0 lists all)`);
  }
  return lines.join("\n") + "\n";
}
