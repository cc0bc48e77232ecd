// The incremental algorithm against a plain transcription of auto-layer.py's
// loop (reference doc A.3) on random small graphs, limits and ignore lists;
// plus the fast path, the generic-graph entry point and the limit arithmetic.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PipelineError } from "../src/errors.js";
import { Closure } from "../src/graph/closure.js";
import type { ClosureEntry } from "../src/graph/document.js";
import { readClosureDocument } from "../src/graph/document.js";
import { formatLayersCompact } from "../src/format/python-json.js";
import {
  autoLayer,
  autoLayerGraph,
  autoLayerLimit,
  autoLayerStrategy,
  candidateOrder,
  formatAutoLayerStdout,
  nameOrder,
  type AutoLayerInfo,
} from "../src/strategies/auto-layer/index.js";
import { cpythonSetOrder, frozensetHash } from "../src/strategies/auto-layer/cpython-set-order.js";

/** The reference loop, literally: copy the labels, walk deps and users, count every label. */
function oracle(entries: readonly ClosureEntry[], limit: number, ignore: readonly string[]): { layers: string[][]; info: AutoLayerInfo[] } {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const directUsers = new Map<string, Set<string>>(entries.map((e) => [e.path, new Set()]));
  for (const e of entries) for (const r of e.references) if (r !== e.path) directUsers.get(r)!.add(e.path);
  const walk = (p: string, next: (x: string) => Iterable<string>): Set<string> => {
    const seen = new Set<string>();
    const stack = [p];
    while (stack.length) for (const y of next(stack.pop()!)) if (y !== p && !seen.has(y)) (seen.add(y), stack.push(y));
    return seen;
  };
  const deps = (p: string) => walk(p, (x) => byPath.get(x)!.references);
  const users = (p: string) => walk(p, (x) => directUsers.get(x)!);
  const candidates = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.narSize - b.e.narSize || a.i - b.i)
    .map((x) => x.e.path)
    .reverse();
  const key = (s: Set<string>) => [...s].sort().join("\n");
  let labels = new Map(entries.map((e) => [e.path, new Set<string>()]));
  for (const p of candidates) {
    const next = new Map([...labels].map(([k, v]) => [k, new Set(v)]));
    next.set(p, new Set([p]));
    const dp = deps(p);
    const up = users(p);
    for (const d of dp) {
      const l = next.get(d)!;
      for (const u of up) l.delete(u);
      if (![...l].some((x) => dp.has(x))) l.add(p);
    }
    if (new Set([...next.values()].map(key)).size > limit) break;
    labels = next;
  }
  const split = (p: string) => [p.slice(p.indexOf("-") + 1), p.slice(0, p.indexOf("-"))];
  const cmp = (a: string, b: string) => {
    const [na, ha] = split(a),
      [nb, hb] = split(b);
    return na < nb ? -1 : na > nb ? 1 : ha < hb ? -1 : ha > hb ? 1 : 0;
  };
  const groups = new Map<string, { label: Set<string>; paths: string[] }>();
  for (const [path, l] of labels) {
    const k = key(l);
    if (!groups.has(k)) groups.set(k, { label: l, paths: [] });
    groups.get(k)!.paths.push(path);
  }
  const list = [...groups.values()];
  const order = cpythonSetOrder(list.map((g) => frozensetHash(g.label)));
  const info = order.map((i) => {
    const g = list[i];
    const closure = new Set<string>();
    for (const p of g.paths) for (const q of [p, ...deps(p)]) closure.add(q);
    return {
      usedBy: [...g.label].sort(cmp),
      paths: g.paths.slice().sort(cmp),
      layerSize: g.paths.reduce((s, p) => s + byPath.get(p)!.narSize, 0),
      closureSize: [...closure].reduce((s, p) => s + byPath.get(p)!.narSize, 0),
    };
  });
  info.sort((a, b) => a.closureSize - b.closureSize);
  const layers = info.map((l) => l.paths.filter((p) => !ignore.includes(p))).filter((l) => l.length > 0);
  return { layers, info };
}

const NAMES = ["glibc", "bash", "zlib", "app", "lib"];

