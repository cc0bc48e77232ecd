// `--format pipeline`: a nixpkgs layeringPipeline that makes stock nixpkgs
// (flatten_references_graph) produce a given plan, in-layer order included.
//
// Why not a chain of split_paths: every sub-graph keeps its parent's vertex
// order (narSize ascending, ties by input order), so split/subcomponent ops
// can only cut that order into pieces; most plans order paths differently
// inside a layer (auto-layer by name, Nixery bytewise, min-pull by position).
// The one op that builds a new vertex order is limit_layers: its merged graph
// is the concatenation of its inputs. The construction:
//
//   1. ["remove_paths", P]        paths of the closure that are in no layer
//   2. ["split_every", 1], ["limit_layers", 1]
//                                 one graph E of all paths and no edges
//                                 (split_every drops the edges between chunks)
//   3. per bit b of the layer index, highest first:
//      ["map", ["subcomponent_out", A_b]], ["flatten"]
//                                 A_b = paths whose layer index has bit b = 0.
//                                 E has no edges, so subcomponent_out S is a
//                                 stable partition: {main: S, rest: not S},
//                                 both in the piece's order; flatten keeps
//                                 main before rest. After all bits the pieces
//                                 are the layers, in layer order (MSD radix).
//   4. ["map", ["pipe", [the same partition per bit of the position inside
//      the layer, then ["limit_layers", 1]]]]
//                                 sorts each layer's paths into singletons in
//                                 plan order, and limit_layers 1 concatenates
//                                 them into one graph: the layer, in that order.
//
// The result does not depend on the vertex order nixpkgs starts from (radix
// keys are unique per layer), so narSize ties cannot change it. Empty pieces
// are empty graphs that the final flattening drops. Nesting depth is constant
// (no recursion limits in Python or jq); size is about (log2 layers + log2
// largest layer) / 2 mentions per path. Paths the pipeline does not name
// (a newer closure) get the all-ones layer index, which no planned layer
// has: they land together in one extra top layer.
import { UsageError } from "../errors.js";
import type { ClosureDocument } from "../graph/document.js";
import type { Layers } from "../strategies/types.js";

export interface PlanPipeline {
  /** The layeringPipeline, as JSON data. */
  readonly pipeline: unknown[];
  /** Closure paths in no layer of the plan, removed by the pipeline's remove_paths step. */
  readonly removed: string[];
  readonly layerBits: number;
  readonly positionBits: number;
}

function bitsFor(count: number): number {
  let b = 0;
  while (2 ** b < count) b++;
  return b;
}

/**
 * The pipeline for `layers` on `doc`. nixpkgs removes the document's
 * exclude_paths before the pipeline runs, so the plan may not name them.
 * Fails (UsageError) on plans no pipeline can reproduce: a path twice, an
 * empty layer (nixpkgs drops empty layers), a path the closure lacks.
 */
export function pipelineForPlan(doc: ClosureDocument, layers: Layers): PlanPipeline {
  const excluded = new Set(doc.excludePaths ?? []);
  const inGraph = new Set<string>();
  for (const e of doc.entries) if (!excluded.has(e.path)) inGraph.add(e.path);
  const layerOf = new Map<string, number>();
  const position = new Map<string, number>();
  layers.forEach((layer, i) => {
    if (layer.length === 0) throw new UsageError(`--format pipeline: layer ${i + 1} is empty; nixpkgs drops empty layers, so no pipeline reproduces this plan`);
    layer.forEach((p, j) => {
      const seen = layerOf.get(p);
      if (seen !== undefined) {
        throw new UsageError(`--format pipeline: ${JSON.stringify(p)} is in layer ${seen + 1} and in layer ${i + 1}; nixpkgs puts each path in one layer`);
      }
      if (!inGraph.has(p)) {
        throw new UsageError(
          `--format pipeline: layer ${i + 1} has ${JSON.stringify(p)}, which ${excluded.has(p) ? "is in the document's exclude_paths (nixpkgs removes it before the pipeline runs)" : "is not in the closure"}`,
        );
      }
      layerOf.set(p, i);
      position.set(p, j);
    });
  });
  const removed = [...inGraph].filter((p) => !layerOf.has(p));
  const planned = layers.flat();
  const steps: unknown[] = [];
  if (removed.length > 0) steps.push(["remove_paths", removed]);
  steps.push(["split_every", 1], ["limit_layers", 1]);
  // One more index than layers: the all-ones index stays free for paths the pipeline does not name.
  const layerBits = bitsFor(layers.length + 1);
  for (let b = layerBits - 1; b >= 0; b--) {
    const first = planned.filter((p) => ((layerOf.get(p)! >>> b) & 1) === 0);
    if (first.length === 0) continue;
    steps.push(["map", ["subcomponent_out", first]], ["flatten"]);
  }
  const largest = Math.max(0, ...layers.map((l) => l.length));
  const positionBits = bitsFor(largest);
  const inner: unknown[] = [];
  for (let b = positionBits - 1; b >= 0; b--) {
    // Layers of at most 2^b paths have bit b = 0 everywhere: nothing to partition.
    const first = planned.filter((p) => layers[layerOf.get(p)!].length > 2 ** b && ((position.get(p)! >>> b) & 1) === 0);
    if (first.length === 0) continue;
    inner.push(inner.length === 0 ? ["subcomponent_out", first] : ["map", ["subcomponent_out", first]], ["flatten"]);
  }
  if (inner.length > 0) {
    inner.push(["limit_layers", 1]);
    steps.push(["map", ["pipe", inner]]);
  }
  return { pipeline: steps, removed, layerBits, positionBits };
}

/**
 * The pipeline as text: one step per line (diff-friendly), path lists on one
 * line each. Valid JSON, so nixpkgs can read it as a file.
 */
export function formatPipeline(pipeline: readonly unknown[]): string {
  if (pipeline.length === 0) return "[]\n";
  return "[\n" + pipeline.map((s) => "  " + JSON.stringify(s)).join(",\n") + "\n]\n";
}
