// The fast paths of the nixery and auto-layer strategies (input-order graph
// from the streaming reader's columns, popcount over interned strings, radix
// name/rating order) against the plain ones: same results, same errors.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InputError } from "../src/errors.js";
import { Closure, columnsOf } from "../src/graph/closure.js";
import { readClosureDocument, type ClosureDocument } from "../src/graph/document.js";
import { parseClosureBytes } from "../src/io/stream-json.js";
import { tsKernels } from "../src/kernels/index.js";
import { autoLayerStrategy, graphFromColumns, graphFromEntries, nameOrder } from "../src/strategies/auto-layer/index.js";
import { radixSortByKey } from "../src/util/radix.js";
import { groupLayers, nixeryLayers, popcount, popcountColumns, popularityOf, readPopularityMap } from "../src/strategies/nixery/index.js";
import { mulberry32 } from "./helpers/random-dag.js";

const NAMES = ["glibc-2.40", "bash-5.2", "nss-cacert-3.98", "iana-etc-2024", "zlib-1.3", "zlib-1.3-dev", "a", "openssl-3.0.13", "é-x", "z\u{1F600}"];

interface Raw {
  path: string;
  narSize: number;
  closureSize?: number;
  references: string[];
}

/** A random acyclic closure: names repeat across hashes, some self and repeated references, some paths outside /nix/store. */
function randomClosure(seed: number, n: number): Raw[] {
  const rnd = mulberry32(seed);
  const paths: string[] = [];
  const seen = new Set<string>();
  while (paths.length < n) {
    const hash = Math.floor(rnd() * 36 ** 6)
      .toString(36)
      .padStart(6, "0");
    const name = NAMES[Math.floor(rnd() * NAMES.length)];
    const p = rnd() < 0.05 ? `/opt/store/${hash}-${name}` : `/nix/store/${hash}-${name}`;
    if (!seen.has(p)) {
      seen.add(p);
      paths.push(p);
    }
  }
  // Path i references only paths with a higher index: acyclic.
  const out: Raw[] = paths.map((path, i) => {
    const refs: string[] = [];
    if (rnd() < 0.5) refs.push(path);
    const k = Math.floor(rnd() * 4);
    for (let j = 0; j < k && i + 1 < n; j++) refs.push(paths[i + 1 + Math.floor(rnd() ** 2 * (n - i - 1))]);
    if (refs.length > 0 && rnd() < 0.2) refs.push(refs[0]);
    const e: Raw = { path, narSize: Math.floor(rnd() * 5) * 1000, references: refs };
    if (rnd() < 0.9) e.closureSize = Math.floor(rnd() * 4) * (rnd() < 0.1 ? 200_000_000 : 1000);
    return e;
  });
  // Input order is not creation order.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function docs(raw: unknown): { entries: ClosureDocument; columns: ClosureDocument } {
  const entries = readClosureDocument(JSON.parse(JSON.stringify(raw)));
  const columns = parseClosureBytes(new TextEncoder().encode(JSON.stringify(raw)));
  expect(columnsOf(columns)).toBeDefined();
  return { entries, columns };
}

function nixeryView(doc: ClosureDocument, options: Parameters<typeof nixeryLayers>[1]) {
  const r = nixeryLayers(doc, { kernels: "ts", ...options });
  const d = r.detail;
  return {
    layers: r.layers,
    detail: d.layers.map((l) => [l.contents, l.mergeRating, l.hash]),
    subtrees: d.subtrees.map((l) => [l.contents, l.mergeRating]),
    order: d.manifestOrder,
    tied: d.tiedRatings,
    roots: d.roots,
    rootsFrom: d.rootsFrom,
    unreachable: d.unreachable,
    attachedRoots: d.attachedRoots,
    dropped: d.dropped,
    warnings: d.warnings,
  };
}

function outcome<T>(fn: () => T): T | { code: string; message: string } {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { code: e.code, message: e.message };
  }
}

