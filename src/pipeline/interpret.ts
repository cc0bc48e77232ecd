// The pipeline interpreter: threads a value through the steps, as nixpkgs'
// pipe.py does, and flattens the result into layers (reference doc 4-6).
//
// Before any graph work the pipeline is checked statically (check.ts); every
// error that can be known then is raised then. What depends on the data
// (a missing dict key, a kind mismatch inside map over a non-empty list) is
// raised when met, naming the step's location. Nothing here recurses on the
// data: nesting depth is bounded by the pipeline's own nesting.
import { PipelineError, type PipelineErrorCode } from "../errors.js";
import type { Closure } from "../graph/closure.js";
import { kernels as getKernels, type Kernels } from "../kernels/index.js";
import { checkPipeline, type Issue } from "./check.js";
import { pipelineExtensions, type ExtensionRegistry } from "./extensions.js";
import { kindMismatch, type Expected } from "./messages.js";
import { assertNever, type Pipeline, type Step } from "./model.js";
import { GraphOps } from "./ops/graph-ops.js";
import { runCo, type Co } from "./co.js";
import {
  describeValueFound,
  graphValue,
  isList,
  listItem,
  listItems,
  listLength,
  type DictValue,
  type GraphValue,
  type ListValue,
  type SinglesValue,
  type Value,
} from "./values.js";

export interface RunOptions {
  /** Kernel backend (default: the shared Wasm backend). */
  readonly kernels?: Kernels;
  /** `over` on a key the dict lacks passes the dict through instead of failing. */
  readonly lenient?: boolean;
  readonly extensions?: ExtensionRegistry;
}

/** Throws the first error the static check finds (errors that hold whatever the data). */
export function assertPipelineValid(pipeline: Pipeline, options: RunOptions = {}): readonly Issue[] {
  const { issues } = checkPipeline(pipeline, { lenient: options.lenient, extensions: options.extensions ?? pipelineExtensions });
  const first = issues.find((i) => i.severity === "error");
  // Errors carry PipelineError codes; the checker's own codes are warnings only.
  if (first !== undefined) throw new PipelineError(first.code as PipelineErrorCode, first.message, first.location);
  return issues;
}

/** Runs a pipeline on a closure and returns nixpkgs' layers (empty layers dropped). */
export function runPipeline(closure: Closure, pipeline: Pipeline, options: RunOptions = {}): string[][] {
  assertPipelineValid(pipeline, options);
  return evaluate(closure, pipeline, options, (value) => finalLayers(closure, value));
}

/**
 * Runs a pipeline and hands the un-flattened result to `read` while the
 * backend's graphs are still alive (for tests and debugging).
 */
export function evaluate<T>(closure: Closure, pipeline: Pipeline, options: RunOptions, read: (value: Value, ops: GraphOps) => T): T {
  const k = options.kernels ?? getKernels("wasm");
  return k.scope(() => {
    const ops = new GraphOps(closure, k);
    const interp = new Interpreter(ops, options.lenient ?? false, options.extensions ?? pipelineExtensions);
    const all = new Uint32Array(closure.n);
    for (let i = 0; i < all.length; i++) all[i] = i;
    const start = graphValue(all, closure.n === 0 ? null : k.load(closure));
    return read(runCo(interp.steps(pipeline, start, "pipeline")), ops);
  });
}

class Interpreter {
  constructor(
    private readonly ops: GraphOps,
    private readonly lenient: boolean,
    private readonly extensions: ExtensionRegistry,
  ) {}

  *steps(p: Pipeline, v: Value, at: string): Co<Value> {
    let x = v;
    for (let i = 0; i < p.length; i++) x = (yield this.step(p[i], x, `${at}[${i}]`)) as Value;
    return x;
  }

