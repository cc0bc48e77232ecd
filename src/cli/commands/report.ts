// `strata report INPUT`: one self-contained HTML file (inline SVG, no scripts,
// no network) with the plan's layers, a chart of their sizes, the biggest
// paths, and with --series the bytes pulled per update.
import { UsageError } from "../../errors.js";
import { evaluateSeries, layerBytes, sizeTable, type NamedClosure, type Planner } from "../../evaluate/evaluate.js";
import { htmlPage, seriesHtml } from "../../evaluate/render.js";
import { readClosureInput, writeFileAtomic } from "../../io/node.js";
import { escapeHtml, formatBytes } from "../../report/format.js";
import { groupedBarChart } from "../../report/svg.js";
import { baselineStrategyName, strategyRegistry } from "../../strategies/index.js";
import { storeName } from "../../graph/store-name.js";
import { parseCommandArgs, type CliIo, type Command } from "../command.js";
import { messages } from "../messages.js";
import { planDocument, planOptionSpecsFor, planOptionsHelpText, runPlan, setupPlan, type Planned, type PlanSetup } from "../plan.js";

const help = () => `Usage: strata report INPUT [--series V0 V1 ...] [options] -o report.html

Writes one self-contained HTML file (inline SVG charts, no scripts, no network
requests): the plan's layers with their sizes, a chart of the layer sizes, the
biggest paths and the layers they are in. With --series, the closures after
it (versions of the image, oldest first) are planned the same way and the
report adds the bytes a client pulls per update, beside nixpkgs' default
(popularity) with the same budget, the ideal and the worst case. min-pull sees
each version's previous plan, as it would in use.

Options:
  --series                the positional arguments after INPUT are versions of
                          the image, oldest first
  --top N                 biggest paths to list (default 25)
  -o, --output FILE       write to FILE atomically (default: stdout)
${planOptionsHelpText()}

Examples:
  strata report .attrs.json -o report.html
  strata report v3.json.gz --series v0.json.gz v1.json.gz v2.json.gz v3.json.gz --strategy min-pull -o report.html

Exit codes: 0 written, 2 bad input or options, 1 internal error.
`;

export const reportCommand: Command = {
  name: "report",
  summary: "a self-contained HTML report of a plan (and of an update series)",
  get help() {
    return help();
  },
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("report", args, {
      ...planOptionSpecsFor(undefined, "report"),
      series: { type: "boolean" },
      top: { type: "string" },
      output: { type: "string", short: "o" },
    });
    const series = values.series === true;
    if (positionals.length < 1) throw new UsageError("report: expected INPUT. See 'strata report --help'.");
    if (!series && positionals.length > 1) throw new UsageError(`report: expected one INPUT, got ${positionals.length} (use --series for versions)`);
    if (series && positionals.length < 3) throw new UsageError("report: --series needs at least two versions after INPUT (oldest first)");
    const topText = typeof values.top === "string" ? values.top : "25";
    if (!/^\d+$/.test(topText)) throw new UsageError(`report: --top expects a whole number, got "${topText}"`);
    const setup = await setupPlan("report", values, io);
    const planned = await runPlan(positionals[0], setup);
    let body = planHtml(planned, Number(topText));
    if (series) {
      const versions: NamedClosure[] = [];
      for (const f of positionals.slice(1)) versions.push({ name: shortName(f), doc: await readClosureInput(f) });
      const ev = evaluateSeries(versions, seriesPlanners(setup));
      body += seriesHtml(ev);
    }
    const html = htmlPage(`strata: ${shortName(positionals[0])}, ${setup.strategy.name}`, body);
    const output = typeof values.output === "string" ? values.output : undefined;
    if (output !== undefined) {
      await writeFileAtomic(output, html);
      if (!setup.quiet) io.err(`strata: wrote ${output}\n`);
    } else io.out(html);
    return 0;
  },
};

function seriesPlanners(setup: PlanSetup): Planner[] {
  const silent: PlanSetup = {
    ...setup,
    msg: messages({ out: () => undefined, err: () => undefined, stdoutIsTty: false, stderrIsTty: false, env: {} }, true),
    verbose: false,
  };
  const own: Planner = {
    name: describeSetup(setup),
    plan(doc, previous) {
      const s = setup.strategy.takesPrevious === true && previous ? { ...silent, options: { ...silent.options, previous: previous.layers } } : silent;
      return planDocument(doc, s).layers;
    },
  };
  const popularity = strategyRegistry.get(baselineStrategyName)!;
  if (setup.strategy === popularity || setup.groups.length > 0) return [own];
  const baseline: Planner = {
    name: "popularity (nixpkgs default)",
    plan: (doc) => popularity.plan(doc, { maxLayers: setup.budget.layers + 1, fromImageLayers: 0, kernels: setup.kernels }).layers,
  };
  return [own, baseline];
}

function describeSetup(setup: PlanSetup): string {
  const extra = [
    setup.groups.length > 0 ? "groups" : "",
    setup.heavyBytes !== undefined ? "heavy" : "",
    setup.order === "stable-first" ? "stable-first" : "",
  ].filter(Boolean);
  return extra.length ? `${setup.strategy.name} (${extra.join(", ")})` : setup.strategy.name;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("")}</table>`;
}

export function planHtml(planned: Planned, top: number): string {
  const { doc, layers, setup } = planned;
  const sizes = sizeTable(doc);
  const bytes = layers.map((l) => layerBytes(l, sizes));
  const total = bytes.reduce((a, b) => a + b, 0);
  const layerOf = new Map<string, number>();
  layers.forEach((l, i) => l.forEach((p) => layerOf.set(p, i)));
  const summary = table(
    ["", "value"],
    [
      ["strategy", describeSetup(setup)],
      ["store-path layers", `${layers.length} (budget ${setup.budget.layers}${setup.budget.explicit ? "" : ", the strategy's default"})`],
      ["paths", `${layers.reduce((a, l) => a + l.length, 0)} of ${doc.entries.length}`],
      ["image bytes (store paths)", `${formatBytes(total)} (${total} B)`],
      ["largest layer", bytes.length ? formatBytes(Math.max(...bytes)) : "-"],
    ],
  );
  const chart = groupedBarChart(
    "Layer sizes, bottom layer first",
    layers.map((_, i) => String(i + 1)),
    [{ name: "layer bytes", values: bytes }],
  );
  const layerRows = layers.map((l, i) => [
    String(i + 1),
    String(l.length),
    formatBytes(bytes[i]),
    l.slice(0, 3).map(storeName).join(", ") + (l.length > 3 ? `, ... (${l.length - 3} more)` : ""),
  ]);
  const biggest = [...doc.entries].sort((a, b) => b.narSize - a.narSize || (a.path < b.path ? -1 : 1)).slice(0, top);
  const bigRows = biggest.map((e) => [storeName(e.path), formatBytes(e.narSize), layerOf.has(e.path) ? String(layerOf.get(e.path)! + 1) : "excluded"]);
  return (
    `<h2>Plan</h2>${summary}${chart}` +
    `<h2>Layers</h2>${table(["layer", "paths", "size", "contents"], layerRows)}` +
    `<h2>Biggest paths</h2>${table(["path", "size", "layer"], bigRows)}`
  );
}

function shortName(file: string): string {
  const base = file === "-" ? "stdin" : file.slice(file.lastIndexOf("/") + 1);
  return base.replace(/\.gz$/, "").replace(/\.json$/, "");
}
