// Differential testing of the graph kernels: 10,000 seeded random Nix-like
// DAGs per run, each through every kernel on the Wasm backend and on the
// TypeScript twins, compared exactly; the small ones also against graphology
// computations written from the definitions (a third, independent oracle).
//
// A failure prints the case seed; replay it alone with
//   STRATA_SEED=<seed> STRATA_ONE_CASE=1 npx vitest run test/differential.test.ts
// `npm run fuzz` runs more graphs (STRATA_FUZZ_SCALE).
import { describe, expect, it } from "vitest";
import { DirectedGraph } from "graphology";
import type { CsrGraph } from "../src/graph/csr.js";
import type { GraphRef, Kernels } from "../src/kernels/types.js";
import { tsKernels } from "../src/kernels/ts/backend.js";
import { WasmKernels } from "../src/kernels/wasm/backend.js";
import { popularityNaiveTs } from "../src/kernels/ts/popularity.js";
import { transposeTs } from "../src/kernels/ts/transpose.js";
import { randomDag } from "./helpers/random-dag.js";
import { forEachCase, fuzzScale, Rng, scaledTimeout } from "./helpers/fuzz.js";

const FILE = "test/differential.test.ts";
const wasm = new WasmKernels();

/** Exact equality of typed arrays / bigint arrays, naming the first difference. */
function same(what: string, got: ArrayLike<number | bigint>, want: ArrayLike<number | bigint>): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what}: [${i}] is ${got[i]}, expected ${want[i]}`);
  }
}

function sameCsr(what: string, got: CsrGraph, want: CsrGraph): void {
  if (got.n !== want.n) throw new Error(`${what}: n ${got.n}, expected ${want.n}`);
  same(`${what} offsets`, got.offsets, want.offsets);
  same(`${what} targets`, got.targets, want.targets);
}

/** Graph sizes: mostly small (many shapes per second), some medium, a few large. */
function sizeFor(rng: Rng): number {
  const r = rng.next();
  if (r < 0.6) return rng.int(31);
  if (r < 0.95) return 30 + rng.int(170);
  return 200 + rng.int(1300);
}

/** Parallel edges are kept in some graphs (both backends must agree on them); Closure never has them. */
function randomGraph(rng: Rng): CsrGraph & { duplicates: boolean } {
  const duplicates = rng.chance(0.2);
  const g = randomDag({
    seed: rng.int(2 ** 31),
    n: sizeFor(rng),
    avgRefs: 1 + rng.int(6),
    skew: 1 + rng.int(4),
    chain: rng.next(),
    duplicates,
    sortedRows: rng.chance(0.5),
  });
  return { ...g, duplicates };
}

/** Runs every kernel on both backends; returns the TS results for the graphology check. */
function compare(g: CsrGraph, rng: Rng): { pop: bigint[]; topo: Uint32Array; idom: Int32Array; roots: number[]; reachOut: Uint8Array; seeds: number[] } {
  const n = g.n;
  const t = tsKernels.load(g);
  return wasm.scope(() => {
    const w = wasm.load(g);
    const both = <T extends ArrayLike<number | bigint>>(what: string, f: (k: Kernels, r: GraphRef) => T): T => {
      const want = f(tsKernels, t);
      same(what, f(wasm, w), want);
      return want;
    };
    sameCsr("read", wasm.read(w), tsKernels.read(t));
    const deg = both("inDegrees", (k, r) => k.inDegrees(r));
    const topo = both("topoOrder", (k, r) => k.topoOrder(r));
    if (topo.length !== n) throw new Error(`topoOrder: ${topo.length} of ${n} vertices on an acyclic graph`);
    const pop = both("popularity", (k, r) => k.popularity(r));
    same("popularity vs naive walk", pop, popularityNaiveTs(g, transposeTs(g)));
    const roots = [...deg.keys()].filter((v) => deg[v] === 0);
    const idom = both("dominators(roots)", (k, r) => k.dominators(r, roots));
    const seeds = n === 0 ? [] : Array.from({ length: 1 + rng.int(3) }, () => rng.int(n));
    both("dominators(seeds)", (k, r) => k.dominators(r, seeds));
    const reachOut = both("reach out", (k, r) => k.reach(r, seeds, "out"));
    both("reach in", (k, r) => k.reach(r, seeds, "in"));
    const blocked = Uint8Array.from({ length: n }, () => (rng.chance(0.15) ? 1 : 0));
    both("reach out blocked", (k, r) => k.reach(r, seeds, "out", blocked));
    both("reach in blocked", (k, r) => k.reach(r, seeds, "in", blocked));
    const subset = Uint32Array.from(rng.shuffle([...Array(n).keys()].filter(() => rng.chance(0.6))));
    const withBlocked = rng.chance(0.5);
    const induced = (k: Kernels, r: GraphRef) => k.induced(r, subset, withBlocked ? blocked : undefined);
    sameCsr("induced", wasm.read(induced(wasm, w)), tsKernels.read(induced(tsKernels, t)));
    both("popularity(induced)", (k, r) => k.popularity(induced(k, r)));
    both("topoOrder(induced)", (k, r) => k.topoOrder(induced(k, r)));
    sameCsr("union", wasm.read(wasm.disjointUnion([induced(wasm, w), w])), tsKernels.read(tsKernels.disjointUnion([induced(tsKernels, t), t])));
    return { pop, topo, idom, roots, reachOut, seeds };
  });
}

// --- graphology oracle (small graphs) --------------------------------------------

function toGraph(g: CsrGraph): DirectedGraph {
  const graph = new DirectedGraph();
  for (let v = 0; v < g.n; v++) graph.addNode(String(v));
  for (let v = 0; v < g.n; v++) for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++) graph.mergeEdge(String(v), String(g.targets[e]));
  return graph;
}

function reachG(graph: DirectedGraph, seeds: string[], skip?: string): Set<string> {
  const seen = new Set(seeds.filter((s) => s !== skip));
  const stack = [...seen];
  while (stack.length > 0) {
    for (const w of graph.outNeighbors(stack.pop()!)) if (w !== skip && !seen.has(w)) (seen.add(w), stack.push(w));
  }
  return seen;
}

function checkWithGraphology(g: CsrGraph, r: ReturnType<typeof compare>): void {
  const graph = toGraph(g);
  const nodes = graph.nodes();
  // Topological order: a permutation with every edge pointing forward, smallest ready vertex first.
  const copy = graph.copy();
  const topo: number[] = [];
  while (copy.order > 0) {
    const ready = copy.filterNodes((v) => copy.inDegree(v) === 0).map(Number);
    const next = Math.min(...ready);
    topo.push(next);
    copy.dropNode(String(next));
  }
  same("topoOrder vs graphology", r.topo, topo);
  // Reach: graphology out-neighbourhoods.
  const reached = reachG(graph, r.seeds.map(String));
  same(
    "reach vs graphology",
    r.reachOut,
    nodes.map((v) => (reached.has(v) ? 1 : 0)),
  );
  // Popularity: count root-to-vertex paths by enumeration, sum over ancestors.
  const count = new Map<string, bigint>(nodes.map((v) => [v, 0n]));
  const walk = (v: string) => {
    count.set(v, count.get(v)! + 1n);
    graph.forEachOutNeighbor(v, walk);
  };
  graph.forEachNode((v) => graph.inDegree(v) === 0 && walk(v));
  const pop = nodes.map((v) => {
    const anc = new Set([v]);
    const stack = [v];
    while (stack.length > 0) for (const w of graph.inNeighbors(stack.pop()!)) if (!anc.has(w)) (anc.add(w), stack.push(w));
    let s = 0n;
    for (const a of anc) s += count.get(a)!;
    return s;
  });
  same("popularity vs graphology", r.pop, pop);
  // Dominators from the roots: d dominates v when removing d cuts v off.
  const roots = r.roots.map(String);
  const idom = nodes.map((v) => {
    const strict = nodes.filter((d) => d !== v && !reachG(graph, roots, d).has(v));
    const best = strict.find((d) => strict.every((o) => o === d || !reachG(graph, roots, o).has(d)));
    return best === undefined ? -1 : Number(best);
  });
  same("dominators vs graphology", r.idom, idom);
}

describe("differential: Wasm kernels, TypeScript twins, graphology", () => {
  it(
    "10,000 random Nix-like DAGs agree on every kernel",
    () => {
      const count = Math.round(10_000 * fuzzScale());
      let oracle = 0;
      let vertices = 0;
      const report = forEachCase(FILE, count, (seed) => {
        const rng = new Rng(seed);
        const g = randomGraph(rng);
        vertices += g.n;
        const r = compare(g, rng);
        // graphology merges parallel edges, so it judges only graphs without them.
        if (g.n <= 14 && !g.duplicates) {
          checkWithGraphology(g, r);
          oracle++;
        }
      });
      console.log(`differential: ${count} graphs, ${vertices} vertices, ${oracle} also against graphology`);
      if (report.cases > 100) expect(oracle).toBeGreaterThan(report.cases / 5);
    },
    scaledTimeout(120_000),
  );

  it("the comparison can fail: a one-vertex difference is reported", () => {
    expect(() => same("x", Uint32Array.of(1, 2), Uint32Array.of(1, 3))).toThrow(/\[1\] is 2, expected 3/);
    expect(() => same("x", [1n], [1n, 2n])).toThrow(/length/);
  });
});
