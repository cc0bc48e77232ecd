// `strata dot INPUT`: the closure as Graphviz DOT, layers as clusters. Large
// closures get the collapsed view (one node per layer, edges between layers
// with reference counts), which stays readable; --full forces every path.
import { UsageError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import { writeFileAtomic } from "../../io/node.js";
import { formatBytes } from "../../report/format.js";
import { storeName } from "../../graph/store-name.js";
import type { Layers } from "../../strategies/types.js";
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command } from "../command.js";
import { planOptionSpecsFor, planOptionsHelpText, runPlan, setupPlan } from "../plan.js";

/** Paths above which the collapsed view is the default. */
export const FULL_GRAPH_LIMIT = 300;

/** A DOT double-quoted string: only `"` and `\` need escaping (and newlines). */
export function dotString(s: string): string {
  return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") + '"';
}

export function fullDot(closure: Closure, layers: Layers, title: string): string {
  const layerOf = new Int32Array(closure.n).fill(-1);
  layers.forEach((l, i) =>
    l.forEach((p) => {
      const v = closure.indexOf(p);
      if (v !== undefined) layerOf[v] = i;
    }),
  );
  const node = (v: number) => `p${v}`;
  const label = (v: number) => dotString(`${storeName(closure.paths[v])}\n${formatBytes(closure.narSize[v])}`);
  const out: string[] = [`digraph strata {`, `  label=${dotString(title)};`, `  labelloc=t;`, `  rankdir=BT;`, `  node [shape=box, fontsize=10];`];
  layers.forEach((l, i) => {
    let bytes = 0;
    for (const p of l) bytes += closure.narSize[closure.indexOf(p) ?? 0] ?? 0;
    out.push(
      `  subgraph cluster_${i + 1} {`,
      `    label=${dotString(`layer ${i + 1}: ${l.length} path${l.length === 1 ? "" : "s"}, ${formatBytes(bytes)}`)};`,
      `    style=rounded;`,
    );
    for (const p of l) {
      const v = closure.indexOf(p);
      if (v !== undefined) out.push(`    ${node(v)} [label=${label(v)}, tooltip=${dotString(p)}];`);
    }
    out.push("  }");
  });
  for (let v = 0; v < closure.n; v++) {
    if (layerOf[v] < 0) out.push(`  ${node(v)} [label=${label(v)}, tooltip=${dotString(closure.paths[v])}, style=dashed];`);
  }
  for (let u = 0; u < closure.n; u++) for (const w of closure.references(u)) out.push(`  ${node(u)} -> ${node(w)};`);
  out.push("}");
  return out.join("\n") + "\n";
}

export function collapsedDot(closure: Closure, layers: Layers, title: string): string {
  const layerOf = new Int32Array(closure.n).fill(-1);
  const bytes = layers.map(() => 0);
  layers.forEach((l, i) =>
    l.forEach((p) => {
      const v = closure.indexOf(p);
      if (v !== undefined) {
        layerOf[v] = i;
        bytes[i] += closure.narSize[v];
      }
    }),
  );
  const none = layers.length; // paths in no layer (excluded)
  const counts = new Map<number, number>();
  const key = (a: number, b: number) => a * (none + 1) + b;
  let unlayered = 0;
  for (let u = 0; u < closure.n; u++) {
    const a = layerOf[u] < 0 ? none : layerOf[u];
    if (a === none) unlayered++;
    for (const w of closure.references(u)) {
      const b = layerOf[w] < 0 ? none : layerOf[w];
      if (a !== b) counts.set(key(a, b), (counts.get(key(a, b)) ?? 0) + 1);
    }
  }
  const out: string[] = [
    `digraph strata {`,
    `  label=${dotString(`${title} (collapsed: one node per layer, edges = references between layers)`)};`,
    `  labelloc=t;`,
    `  rankdir=BT;`,
    `  node [shape=box, fontsize=10];`,
  ];
  layers.forEach((l, i) => {
    const first = l.length > 0 ? storeName(l[0]) : "";
    out.push(
      `  l${i + 1} [label=${dotString(`layer ${i + 1}\n${l.length} path${l.length === 1 ? "" : "s"}, ${formatBytes(bytes[i])}\n${first}${l.length > 1 ? ", ..." : ""}`)}];`,
    );
  });
  if (unlayered > 0) out.push(`  excluded [label=${dotString(`not in any layer\n${unlayered} path${unlayered === 1 ? "" : "s"}`)}, style=dashed];`);
  const name = (i: number) => (i === none ? "excluded" : `l${i + 1}`);
  for (const [k, n] of [...counts].sort((x, y) => x[0] - y[0])) {
    out.push(`  ${name(Math.floor(k / (none + 1)))} -> ${name(k % (none + 1))} [label=${dotString(String(n))}];`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}

const help = () => `Usage: strata dot INPUT [options]

Prints the closure and its layer plan as Graphviz DOT: each layer a cluster
labelled with its path count and size, each path a node labelled with its
name and size, each reference an edge. Closures over ${FULL_GRAPH_LIMIT} paths get the
collapsed view by default: one node per layer, edges between layers labelled
with the number of references. Render with e.g. 'dot -Tsvg'.

Options:
  --full                  every path, however large the closure
  --collapsed             one node per layer, however small the closure
  --full-limit N          paths up to which the full graph is the default (${FULL_GRAPH_LIMIT})
  -o, --output FILE       write to FILE atomically instead of stdout
${planOptionsHelpText()}

Examples:
  strata dot .attrs.json | dot -Tsvg > layers.svg
  strata dot closure.json --strategy auto-layer --full -o full.dot
  strata dot closure.json --strategy min-pull --max-layers 20 --collapsed

Exit codes: 0 written, 2 bad input or options, 1 internal error.
`;

export const dotCommand: Command = {
  name: "dot",
  summary: "Graphviz DOT of the closure with layers as clusters",
  get help() {
    return help();
  },
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("dot", args, {
      ...planOptionSpecsFor(undefined, "dot"),
      full: { type: "boolean" },
      collapsed: { type: "boolean" },
      "full-limit": { type: "string" },
      output: { type: "string", short: "o" },
    });
    if (positionals.length !== 1) throw new UsageError(`dot: expected one INPUT (a file or "-"), got ${positionals.length}. See 'strata dot --help'.`);
    if (values.full === true && values.collapsed === true) throw new UsageError("dot: --full and --collapsed exclude each other");
    const limit = parseIntegerOption("dot", "full-limit", typeof values["full-limit"] === "string" ? values["full-limit"] : undefined) ?? FULL_GRAPH_LIMIT;
    const setup = await setupPlan("dot", values, io);
    const planned = await runPlan(positionals[0], setup);
    const closure = Closure.fromDocument(planned.doc);
    const full = values.full === true || (values.collapsed !== true && closure.n <= limit);
    if (!full && values.collapsed !== true)
      setup.msg.note(`dot: ${closure.n} paths, over ${limit}: collapsed view (one node per layer); --full for every path`);
    const title = `${setup.strategy.name}: ${planned.layers.length} layers, ${closure.n} paths`;
    const text = full ? fullDot(closure, planned.layers, title) : collapsedDot(closure, planned.layers, title);
    const output = typeof values.output === "string" ? values.output : undefined;
    if (output !== undefined) await writeFileAtomic(output, text);
    else io.out(text);
    return 0;
  },
};
