// nixpkgs' layeringPipeline language: model, builder, checker, interpreter,
// and the document-level entry point the `layer` command uses.
import { Closure } from "../graph/closure.js";
import type { ClosureDocument } from "../graph/document.js";
import { defaultPipeline, parsePipeline, type Pipeline } from "./model.js";
import { assertPipelineValid, evaluate, runPipeline, type RunOptions } from "./interpret.js";
import { pipelineExtensions } from "./extensions.js";

export * from "./model.js";
export { pipeline, PipelineBuilder } from "./builder.js";
export { checkPipeline, type CheckResult, type Issue, type Kind } from "./check.js";
export { runPipeline, evaluate, finalLayers, assertPipelineValid, type RunOptions } from "./interpret.js";
export { ExtensionRegistry, pipelineExtensions, type PipelineExtension, type ExtensionGraph } from "./extensions.js";
export { packageName, popularityTieKey, compareCodePoints, sortByPopularity } from "./package-name.js";

export interface DocumentRunOptions extends RunOptions {
  /** Overrides the document's pipeline: a parsed model or nixpkgs JSON. */
  readonly pipeline?: Pipeline | unknown;
  /** Overrides the document's exclude_paths. */
  readonly exclude?: readonly string[];
}

/** Which pipeline a run uses: the override, else the document's, else nixpkgs' default. */
export function pipelineFor(doc: ClosureDocument, options: DocumentRunOptions = {}): Pipeline {
  if (options.pipeline !== undefined) {
    return isParsed(options.pipeline) ? options.pipeline : parsePipeline(options.pipeline, { extensions: options.extensions ?? pipelineExtensions });
  }
  if (doc.pipeline !== undefined) return parsePipeline(doc.pipeline, { extensions: options.extensions ?? pipelineExtensions });
  return defaultPipeline(99);
}

/**
 * What `flatten_references_graph FILE` computes: exclude_paths, then the
 * pipeline, then the final flattening. The pipeline is checked before the graph
 * is built.
 */
export function layersForDocument(doc: ClosureDocument, options: DocumentRunOptions = {}): string[][] {
  const p = pipelineFor(doc, options);
  assertPipelineValid(p, options);
  const closure = Closure.fromDocument(doc, { exclude: options.exclude ?? doc.excludePaths });
  return runPipeline(closure, p, options);
}

function isParsed(p: unknown): p is Pipeline {
  return Array.isArray(p) && p.every((s) => typeof s === "object" && s !== null && !Array.isArray(s) && "op" in s);
}

/**
 * referencesByPopularity (closure-graph.py): every path of the closure, most
 * popular first, ties by package name. Needs no narSize.
 */
export function referencesByPopularity(closure: Closure, options: Pick<RunOptions, "kernels"> = {}): string[] {
  return evaluate(closure, [{ op: "popularity_contest" }], { kernels: options.kernels }, (value) => {
    if (value.t !== "singles") throw new Error("popularity_contest returned an unexpected value");
    return Array.from(value.verts, (v) => closure.paths[v]);
  });
}
export { namedPaths, type NamedPath } from "./paths.js";
