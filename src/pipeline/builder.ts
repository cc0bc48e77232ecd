// A fluent builder for pipelines that compiles to the same model (and JSON)
// as the hand-written nixpkgs form:
//
//   pipeline()
//     .subcomponentOut([python])
//     .over("rest", (p) => p.popularityContest().limitLayers(100))
//     .toJson()
//   // [["subcomponent_out", [python]],
//   //  ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 100]]]]]
//
// A nested builder with exactly one step compiles to that step, with several
// to ["pipe", [...]], which is how nixpkgs users write them.
import { parsePipeline, pipelineToJson, type Pipeline, type SplitSpec, type Step } from "./model.js";

export type Nested = PipelineBuilder | ((p: PipelineBuilder) => PipelineBuilder);

export class PipelineBuilder {
  private constructor(private readonly list: readonly Step[]) {}

  static empty(): PipelineBuilder {
    return new PipelineBuilder([]);
  }

  /** Continues an existing pipeline (model or nixpkgs JSON). */
  static from(p: Pipeline | unknown): PipelineBuilder {
    const model = isModel(p) ? p : parsePipeline(p);
    return new PipelineBuilder(model);
  }

  private then(step: Step): PipelineBuilder {
    return new PipelineBuilder([...this.list, step]);
  }

  /** split_paths: plain paths and `{ childrenOf: path | paths }`. */
  splitPaths(specs: readonly SplitSpec[]): PipelineBuilder {
    return this.then({ op: "split_paths", specs: [...specs] });
  }
  subcomponentIn(paths: readonly string[]): PipelineBuilder {
    return this.then({ op: "subcomponent_in", paths: [...paths] });
  }
  subcomponentOut(paths: readonly string[]): PipelineBuilder {
    return this.then({ op: "subcomponent_out", paths: [...paths] });
  }
  popularityContest(): PipelineBuilder {
    return this.then({ op: "popularity_contest" });
  }
  limitLayers(count: number): PipelineBuilder {
    return this.then({ op: "limit_layers", count });
  }
  splitEvery(size: number): PipelineBuilder {
    return this.then({ op: "split_every", size });
  }
  removePaths(paths: string | readonly string[]): PipelineBuilder {
    return this.then({ op: "remove_paths", paths: typeof paths === "string" ? paths : [...paths] });
  }
  reverse(): PipelineBuilder {
    return this.then({ op: "reverse" });
  }
  flatten(): PipelineBuilder {
    return this.then({ op: "flatten" });
  }
  over(key: "main" | "common" | "rest" | (string & {}), step: Nested): PipelineBuilder {
    return this.then({ op: "over", key, step: asStep(step) });
  }
  map(step: Nested): PipelineBuilder {
    return this.then({ op: "map", step: asStep(step) });
  }
  /** An explicit ["pipe", [...]] step (over and map create one themselves when needed). */
  pipe(inner: Nested): PipelineBuilder {
    return this.then({ op: "pipe", pipeline: resolve(inner).list });
  }
  /** A registered strata extension step, e.g. `.extension("auto_layer", 99)`. */
  extension(name: string, ...args: unknown[]): PipelineBuilder {
    return this.then({ op: "extension", name, args });
  }

  get steps(): Pipeline {
    return this.list;
  }
  build(): Pipeline {
    return this.list;
  }
  toJson(): unknown[] {
    return pipelineToJson(this.list);
  }
}

/** Starts a pipeline. */
export function pipeline(): PipelineBuilder {
  return PipelineBuilder.empty();
}

function resolve(n: Nested): PipelineBuilder {
  return typeof n === "function" ? n(PipelineBuilder.empty()) : n;
}

function asStep(n: Nested): Step {
  const steps = resolve(n).steps;
  return steps.length === 1 ? steps[0] : { op: "pipe", pipeline: steps };
}

function isModel(p: unknown): p is Pipeline {
  return Array.isArray(p) && p.every((s) => typeof s === "object" && s !== null && !Array.isArray(s) && "op" in s);
}