  *step(s: Step, v: Value, at: string): Co<Value> {
    const ops = this.ops;
    switch (s.op) {
      case "split_paths":
        return ops.splitPaths(this.graph(s, v, at), s.specs);
      case "subcomponent_in":
        return ops.subcomponent(this.graph(s, v, at), s.paths, "in");
      case "subcomponent_out":
        return ops.subcomponent(this.graph(s, v, at), s.paths, "out");
      case "popularity_contest":
        return ops.popularityContest(this.graph(s, v, at));
      case "split_every":
        return ops.splitEvery(this.graph(s, v, at), s.size);
      case "remove_paths":
        return ops.removePaths(this.graph(s, v, at), s.paths);
      case "limit_layers":
        return this.limitLayers(this.list(s, v, at), s.count, at);
      case "reverse":
        return reverse(this.list(s, v, at));
      case "flatten":
        if (v.t === "graph") throw this.mismatch(s, "list", v, at);
        return flattenValue(v);
      case "over": {
        if (v.t !== "dict") throw this.mismatch(s, "dict", v, at);
        const idx = v.entries.findIndex(([k]) => k === s.key);
        if (idx < 0) {
          if (this.lenient) return v;
          throw new PipelineError(
            "missing-key",
            `${at}: over ${JSON.stringify(s.key)}: the dict has no ${JSON.stringify(s.key)} part here (it has ${v.entries.map(([k]) => JSON.stringify(k)).join(", ")}; split_paths omits empty parts). nixpkgs fails the same way (KeyError '${s.key}'); --lenient passes the dict through`,
            `${at}[1]`,
          );
        }
        const entries = v.entries.slice();
        entries[idx] = [s.key, (yield this.step(s.step, v.entries[idx][1], `${at}[2]`)) as Value];
        return { t: "dict", entries } satisfies DictValue;
      }
      case "map": {
        const list = this.list(s, v, at);
        const n = listLength(list);
        const items: Value[] = new Array(n);
        for (let i = 0; i < n; i++) items[i] = (yield this.step(s.step, listItem(list, i), `${at}[1]`)) as Value;
        return { t: "list", items } satisfies ListValue;
      }
      case "pipe":
        return (yield this.steps(s.pipeline, v, `${at}[1]`)) as Value;
      case "extension": {
        const ext = this.extensions.get(s.name);
        if (ext === undefined) throw new PipelineError("unknown-step", `${at}[0]: unknown step "${s.name}"`, `${at}[0]`);
        const g = this.graph(s, v, at);
        const ref = ops.materialize(g);
        const groups = ext.apply({ vertices: g.verts, closure: ops.closure, ref, kernels: ops.kernels }, s.args);
        const parts = groups.map((group) => {
          const local = Uint32Array.from(group);
          for (const i of local) {
            if (i >= g.verts.length) throw new Error(`pipeline extension ${s.name} returned local vertex ${i} of a ${g.verts.length}-vertex graph`);
          }
          const verts = local.map((i) => g.verts[i]);
          return graphValue(verts, local.length === 0 ? null : ops.kernels.induced(ref, local));
        });
        if (ext.output === "graph") {
          if (parts.length !== 1) throw new Error(`pipeline extension ${s.name} must return one group, returned ${parts.length}`);
          return parts[0];
        }
        return { t: "list", items: parts } satisfies ListValue;
      }
      default:
        return assertNever(s);
    }
  }

  private graph(s: Step, v: Value, at: string): GraphValue {
    if (v.t !== "graph") throw this.mismatch(s, "graph", v, at);
    return v;
  }

  private list(s: Step, v: Value, at: string): ListValue | SinglesValue {
    if (!isList(v)) throw this.mismatch(s, "list", v, at);
    return v;
  }

  private mismatch(s: Step, expected: Expected, v: Value, at: string): PipelineError {
    const op = s.op === "extension" ? s.name : s.op;
    return new PipelineError("kind", `${at}: ${kindMismatch(op, expected, describeValueFound(v))}`, at);
  }

  /** limit_layers (reference doc 5.4): the first n-1 items, then the rest merged (possibly an empty graph). */
  private limitLayers(list: ListValue | SinglesValue, n: number, at: string): ListValue {
    const len = listLength(list);
    const keep = Math.min(len, n - 1);
    const items: Value[] = new Array(keep + 1);
    for (let i = 0; i < keep; i++) items[i] = listItem(list, i);
    if (list.t === "singles") {
      items[keep] = graphValue(list.verts.slice(keep), null);
    } else {
      const rest = list.items.slice(keep);
      for (let i = 0; i < rest.length; i++) {
        const x = rest[i];
        if (x.t !== "graph") {
          throw new PipelineError(
            "kind",
            `${at}: limit_layers merges the elements from position ${n} on into one graph, but element ${keep + i + 1} is ${describeValueFound(x).what}; use ["flatten"] before limit_layers`,
            at,
          );
        }
      }
      items[keep] = this.ops.merge(rest as GraphValue[]);
    }
    return { t: "list", items };
  }
}

function reverse(list: ListValue | SinglesValue): ListValue | SinglesValue {
  if (list.t === "singles") return { t: "singles", verts: list.verts.slice().reverse() };
  return { t: "list", items: list.items.slice().reverse() };
}

/** flatten (reference doc 5.8), iteratively: dict values in key order, list elements, graphs are leaves. */
function flattenValue(v: Value): ListValue | SinglesValue {
  if (v.t === "singles") return v;
  const out: Value[] = [];
  forEachLeaf(v, (g) => out.push(g));
  return { t: "list", items: out };
}

function forEachLeaf(v: Value, visit: (g: GraphValue) => void, visitSingles?: (s: SinglesValue) => void): void {
  const stack: Value[] = [v];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x.t === "graph") visit(x);
    else if (x.t === "singles") {
      if (visitSingles) visitSingles(x);
      else for (const item of listItems(x)) visit(item as GraphValue);
    } else {
      const children = x.t === "dict" ? x.entries.map(([, c]) => c) : x.items;
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  }
}

/** The final flattening (reference doc 6): each leaf graph's paths in vertex order, empty ones dropped. */
export function finalLayers(closure: Closure, value: Value): string[][] {
  if (value.t === "graph") {
    throw new PipelineError(
      "bare-graph",
      "pipeline: the result is a single graph, not a list of layers (nixpkgs: TypeError: 'Graph' object is not iterable)",
      "pipeline",
    );
  }
  const layers: string[][] = [];
  const paths = closure.paths;
  forEachLeaf(
    value,
    (g) => {
      if (g.verts.length === 0) return;
      const layer = new Array<string>(g.verts.length);
      for (let i = 0; i < g.verts.length; i++) layer[i] = paths[g.verts[i]];
      layers.push(layer);
    },
    (s) => {
      for (let i = 0; i < s.verts.length; i++) layers.push([paths[s.verts[i]]]);
    },
  );
  return layers;
}
