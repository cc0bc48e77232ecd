// The unit-level nixpkgs cases (../shared/compat/flatten-units) that map onto
// strata's functions:
//  * raw pipeline results (dict/list/graph structure before flattening), with
//    vertices in order and edges compared as sets (strata's edge order is not
//    igraph's, and nothing depends on it);
//  * the graph conversion (vertex order, references);
//  * graph_popularity_contest (closure-graph's tree form),
//    order_by_popularity, popularity_contest on a plain list, limit_layers(1, [g]).
// Not mapped: find_roots (its records reference a path that is not a record,
// which strata rejects as a dangling reference), and, because strata has no
// such intermediate: any_refer_to, all_paths,
// make_lookup, make_graph_segment_from_root (the memoised tree nixpkgs builds),
// and popularity_contest.graph_popularity_contest, whose input is a table of
// per-subtree counts rather than a graph.
import { describe, expect, it } from "vitest";
import { readClosureDocument } from "../src/graph/document.js";
import { Closure } from "../src/graph/closure.js";
import { kernels, type BackendName } from "../src/kernels/index.js";
import { evaluate, parsePipeline, referencesByPopularity, sortByPopularity, packageName } from "../src/pipeline/index.js";
import type { Value } from "../src/pipeline/values.js";
import type { GraphOps } from "../src/pipeline/ops/graph-ops.js";
import { requireShared, listJson, readJsonFile, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();

interface UnitCase {
  name: string;
  input: { function?: string; args?: unknown[]; graph?: unknown[]; pipeline?: unknown; exclude_paths?: unknown };
  expected: { raw: unknown };
}

interface RawGraph {
  vertices: string[];
  edges: [string, string][];
}

function toRaw(v: Value, ops: GraphOps): unknown {
  const paths = ops.closure.paths;
  const graph = (verts: Uint32Array, ref: import("../src/kernels/types.js").GraphRef | null): RawGraph => {
    const names = Array.from(verts, (x) => paths[x]);
    const edges: [string, string][] = [];
    if (ref !== null) {
      const csr = ops.kernels.read(ref);
      for (let i = 0; i < csr.n; i++) for (let e = csr.offsets[i]; e < csr.offsets[i + 1]; e++) edges.push([names[i], names[csr.targets[e]]]);
    }
    return { vertices: names, edges };
  };
  switch (v.t) {
    case "graph":
      return graph(v.verts, v.ref);
    case "singles":
      return Array.from(v.verts, (x) => graph(Uint32Array.of(x), null));
    case "list":
      return v.items.map((x) => toRaw(x, ops));
    case "dict":
      return Object.fromEntries(v.entries.map(([k, x]) => [k, toRaw(x, ops)]));
  }
}

/** Edge lists sorted, so two raw values compare as (vertex order, edge set). */
function canonical(raw: unknown): unknown {
  if (Array.isArray(raw)) return raw.map(canonical);
  if (typeof raw === "object" && raw !== null) {
    if ("vertices" in raw && "edges" in raw) {
      const g = raw as RawGraph;
      return { vertices: g.vertices, edges: g.edges.map((e) => e.join(" -> ")).sort() };
    }
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, canonical(v)]));
  }
  return raw;
}

const cases: UnitCase[] = listJson(sharedPath("compat", "flatten-units")).map((f) => readJsonFile(f) as UnitCase);
const byName = (n: string) => {
  const c = cases.find((x) => x.name === n);
  if (c === undefined) throw new Error(`missing case ${n}`);
  return c;
};

for (const backend of ["ts", "wasm"] as BackendName[]) {
  describe(`flatten-units (${backend} kernels)`, () => {
    const k = kernels(backend);

    const pipelineCases = cases.filter((c) => c.input.pipeline !== undefined);
    it("has the raw pipeline cases", () => {
      expect(pipelineCases.length).toBe(25);
    });

    it.each(pipelineCases.map((c) => [c.name, c] as const))("raw pipeline result: %s", (_n, c) => {
      const doc = readClosureDocument(c.input);
      const closure = Closure.fromDocument(doc, { exclude: doc.excludePaths });
      const got = evaluate(closure, parsePipeline(c.input.pipeline), { kernels: k }, (v, ops) => toRaw(v, ops));
      expect(canonical(got)).toEqual(canonical(c.expected.raw));
    });

    it("lib-igraph_to_reference_graph: vertex order and references", () => {
      const c = byName("lib-igraph_to_reference_graph");
      const closure = Closure.fromDocument(readClosureDocument(c.input.args![0]));
      const got = closure.paths.map((p, v) => ({ path: p, references: Array.from(closure.references(v), (w) => closure.paths[w]) }));
      const want = (c.expected.raw as { path: string; references: string[] }[]).map(({ path, references }) => ({ path, references }));
      expect(got).toEqual(want);
    });

    it("lib-limit_layers-nothing_to_do: limit_layers(1, [g]) is [g]", () => {
      const c = byName("lib-limit_layers-nothing_to_do");
      const closure = Closure.fromDocument(readClosureDocument(c.input.args![0]));
      const p = parsePipeline([
        ["split_every", 1_000_000],
        ["limit_layers", 1],
      ]);
      const got = evaluate(closure, p, { kernels: k }, (v, ops) => toRaw(v, ops));
      expect(canonical(got)).toEqual(canonical(c.expected.raw));
    });

    it("closure_graph-graph_popularity_contest: popularity of the tree's graph", () => {
      const c = byName("closure_graph-graph_popularity_contest");
      // The nested tree {parent: {child: {...}}} lists every edge parent -> child.
      const edges = new Map<string, Set<string>>();
      const stack: [string | null, Record<string, unknown>][] = [[null, c.input.args![0] as Record<string, unknown>]];
      while (stack.length) {
        const [parent, tree] = stack.pop()!;
        for (const [child, sub] of Object.entries(tree)) {
          if (!edges.has(child)) edges.set(child, new Set());
          if (parent !== null) edges.get(parent)!.add(child);
          stack.push([child, sub as Record<string, unknown>]);
        }
      }
      const entries = [...edges].map(([path, refs]) => ({ path, references: [...refs] }));
      const closure = Closure.fromDocument(readClosureDocument(entries, { requireNarSize: false }));
      const pop = k.scope(() => k.popularity(k.load(closure)));
      const got = Object.fromEntries(closure.paths.map((p, v) => [p, Number(pop[v])]));
      expect(got).toEqual(c.expected.raw);
    });

    for (const name of ["closure_graph-order_by_popularity", "popularity_contest-order_by_popularity"]) {
      it(`${name}: popularity descending, ties by package name`, () => {
        const c = byName(name);
        const table = Object.entries(c.input.args![0] as Record<string, number>);
        const order = sortByPopularity(
          table.length,
          Float64Array.from(table, ([, n]) => n),
          (i) => packageName(table[i][0]),
        );
        expect(Array.from(order, (i) => table[i][0])).toEqual(c.expected.raw);
      });
    }

    for (const name of ["popularity_contest-order-list-input", "popularity_contest-empty-list"]) {
      it(`${name}: popularity_contest on a plain list`, () => {
        const c = byName(name);
        const closure = Closure.fromDocument(readClosureDocument(c.input.args![0], { requireNarSize: false }));
        expect(referencesByPopularity(closure, { kernels: k })).toEqual(c.expected.raw);
      });
    }
  });
}
