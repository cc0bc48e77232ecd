// strata's strategies as pipeline steps (strata extensions: nixpkgs' own tool
// does not know them). Each takes a graph and returns its layers as a list of
// graphs, so it composes with nixpkgs' operations, e.g.
//   [["subcomponent_out", [python]], ["over", "rest", ["min_pull", 90]]]
// The step sees only its sub-graph: the paths and the edges the graph still
// has (after split_paths, edges into split paths are gone).
import type { ClosureDocument, ClosureEntry } from "../graph/document.js";
import { pipelineExtensions, type ArgumentProblem, type ExtensionGraph } from "../pipeline/extensions.js";
import type { Strategy, StrategyOptions } from "./types.js";
import { autoLayerStrategy } from "./auto-layer/index.js";
import { nixeryStrategy } from "./nixery/index.js";
import { minPullStrategy } from "./min-pull/index.js";

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

function integerArg(args: readonly unknown[], step: string, what: string, min: number): ArgumentProblem | undefined {
  if (args.length !== 1) return { message: `expects one argument (${what}), got ${args.length}` };
  const v = args[0];
  if (typeof v !== "number" || !Number.isInteger(v)) return { message: `expects ${what} as a whole number, got ${JSON.stringify(v)}`, index: 0 };
  if (v < min) return { message: `${what} must be at least ${min}, got ${v} (in ${step})`, index: 0 };
  return undefined;
}

function strategyStep(name: string, strategy: Strategy, what: string, min: number, options: (n: number) => StrategyOptions) {
  return {
    name,
    summary: `["${name}", ${what}]: graph -> list of graphs (${strategy.name}; a strata extension)`,
    output: "list" as const,
    checkArgs: (args: readonly unknown[]) => integerArg(args, name, what, min),
    apply(graph: ExtensionGraph, args: readonly unknown[]): number[][] {
      const doc = subDocument(graph);
      const index = new Map<string, number>();
      graph.vertices.forEach((v, i) => index.set(graph.closure.paths[v], i));
      const { layers } = strategy.plan(doc, { ...options(args[0] as number), kernels: graph.kernels });
      return layers.map((layer) => layer.map((p) => index.get(p)!));
    },
  };
}

let registered = false;

/** Adds the steps to the shared registry (idempotent). */
export function registerStrategySteps(): void {
  if (registered) return;
  registered = true;
  // auto_layer takes auto-layer.py's raw LAYER_LIMIT (0 and negatives behave like 1, as there).
  pipelineExtensions.register(strategyStep("auto_layer", autoLayerStrategy, "layer limit", -Infinity, (n) => ({ layerLimit: n })));
  pipelineExtensions.register(strategyStep("nixery", nixeryStrategy, "layer budget", 1, (n) => ({ budget: n })));
  pipelineExtensions.register(strategyStep("min_pull", minPullStrategy, "layer budget", 1, (n) => ({ budget: n })));
}
