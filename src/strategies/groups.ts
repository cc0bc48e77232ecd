// Users in control: named groups of paths pinned to their own layers, heavy
// paths alone, and the rest left to a strategy with the remaining budget.
//
// A group matches store names (the path without "/nix/store/<hash>-", e.g.
// "python3-3.11.2") by glob ("python3*", alternatives with "|":
// "torch*|nvidia-*|triton*") or by regular expression ("re:^python3\.\d+").
// Example: groups interpreter=python3*, heavy=torch*|nvidia-*:each, budget 99
// -> one layer with the python3 paths, one layer per torch/nvidia path, and
// the strategy plans the remaining paths into 99 - 1 - (torch/nvidia count)
// layers. A path matching several groups goes to the first (the overlap is
// recorded so `explain` can say so).
import { Closure } from "../graph/closure.js";
import type { ClosureDocument, ClosureEntry } from "../graph/document.js";
import { UsageError } from "../errors.js";
import { storeName } from "../graph/store-name.js";
import type { Layers } from "./types.js";
import { reachTs } from "../kernels/ts/reach.js";

export interface GroupSpec {
  readonly name: string;
  /** Glob alternatives separated by "|", or "re:<regular expression>". */
  readonly match: string;
  /** One layer per member instead of one layer for the group. */
  readonly each?: boolean;
  /** Also claim the members' dependencies not claimed by an earlier group. */
  readonly withDeps?: boolean;
}

/**
 * Parses the CLI form "name=pattern[:each][:deps]", e.g.
 * "heavy=torch*|nvidia-*:each" or "py=re:^python3(\.\d+)?-:deps".
 */
export function parseGroupArgument(text: string): GroupSpec {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`--group "${text}": expected NAME=PATTERN[:each][:deps], e.g. interpreter=python3*`);
  const name = text.slice(0, eq);
  let rest = text.slice(eq + 1);
  let each = false;
  let withDeps = false;
  for (;;) {
    if (rest.endsWith(":each")) {
      each = true;
      rest = rest.slice(0, -5);
    } else if (rest.endsWith(":deps")) {
      withDeps = true;
      rest = rest.slice(0, -5);
    } else break;
  }
  if (rest.length === 0) throw new UsageError(`--group "${text}": the pattern is empty`);
  compileMatcher(rest, `--group ${name}`);
  return { name, match: rest, each, withDeps };
}