describe("strategy fast paths", () => {
  it("nixery: columns and entries give the same layers and detail (popcount, given popularity, roots, budgets)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 12 }), (seed, n, budget) => {
        const raw = randomClosure(seed, n);
        const { entries, columns } = docs(raw);
        const someRoots = raw.slice(0, 2).map((e) => e.path);
        for (const options of [
          { budget },
          { budget, popularity: { "zlib-1.3": 150, "bash-5.2": 3 } },
          { budget, roots: someRoots },
          { budget, roots: someRoots, dropUnreachable: true },
        ]) {
          expect(nixeryView(columns, options)).toEqual(nixeryView(entries, options));
        }
      }),
      { numRuns: 150 },
    );
  });

  it("nixery: groupLayers gives the same result on a Closure (narSize order) and on the input-order graph", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 12 }), (seed, n, budget) => {
        const raw = readClosureDocument(randomClosure(seed, n)).entries;
        const closure = Closure.fromEntries(raw);
        const graph = graphFromEntries(raw);
        const popularity = readPopularityMap({ "glibc-2.40": 120, a: 2 });
        const view = (g: Parameters<typeof groupLayers>[0], roots: number[]) => {
          const r = groupLayers(g, { budget, popularity, roots, bigClosureSize: 100_000_000, popularThreshold: 100, unreachable: "keep", kernels: tsKernels });
          return [
            r.layers.map((l) => [l.contents, l.mergeRating]),
            r.subtrees.map((l) => [l.contents, l.mergeRating]),
            r.manifestOrder,
            r.tiedRatings,
            r.unreachable,
            r.attachedRoots,
          ];
        };
        const first = raw[0].path;
        expect(view(graph, [graph.indexOf(first)!])).toEqual(view(closure, [closure.indexOf(first)!]));
      }),
      { numRuns: 150 },
    );
  });

  it("nixery: popcountColumns is popularityOf over popcount", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 80 }), (seed, n) => {
        const { entries, columns } = docs(randomClosure(seed, n));
        const map = popcount(entries.entries);
        const expected = entries.entries.map((e) => popularityOf(e.path, map));
        expect(Array.from(popcountColumns(columnsOf(columns)!))).toEqual(expected);
      }),
    );
  });

  it("auto-layer: columns and entries give the same plan", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 20 }), (seed, n, limit) => {
        const { entries, columns } = docs(randomClosure(seed, n));
        expect(autoLayerStrategy.plan(columns, { layerLimit: limit })).toEqual(autoLayerStrategy.plan(entries, { layerLimit: limit }));
      }),
      { numRuns: 150 },
    );
  });

  it("both: duplicate paths, dangling references and cycles fail the same way from columns and entries", () => {
    const a = "/nix/store/aaaa-a";
    const b = "/nix/store/bbbb-b";
    const c = "/nix/store/cccc-c";
    const bad = [
      [
        { path: a, narSize: 1, references: [b] },
        { path: b, narSize: 1, references: [] },
        { path: a, narSize: 2, references: [] },
      ],
      [
        { path: a, narSize: 1, references: [c] },
        { path: b, narSize: 1, references: ["/nix/store/dddd-d"] },
        { path: c, narSize: 1, references: [] },
      ],
      [
        { path: a, narSize: 1, references: [b] },
        { path: b, narSize: 1, references: [c] },
        { path: c, narSize: 1, references: [a] },
      ],
    ];
    for (const raw of bad) {
      const { entries, columns } = docs(raw);
      const viaEntries = outcome(() => graphFromEntries(entries.entries));
      expect(viaEntries).toHaveProperty("code");
      expect(outcome(() => graphFromColumns(columnsOf(columns)!))).toEqual(viaEntries);
      expect(outcome(() => nixeryLayers(columns))).toEqual(outcome(() => nixeryLayers(entries)));
      expect(outcome(() => autoLayerStrategy.plan(columns, { layerLimit: 5 }))).toEqual(viaEntries);
    }
  });

  it("auto-layer: nameOrder sorts by (name, hash) like Python's tuple order", () => {
    const py = (a: string, b: string) => {
      const x = Array.from(a, (ch) => ch.codePointAt(0)!);
      const y = Array.from(b, (ch) => ch.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
      return x.length - y.length;
    };
    const alphabet = ["a", "b", "-", ".", "0", "é", "\u{1F600}", "\uffff"];
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(fc.string({ unit: fc.constantFrom("x", "y", "/", "1"), maxLength: 3 }), fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 14 })),
          {
            maxLength: 300,
            selector: ([h, nm]) => `${h}-${nm}`,
          },
        ),
        fc.boolean(),
        (parts, asciiOnly) => {
          const paths = parts.map(([h, nm]) => `${h}-${asciiOnly ? nm.replace(/[^\x01-\x7f]/gu, "q") : nm}`);
          const unique = [...new Set(paths)];
          const split = unique.map((p) => [p.slice(0, p.indexOf("-")), p.slice(p.indexOf("-") + 1)]);
          const expected = unique.map((_, i) => i).sort((i, j) => py(split[i][1], split[j][1]) || py(split[i][0], split[j][0]));
          expect(Array.from(nameOrder(unique))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("radixSortByKey is a stable sort by whole-number keys up to 2^53", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.maxSafeNat()), { maxLength: 2000 }), (ks) => {
        const keys = Float64Array.from(ks);
        const items = Uint32Array.from(ks, (_, i) => i);
        const expected = Array.from(items).sort((a, b) => keys[a] - keys[b] || a - b);
        radixSortByKey(items, keys);
        expect(Array.from(items)).toEqual(expected);
        expect(Array.from(keys)).toEqual(expected.map((i) => ks[i]));
      }),
    );
  });
});