/** Random DAG: vertex t may reference vertices below t; input order is a random permutation. */
const graphArb = fc
  .integer({ min: 0, max: 11 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
      sizes: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: n, maxLength: n }),
      names: fc.array(fc.integer({ min: 0, max: NAMES.length - 1 }), { minLength: n, maxLength: n }),
      selfRef: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      perm: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      limit: fc.integer({ min: -1, max: n + 2 }),
      ignore: fc.array(fc.integer({ min: 0, max: Math.max(0, n) }), { maxLength: 3 }),
    }),
  )
  .map(({ n, edges, sizes, names, selfRef, perm, limit, ignore }) => {
    const path = (t: number) => `/nix/store/${String.fromCharCode(97 + ((t * 7) % 26))}${t}-${NAMES[names[t]]}`;
    const entries: ClosureEntry[] = perm.map((t) => {
      const refs = [...Array(t).keys()].filter((u) => edges[t][u]).map(path);
      if (selfRef[t]) refs.push(path(t));
      return { path: path(t), narSize: sizes[t] * 100, references: refs.sort() };
    });
    return { entries, limit, ignore: ignore.map((t) => (t < n ? path(t) : "/nix/store/zz-unknown")) };
  });

describe("auto-layer: incremental algorithm = the reference loop", () => {
  it("on random graphs, limits and ignore lists", () => {
    fc.assert(
      fc.property(graphArb, ({ entries, limit, ignore }) => {
        const got = autoLayer(entries, { limit, ignore });
        const want = oracle(entries, limit, ignore);
        expect(got.info).toEqual(want.info);
        expect(got.layers).toEqual(want.layers);
      }),
      { numRuns: 1500, seed: 20241 },
    );
  });

  it("gives the same result on a strata Closure (vertices in narSize order, inputIndex kept)", () => {
    fc.assert(
      fc.property(graphArb, ({ entries, limit }) => {
        const closure = Closure.fromEntries(entries);
        expect(autoLayerGraph(closure, { limit }).info).toEqual(autoLayer(entries, { limit }).info);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("uses the fast path exactly when limit >= paths, with one path per layer", () => {
    fc.assert(
      fc.property(graphArb, ({ entries }) => {
        const n = entries.length;
        const fast = autoLayer(entries, { limit: n });
        expect(fast.fastPath).toBe(true);
        expect(fast.layers.every((l) => l.length === 1)).toBe(true);
        expect(fast.layers.length).toBe(n);
        if (n > 0) expect(autoLayer(entries, { limit: n - 1 }).fastPath).toBe(false);
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});

describe("auto-layer: quirks and errors", () => {
  const e = (path: string, narSize: number, references: string[] = []): ClosureEntry => ({ path, narSize, references });
  const diamond = [
    e("/nix/store/t-top", 100, ["/nix/store/l-left", "/nix/store/r-right"]),
    e("/nix/store/l-left", 3000, ["/nix/store/b-bottom"]),
    e("/nix/store/r-right", 2000, ["/nix/store/b-bottom"]),
    e("/nix/store/b-bottom", 10000),
  ];

  it("follows the worked example of algorithm.ts", () => {
    const r = autoLayer(diamond, { limit: 3 });
    expect(r.layers).toEqual([["/nix/store/b-bottom"], ["/nix/store/l-left"], ["/nix/store/r-right", "/nix/store/t-top"]]);
    expect(r.info.map((l) => l.closureSize)).toEqual([10000, 13000, 15100]);
    expect(r.primaries).toEqual(["/nix/store/b-bottom", "/nix/store/l-left"]);
  });

  it("treats limit <= 0 like 1: one layer with everything", () => {
    for (const limit of [-5, 0, 1]) expect(autoLayer(diamond, { limit }).layers.length).toBe(1);
  });

  it("counts layers that exclusion removes", () => {
    const r = autoLayer(diamond, { limit: 3, ignore: ["/nix/store/r-right", "/nix/store/t-top"] });
    expect(r.layers).toEqual([["/nix/store/b-bottom"], ["/nix/store/l-left"]]);
    expect(r.info.length).toBe(3);
  });

  it("sorts paths by (name, hash) in code-point order, as Python compares strings", () => {
    const paths = ["/nix/store/b-\uffff", "/nix/store/a-\u{1f600}", "/nix/store/c-x", "/nix/store/a-x", "/nix/store/a-x-y", "/nix/store/ab-x"];
    // U+FFFF < U+1F600 by code point, though not by UTF-16 unit; "x" < "x-y"; equal names by hash.
    expect(Array.from(nameOrder(paths), (v) => paths[v])).toEqual([
      "/nix/store/a-x",
      "/nix/store/ab-x",
      "/nix/store/c-x",
      "/nix/store/a-x-y",
      "/nix/store/b-\uffff",
      "/nix/store/a-\u{1f600}",
    ]);
    const ascii = paths.slice(2);
    expect(Array.from(nameOrder(ascii), (v) => ascii[v])).toEqual(["/nix/store/a-x", "/nix/store/ab-x", "/nix/store/c-x", "/nix/store/a-x-y"]);
  });

  it("orders candidates by narSize descending, later input first, also for sizes too large to pack", () => {
    const g = (narSize: number[]) => ({
      n: narSize.length,
      offsets: new Uint32Array(narSize.length + 1),
      targets: new Uint32Array(0),
      paths: narSize.map((_, i) => `/nix/store/${i}-p`),
      narSize,
    });
    expect(Array.from(candidateOrder(g([5, 7, 5, 0, 7])))).toEqual([4, 1, 2, 0, 3]);
    expect(Array.from(candidateOrder(g([2 ** 52, 7, 2 ** 52, 0, 7])))).toEqual([2, 0, 4, 1, 3]);
  });

  it("rejects a path without '-'", () => {
    expect(() => autoLayer([e("/nix/store/nodash", 1)], { limit: 3 })).toThrow(/no '-'/);
  });

  it("derives the limit like auto-layer.nix and fails when no layer is left", () => {
    expect(autoLayerLimit()).toBe(99);
    expect(autoLayerLimit(125)).toBe(124);
    expect(autoLayerLimit(100, 3)).toBe(96);
    expect(() => autoLayerLimit(4, 3)).toThrow(PipelineError);
    const doc = readClosureDocument(diamond);
    expect(autoLayerStrategy.plan(doc, { maxLayers: 4 }).layers.length).toBe(3);
    expect(autoLayerStrategy.plan(doc, { maxLayers: 3 }).layers.length).toBe(2);
    expect(autoLayerStrategy.plan(doc, { maxLayers: 4, fromImageLayers: 1 }).layers.length).toBe(2);
    expect(() => autoLayerStrategy.plan(doc, { maxLayers: 2, fromImageLayers: 1 })).toThrow(PipelineError);
    expect(autoLayerStrategy.plan(doc, { layerLimit: 0 }).layers.length).toBe(1);
  });

  it("prints the same stdout bytes as the generic compact formatter, escapes included", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: "binary", maxLength: 8 }), { maxLength: 4 }), { maxLength: 4 }), (layers) => {
        expect(formatAutoLayerStdout(layers)).toBe(formatLayersCompact(layers));
      }),
      { numRuns: 500, seed: 11 },
    );
    const odd = [["/nix/store/a-\x7f", '/nix/store/b-"q"\\', "/nix/store/c-\u00e9\u{1f600}\n"], []];
    expect(formatAutoLayerStdout(odd)).toBe('[["/nix/store/a-\\u007f", "/nix/store/b-\\"q\\"\\\\", "/nix/store/c-\\u00e9\\ud83d\\ude00\\n"], []]\n');
  });

  it("prints compact JSON and the indented DEBUG list", () => {
    const result = autoLayerStrategy.plan(readClosureDocument(diamond), { layerLimit: 2 });
    expect(autoLayerStrategy.formats!["auto-layer"](result)).toBe(
      '[["/nix/store/b-bottom"], ["/nix/store/l-left", "/nix/store/r-right", "/nix/store/t-top"]]\n',
    );
    expect(autoLayerStrategy.formats!.debug(result)).toBe(
      '[\n  {\n    "usedBy": [\n      "/nix/store/b-bottom"\n    ],\n    "paths": [\n      "/nix/store/b-bottom"\n    ],\n    "layerSize": 10000,\n    "closureSize": 10000\n  },\n' +
        '  {\n    "usedBy": [],\n    "paths": [\n      "/nix/store/l-left",\n      "/nix/store/r-right",\n      "/nix/store/t-top"\n    ],\n    "layerSize": 5100,\n    "closureSize": 15100\n  }\n]\n',
    );
  });
});