/** A predicate over store names. Globs: "*" any run, "?" one character; anchored at both ends. */
export function compileMatcher(pattern: string, where = "group"): (name: string) => boolean {
  if (pattern.startsWith("re:")) {
    let re: RegExp;
    try {
      re = new RegExp(pattern.slice(3), "u");
    } catch (e) {
      throw new UsageError(`${where}: invalid regular expression ${JSON.stringify(pattern.slice(3))}: ${(e as Error).message}`);
    }
    return (name) => re.test(name);
  }
  const alternatives = pattern.split("|").map((glob) => {
    const body = glob
      .replace(/[.+^${}()[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    return new RegExp(`^(?:${body})$`, "u");
  });
  return (name) => alternatives.some((re) => re.test(name));
}

export interface GroupOptions {
  readonly groups?: readonly GroupSpec[];
  /** Every path above this many bytes gets its own layer (after the groups). */
  readonly heavyBytes?: number;
  /** Store-path layers for everything: groups, heavy paths and the rest. */
  readonly budget: number;
  /** A group that matches nothing is an error instead of a warning. */
  readonly strict?: boolean;
}

export interface GroupedLayer {
  readonly paths: string[];
  /** The group's name, "heavy", or undefined for the strategy's layers. */
  readonly group?: string;
}

export interface GroupedPlan {
  readonly layers: GroupedLayer[];
  /** Paths claimed by a group, with every group whose pattern matched them (first = the one that won). */
  readonly assignments: ReadonlyMap<string, readonly string[]>;
  readonly warnings: readonly string[];
  /** Layers left to the strategy. */
  readonly restBudget: number;
}

/** Plans with pinned groups and heavy paths first, then `planRest` on what is left. */
export function planWithGroups(
  doc: ClosureDocument,
  options: GroupOptions,
  planRest: (rest: ClosureDocument, budget: number) => Layers,
  /** The document's closure when the caller has it already (one closure per plan). */
  closure: Closure = Closure.fromDocument(doc),
): GroupedPlan {
  const n = closure.n;
  const owner = new Int32Array(n).fill(-1); // index into `specs`, or specs.length for heavy
  const specs = options.groups ?? [];
  const names = closure.paths.map(storeName);
  const matchedBy = new Map<string, string[]>();
  const warnings: string[] = [];
  const layers: GroupedLayer[] = [];
  const seenNames = new Set<string>();
  specs.forEach((spec, gi) => {
    if (seenNames.has(spec.name)) throw new UsageError(`group "${spec.name}" is defined twice`);
    seenNames.add(spec.name);
    const test = compileMatcher(spec.match, `group ${spec.name}`);
    const members: number[] = [];
    let matched = 0;
    for (let v = 0; v < n; v++) {
      if (!test(names[v])) continue;
      matched++;
      const list = matchedBy.get(closure.paths[v]) ?? [];
      list.push(spec.name);
      matchedBy.set(closure.paths[v], list);
      if (owner[v] < 0) {
        owner[v] = gi;
        members.push(v);
      }
    }
    if (members.length === 0) {
      const msg =
        matched > 0
          ? `group "${spec.name}" (${spec.match}) only matches paths an earlier group already took`
          : `group "${spec.name}" (${spec.match}) matches no path of the closure`;
      if (options.strict) throw new UsageError(msg);
      warnings.push(msg);
      return;
    }
    if (spec.withDeps) {
      const reached = reachTs(closure, members);
      for (let v = 0; v < n; v++) {
        if (reached[v] && owner[v] < 0) {
          owner[v] = gi;
          members.push(v);
        }
      }
    }
    members.sort((a, b) => a - b); // nixpkgs vertex order: narSize ascending, stable
    if (spec.each) for (const v of members) layers.push({ paths: [closure.paths[v]], group: spec.name });
    else layers.push({ paths: members.map((v) => closure.paths[v]), group: spec.name });
  });
  if (options.heavyBytes !== undefined) {
    if (!(options.heavyBytes >= 0)) throw new UsageError(`--heavy must be a size in bytes, got ${options.heavyBytes}`);
    const heavy: number[] = [];
    for (let v = 0; v < n; v++) if (owner[v] < 0 && closure.narSize[v] > options.heavyBytes) heavy.push(v);
    // Largest first: if the budget cannot hold them all, the message says which.
    heavy.sort((a, b) => closure.narSize[b] - closure.narSize[a] || a - b);
    for (const v of heavy) {
      owner[v] = specs.length;
      layers.push({ paths: [closure.paths[v]], group: "heavy" });
    }
  }
  const restVertices: number[] = [];
  for (let v = 0; v < n; v++) if (owner[v] < 0) restVertices.push(v);
  const restBudget = options.budget - layers.length;
  if (restBudget < 0 || (restBudget === 0 && restVertices.length > 0)) {
    throw new UsageError(
      `the groups and heavy paths alone need ${layers.length} layers, and the budget of ${options.budget} leaves ` +
        `${Math.max(0, restBudget)} for the other ${restVertices.length} paths; raise the budget, use fewer ":each" groups or a larger --heavy size`,
    );
  }
  if (restVertices.length > 0) {
    const restPaths = new Set(restVertices.map((v) => closure.paths[v]));
    const entries: ClosureEntry[] = [];
    // Input order is kept: it breaks narSize ties in nixpkgs' vertex order.
    for (const e of doc.entries) {
      if (!restPaths.has(e.path)) continue;
      entries.push({ ...e, references: e.references.filter((r) => restPaths.has(r)) });
    }
    const rest: ClosureDocument = { format: doc.format, entries };
    for (const layer of planRest(rest, restBudget)) if (layer.length > 0) layers.push({ paths: layer });
  }
  const assignments = new Map<string, readonly string[]>();
  for (const [p, list] of matchedBy) assignments.set(p, list);
  return { layers, assignments, warnings, restBudget };
}
