// strata's strategies as pipeline steps (strata extensions: nixpkgs' own tool
// does not know them). Each takes a graph and returns its layers as a list of
// graphs, so it composes with nixpkgs' operations, e.g.
//   [["subcomponent_out", [python]], ["over", "rest", ["min_pull", 90]]]
// The step sees only its sub-graph: the paths and the edges the graph still
// has (after split_paths, edges into split paths are gone).
import type { ClosureDocument, ClosureEntry } from "../graph/document.js";
import type { ArgumentProblem, ExtensionGraph, PipelineExtension } from "../pipeline/extensions.js";
import type { AnyStrategy } from "./types.js";
import type { StrategyRegistry } from "./registry.js";
import { compileMatcher, planWithGroups, type GroupSpec } from "./groups.js";

/** The sub-graph as a closure document, entries in the closure's input order. */
export function subDocument(g: ExtensionGraph): ClosureDocument {
  const { vertices, closure } = g;
  const csr = g.ref === null || g.ref === undefined ? null : g.kernels.read(g.ref);
  const local = Array.from(vertices, (_, i) => i).sort((a, b) => closure.inputIndex[vertices[a]] - closure.inputIndex[vertices[b]]);
  const entries: ClosureEntry[] = local.map((i) => {
    const v = vertices[i];
    const references: string[] = [];
    if (csr !== null) for (let e = csr.offsets[i]; e < csr.offsets[i + 1]; e++) references.push(closure.paths[vertices[csr.targets[e]]]);
    return { path: closure.paths[v], narSize: closure.narSize[v], references };
  });
  return { format: "references-graph", entries };
}

/** Layers of paths -> groups of local vertex indices, as extension steps return them. */
function toLocal(graph: ExtensionGraph, layers: readonly (readonly string[])[]): number[][] {
  const index = new Map<string, number>();
  graph.vertices.forEach((v, i) => index.set(graph.closure.paths[v], i));
  return layers.map((layer) => layer.map((p) => index.get(p)!));
}

function integerArg(args: readonly unknown[], step: string, what: string, min: number): ArgumentProblem | undefined {
  if (args.length !== 1) return { message: `expects one argument (${what}), got ${args.length}` };
  const v = args[0];
  if (typeof v !== "number" || !Number.isInteger(v)) return { message: `expects ${what} as a whole number, got ${JSON.stringify(v)}`, index: 0 };
  if (v < min) return { message: `${what} must be at least ${min}, got ${v} (in ${step})`, index: 0 };
  return undefined;
}

/** The strategy's own step (its `step` descriptor), if it has one. */
export function strategySteps(strategy: AnyStrategy): PipelineExtension[] {
  const step = strategy.step;
  if (step === undefined) return [];
  const { name, argument: what, min } = step;
  return [
    {
      name,
      summary: `["${name}", ${what}]: graph -> list of graphs (${strategy.name}; a strata extension)`,
      output: "list" as const,
      checkArgs: (args: readonly unknown[]) => integerArg(args, name, what, min),
      apply(graph: ExtensionGraph, args: readonly unknown[]): number[][] {
        const doc = subDocument(graph);
        const { layers } = strategy.plan(doc, { ...step.options(args[0] as number), kernels: graph.kernels });
        return toLocal(graph, layers);
      },
    },
  ];
}

/**
 * ["layer_groups", {"groups": [{"name", "match", "each"?, "deps"?}], "heavy"?: bytes,
 *   "strategy"?: name (default "min-pull"), "budget": layers}]: pinned groups and
 * heavy paths in their own layers, the rest planned by the named strategy.
 */
function checkGroupsArg(registry: StrategyRegistry, args: readonly unknown[]): ArgumentProblem | undefined {
  if (args.length !== 1) return { message: `expects one object argument {groups, budget, heavy?, strategy?}, got ${args.length} arguments` };
  const o = args[0];
  if (typeof o !== "object" || o === null || Array.isArray(o)) return { message: "expects an object {groups, budget, heavy?, strategy?}", index: 0 };
  const { groups, budget, heavy, strategy } = o as Record<string, unknown>;
  if (typeof budget !== "number" || !Number.isInteger(budget) || budget < 1)
    return { message: `"budget" must be a whole number of layers >= 1, got ${JSON.stringify(budget)}`, index: 0 };
  if (heavy !== undefined && (typeof heavy !== "number" || !(heavy >= 0)))
    return { message: `"heavy" must be a size in bytes, got ${JSON.stringify(heavy)}`, index: 0 };
  const comparable = registry.comparable();
  if (strategy !== undefined && (typeof strategy !== "string" || !comparable.some((s) => s.name === strategy))) {
    return { message: `"strategy" must name a strategy (${comparable.map((s) => s.name).join(", ")}), got ${JSON.stringify(strategy)}`, index: 0 };
  }
  if (!Array.isArray(groups)) return { message: `"groups" must be a list of {name, match, each?, deps?}`, index: 0 };
  for (const [i, g] of groups.entries()) {
    const r = g as Record<string, unknown>;
    if (typeof g !== "object" || g === null || typeof r.name !== "string" || typeof r.match !== "string") {
      return { message: `groups[${i}] must be {name: string, match: string, each?: boolean, deps?: boolean}`, index: 0 };
    }
    try {
      compileMatcher(r.match, `groups[${i}]`);
    } catch (e) {
      return { message: (e as Error).message, index: 0 };
    }
  }
  return undefined;
}

/** ["layer_groups", ...]: the rest is planned by a strategy of the registry. */
export function groupsStep(registry: StrategyRegistry): PipelineExtension {
  return {
    name: "layer_groups",
    summary: '["layer_groups", {groups, budget, heavy?, strategy?}]: graph -> list of graphs (pinned groups; a strata extension)',
    output: "list" as const,
    checkArgs: (args: readonly unknown[]) => checkGroupsArg(registry, args),
    apply(graph: ExtensionGraph, args: readonly unknown[]): number[][] {
      const o = args[0] as { groups: { name: string; match: string; each?: boolean; deps?: boolean }[]; budget: number; heavy?: number; strategy?: string };
      const rest = registry.get(o.strategy ?? "min-pull")!;
      const groups: GroupSpec[] = o.groups.map((g) => ({ name: g.name, match: g.match, each: g.each === true, withDeps: g.deps === true }));
      const doc = subDocument(graph);
      const plan = planWithGroups(
        doc,
        { groups, heavyBytes: o.heavy, budget: o.budget },
        (restDoc, budget) => rest.plan(restDoc, { budget, maxLayers: budget + 1, kernels: graph.kernels }).layers,
      );
      return toLocal(
        graph,
        plan.layers.map((l) => l.paths),
      );
    },
  };
}
