// Extension steps: strata strategies usable inside a nixpkgs-style pipeline,
// e.g. `[["subcomponent_out", [app]], ["over", "rest", ["auto_layer", 98]]]`.
// nixpkgs does not know them, so a pipeline using one is strata-only.
//
// An extension takes a graph value and returns either one graph or a list of
// graphs. It sees the graph as the interpreter holds it: closure vertex ids in
// the graph's vertex order (nixpkgs order: narSize ascending, ties by input
// position, or concatenation order after limit_layers), the closure (paths,
// narSize), and the resident GraphRef whose local vertex i is vertices[i]
// (edges are the graph's own: a sub-graph after split_paths lacks edges into
// split paths, a merged graph has no edges between its parts).
//
// Strategies contribute theirs through their `step` descriptor; the one
// composition root (src/strategies/index.ts) registers them here.
import type { Closure } from "../graph/closure.js";
import type { GraphRef, Kernels } from "../kernels/types.js";

export interface ExtensionGraph {
  /** Closure vertex id of each local vertex, in the graph's vertex order. */
  readonly vertices: Uint32Array;
  readonly closure: Closure;
  /** The graph resident in `kernels`; local vertex i is closure vertex vertices[i]. */
  readonly ref: GraphRef;
  readonly kernels: Kernels;
}

/** A problem with the arguments: the message follows the step name; index = which argument (0-based). */
export interface ArgumentProblem {
  readonly message: string;
  readonly index?: number;
}

export interface PipelineExtension {
  /** Step name as written in JSON, e.g. "auto_layer". Must not shadow a nixpkgs step. */
  readonly name: string;
  /** Shown in `strata check` and the docs, e.g. '["auto_layer", layers]: graph -> list of graphs'. */
  readonly summary: string;
  /** What the step returns: one graph, or a list of graphs. */
  readonly output: "graph" | "list";
  /** Validates the arguments (everything after the name) before any graph work. */
  checkArgs(args: readonly unknown[]): ArgumentProblem | undefined;
  /**
   * Runs the step. Returns groups of LOCAL vertex indices (positions in
   * graph.vertices); each group becomes the induced sub-graph with its
   * vertices in the given order. With output "graph", exactly one group.
   */
  apply(graph: ExtensionGraph, args: readonly unknown[]): readonly ArrayLike<number>[];
}

export class ExtensionRegistry {
  private readonly byName = new Map<string, PipelineExtension>();

  constructor(extensions: readonly PipelineExtension[] = []) {
    for (const e of extensions) this.register(e);
  }

  register(ext: PipelineExtension): this {
    if (nixpkgsSteps.has(ext.name)) throw new Error(`pipeline extension "${ext.name}" would shadow the nixpkgs step of that name`);
    if (this.byName.has(ext.name)) throw new Error(`pipeline extension "${ext.name}" is registered twice`);
    this.byName.set(ext.name, ext);
    return this;
  }

  get(name: string): PipelineExtension | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): PipelineExtension[] {
    return [...this.byName.values()];
  }
}

const nixpkgsSteps = new Set([
  "split_paths",
  "subcomponent_in",
  "subcomponent_out",
  "popularity_contest",
  "limit_layers",
  "split_every",
  "remove_paths",
  "reverse",
  "flatten",
  "over",
  "map",
  "pipe",
]);

/** The registry the CLI uses. Strategies register their steps here. */
export const pipelineExtensions = new ExtensionRegistry();
