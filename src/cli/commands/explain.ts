// `strata explain INPUT PATH`: which layer a path lands in and why. The facts
// every front end shows come from explainPath (src/worker/explain.ts, which
// the web page uses too); this adds what needs the whole plan setup: the
// dominator, the roots that reach the path, the groups that matched it and the
// layer's expected change cost under min-pull's change model.
import { UsageError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import type { ClosureDocument } from "../../graph/document.js";
import type { Kernels } from "../../kernels/types.js";
import { packageName, sortByPopularity } from "../../pipeline/index.js";
import { formatBytes } from "../../report/format.js";
import type { ChangeModelOptions } from "../../model/change.js";
import { layerChangeProbabilities } from "../../strategies/order.js";
import type { Layers } from "../../strategies/types.js";
import { explainPath, type Explanation } from "../../worker/explain.js";
import { parseCommandArgs, type CliIo, type Command } from "../command.js";
import { palette } from "../messages.js";
import { planOptionSpecs, planOptionsHelp, runPlan, setupPlan, type Planned } from "../plan.js";

export interface FullExplanation extends Explanation {
  /** Immediate dominator: every path from a root to this one passes through it (null: only the image root). */
  readonly dominator: string | null;
  /** Roots of the closure (or the document's roots) whose closure contains the path. */
  readonly reachedFrom: string[];
  /** Groups whose pattern matched the path, the one that took it first; null without --group. */
  readonly groups: readonly string[] | null;
  /** P(the path's layer changes in one update) and the bytes that costs on average. */
  readonly layerChangeProbability: number | null;
  readonly expectedLayerBytesPerUpdate: number | null;
  /** The other paths of its layer, in layer order, with their narSize. */
  readonly layerMates: { readonly path: string; readonly narSize: number }[];
}

/** Everything about one path of a plan. Platform-neutral (the web page can use it as well). */
export function explainPlannedPath(
  input: {
    doc: ClosureDocument;
    layers: Layers;
    strategy: string;
    detail?: unknown;
    kernels: Kernels;
    roots?: readonly string[];
    assignments?: ReadonlyMap<string, readonly string[]>;
    model?: ChangeModelOptions;
    /** Paths left out of the image: the graph nixpkgs sees has them removed (unless PATH is one). */
    excluded?: readonly string[];
  },
  path: string,
): FullExplanation {
  const excluded = input.excluded !== undefined && !input.excluded.includes(path) ? input.excluded : [];
  const closure = Closure.fromDocument(input.doc, { exclude: excluded });
  const k = input.kernels;
  const v = closure.indexOf(path);
  const values = k.scope(() => k.popularity(k.load(closure)));
  const order = sortByPopularity(closure.n, values, (i) => packageName(closure.paths[i]));
  const rank = new Uint32Array(closure.n);
  order.forEach((w, i) => (rank[w] = i + 1));
  const base = explainPath({
    doc: input.doc,
    closure,
    kernels: k,
    popularity: { values, rank },
    strategy: input.strategy,
    result: { layers: input.layers, detail: input.detail },
    path,
  });
  const vv = v!; // explainPath threw for unknown paths
  const rootList = (input.roots ?? []).map((p) => closure.indexOf(p)).filter((r): r is number => r !== undefined);
  const roots = rootList.length > 0 ? rootList : closure.roots();
  const { idom, ancestors } = k.scope(() => {
    const g = k.load(closure);
    return { idom: k.dominators(g, roots), ancestors: k.reach(g, [vv], "in") };
  });
  const d = idom[vv];
  const reachedFrom = roots.filter((r) => ancestors[r]).map((r) => closure.paths[r]);
  let p: number | null = null;
  let expected: number | null = null;
  if (base.layer !== null) {
    p = layerChangeProbabilities(closure, input.layers, input.model ?? {})[base.layer];
    expected = p * base.layerBytes;
  }
  const mates = base.layer === null ? [] : input.layers[base.layer].filter((q) => q !== path);
  return {
    ...base,
    dominator: d >= 0 ? closure.paths[d] : null,
    reachedFrom,
    groups: input.assignments === undefined ? null : (input.assignments.get(path) ?? []),
    layerChangeProbability: p,
    expectedLayerBytesPerUpdate: expected,
    layerMates: mates.map((q) => ({ path: q, narSize: closure.narSize[closure.indexOf(q)!] })),
  };
}

const help = `Usage: strata explain INPUT PATH [options]

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
${planOptionsHelp}

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
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("explain", args, { ...planOptionSpecs, json: { type: "boolean" }, mates: { type: "string" } });
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
  const detail = planned.grouped !== undefined || (planned.composite && setup.strategy.name === "min-pull") ? undefined : planned.result?.detail;
  return explainPlannedPath(
    {
      doc: planned.doc,
      layers: planned.layers,
      strategy: setup.strategy.name,
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
  throw new UsageError(`explain: "${text}" matches ${hits.length} paths: ${hits.slice(0, 5).join(", ")}${hits.length > 5 ? ", ..." : ""}; give more of the path`);
}

export function renderExplanation(e: FullExplanation, maxMates: number, io: CliIo): string {
  const c = palette(io, "stdout");
  const rows: [string, string][] = [];
  rows.push([
    "layer",
    e.layer === null ? "none (left out of the image)" : `${e.layer + 1} of ${e.layerCount} (position ${e.positionInLayer! + 1} of ${e.layerPaths}, ${formatBytes(e.layerBytes)})`,
  ]);
  rows.push(["size", `${formatBytes(e.narSize)} (${e.narSize} B)`]);
  rows.push(["closure", `${formatBytes(e.closureBytes)} in ${e.closurePaths} path${e.closurePaths === 1 ? "" : "s"}`]);
  rows.push(["referrers", `${e.referrers} (references ${e.references})`]);
  rows.push(["popularity", `${e.popularity} (#${e.popularityRank} in popularity_contest order)`]);
  rows.push(["dominator", e.dominator ?? "none: reached from more than one root, or a root itself"]);
  rows.push(["reached from", e.reachedFrom.length === 0 ? "(it is not below any root)" : `${e.reachedFrom.length} root${e.reachedFrom.length === 1 ? "" : "s"}: ${e.reachedFrom.slice(0, 5).join(", ")}${e.reachedFrom.length > 5 ? ", ..." : ""}`]);
  if (e.groups !== null) rows.push(["groups", e.groups.length === 0 ? "none matched" : e.groups.length === 1 ? e.groups[0] : `${e.groups[0]} (also matched: ${e.groups.slice(1).join(", ")})`]);
  if (e.layerChangeProbability !== null) {
    rows.push(["change cost", `its layer changes in ${(e.layerChangeProbability * 100).toFixed(1)}% of updates: ${formatBytes(e.expectedLayerBytesPerUpdate!)} pulled per update on average`]);
  }
  for (const f of e.facts) rows.push([f.label, f.value]);
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
