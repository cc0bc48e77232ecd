// Issue 17, small closures end to end: the native-sort and native-join fast
// paths (auto-layer's name and candidate orders, Closure's narSize order, the
// layer formatters) against plain comparator / per-item oracles, and the
// Closure's lazy topological order and path lookup from the reader's columns.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InputError } from "../src/errors.js";
import { formatLayersCompact, formatLayersIndented, joinStrings, pyJsonString } from "../src/format/python-json.js";
import { Closure, columnsOf } from "../src/graph/closure.js";
import { isAcyclic, csrFromLists } from "../src/graph/csr.js";
import { readClosureDocument } from "../src/graph/document.js";
import { parseClosureBytes } from "../src/io/stream-json.js";
import { topoOrderTs } from "../src/kernels/ts/topo.js";
import { candidateOrder, nameOrder } from "../src/strategies/auto-layer/index.js";
import { nixeryLayers } from "../src/strategies/nixery/index.js";
import { unreferenced } from "../src/strategies/nixery/group.js";
import { graphFromColumns, graphFromEntries } from "../src/graph/input-order.js";
import { mulberry32 } from "./helpers/random-dag.js";

const SEED = { seed: 1717, numRuns: 200 };

/** Python's str order (code points). */
function py(a: string, b: string): number {
  const x = Array.from(a, (ch) => ch.codePointAt(0)!);
  const y = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

describe("layer formatting: one native join for plain layers", () => {
  const unit = fc.constantFrom("a", "/", "-", ".", " ", "~", '"', "\\", "\n", "\u0001", "\u007f", "é", "\u{1F600}", "\ud800");
  it("joinStrings is the per-item pyJsonString join, for any strings", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit, maxLength: 8 }), { maxLength: 20 }), fc.constantFrom(", ", ",\n    "), (items, sep) => {
        expect(joinStrings(items, sep)).toBe(items.map(pyJsonString).join(sep));
      }),
      SEED,
    );
  });

  it("formatLayersIndented and formatLayersCompact match a per-path json.dumps reproduction", () => {
    const layer = fc.array(fc.string({ unit, maxLength: 6 }), { maxLength: 6 });
    fc.assert(
      fc.property(fc.array(layer, { maxLength: 6 }), (layers) => {
        const indented =
          layers.length === 0
            ? "[]\n"
            : "[\n" +
              layers.map((l) => (l.length === 0 ? "  []" : "  [\n" + l.map((p) => "    " + pyJsonString(p)).join(",\n") + "\n  ]")).join(",\n") +
              "\n]\n";
        expect(formatLayersIndented(layers)).toBe(indented);
        expect(formatLayersCompact(layers)).toBe("[" + layers.map((l) => "[" + l.map(pyJsonString).join(", ") + "]").join(", ") + "]\n");
      }),
      SEED,
    );
  });

  it("an item to escape in a later block of a long layer is escaped", () => {
    for (const at of [0, 1023, 1024, 2500, 2999]) {
      const items = Array.from({ length: 3000 }, (_, i) => `/nix/store/${i}-p`);
      items[at] = '/nix/store/q-"\\\u00e9';
      expect(joinStrings(items, ", ")).toBe(items.map(pyJsonString).join(", "));
      expect(joinStrings(items, ", ")).toContain('"/nix/store/q-\\"\\\\\\u00e9"');
    }
  });

  it("store paths are written as is, one per line", () => {
    expect(formatLayersIndented([["/nix/store/a-x", "/nix/store/b-y"], ["/nix/store/c-z"]])).toBe(
      '[\n  [\n    "/nix/store/a-x",\n    "/nix/store/b-y"\n  ],\n  [\n    "/nix/store/c-z"\n  ]\n]\n',
    );
  });
});

describe("auto-layer orders by native sorts", () => {
  it("nameOrder numbers vertices past 2^14 and 2^21 correctly (the key's 7-bit vertex characters)", () => {
    // 20,000 paths over few names and hashes that are prefixes of one another.
    const rnd = mulberry32(99);
    const names = ["glibc-2.40", "glibc-2.40-bin", "bash", "bash-5.2", "zlib", "a"];
    const seen = new Set<string>();
    const paths: string[] = [];
    while (paths.length < 20000) {
      const hash = Math.floor(rnd() * 36 ** 4).toString(36);
      const p = `/nix/store/${hash}-${names[Math.floor(rnd() * names.length)]}`;
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
    const split = paths.map((p) => [p.slice(0, p.indexOf("-")), p.slice(p.indexOf("-") + 1)]);
    const expected = paths.map((_, i) => i).sort((i, j) => py(split[i][1], split[j][1]) || py(split[i][0], split[j][0]));
    expect(Array.from(nameOrder(paths))).toEqual(expected); // native below NATIVE_NAME_ORDER
    expect(Array.from(nameOrder(paths, false))).toEqual(expected); // the radix sort large closures take
    expect(Array.from(nameOrder(paths, true))).toEqual(expected);
  });

  it("nameOrder's two sorts agree with Python's tuple order on short ASCII paths", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: fc.constantFrom("a", "b", "-", "0", "/", "."), minLength: 1, maxLength: 10 }), { maxLength: 200 }),
        (raw) => {
          const paths = [...new Set(raw.map((p) => `x${p}-y`))];
          const split = paths.map((p) => [p.slice(0, p.indexOf("-")), p.slice(p.indexOf("-") + 1)]);
          const expected = paths.map((_, i) => i).sort((i, j) => py(split[i][1], split[j][1]) || py(split[i][0], split[j][0]));
          expect(Array.from(nameOrder(paths, true))).toEqual(expected);
          expect(Array.from(nameOrder(paths, false))).toEqual(expected);
        },
      ),
      SEED,
    );
  });

  it("candidateOrder is narSize descending, later input first, also with input positions beyond n - 1", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        fc.boolean(),
        (sizes, gap, withPositions, huge) => {
          const n = sizes.length;
          // Distinct positions, spread out (as a Closure built with exclusions keeps them).
          const positions = Array.from({ length: n }, (_, v) => v * (gap + 1) + (v % 3));
          const rnd = mulberry32(gap);
          for (let i = n - 1; i > 0; i--) {
            const j = Math.floor(rnd() * (i + 1));
            [positions[i], positions[j]] = [positions[j], positions[i]];
          }
          const narSize = Float64Array.from(sizes, (s) => (huge ? s * 2 ** 50 : s * 1000));
          const g = { n, offsets: new Uint32Array(n + 1), targets: new Uint32Array(0), paths: sizes.map((_, v) => `/nix/store/h${v}-p`), narSize };
          const graph = withPositions ? { ...g, inputIndex: Uint32Array.from(positions) } : g;
          const pos = (v: number) => (withPositions ? positions[v] : v);
          const expected = sizes.map((_, v) => v).sort((a, b) => narSize[b] - narSize[a] || pos(b) - pos(a));
          expect(Array.from(candidateOrder(graph))).toEqual(expected);
        },
      ),
      SEED,
    );
  });
});

describe("Closure from the reader's columns", () => {
  /** A random acyclic closure; path i references higher indices only; input order shuffled. */
  function raw(seed: number, n: number, hugeSizes: boolean) {
    const rnd = mulberry32(seed);
    const paths = Array.from({ length: n }, (_, i) => `/nix/store/${i.toString(36).padStart(4, "0")}-p${Math.floor(rnd() * 7)}`);
    const out = paths.map((path, i) => {
      const refs: string[] = [];
      const k = Math.floor(rnd() * 4);
      for (let j = 0; j < k && i + 1 < n; j++) refs.push(paths[i + 1 + Math.floor(rnd() * (n - i - 1))]);
      if (rnd() < 0.3) refs.push(path);
      const size = Math.floor(rnd() * 4);
      return { path, narSize: hugeSizes && rnd() < 0.3 ? 2 ** 52 + size : size * 100, references: refs };
    });
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  const columnsDoc = (value: unknown) => {
    const doc = parseClosureBytes(new TextEncoder().encode(JSON.stringify(value)));
    expect(columnsOf(doc)).toBeDefined();
    return doc;
  };

  it("has the vertex order, edges, topological order and lookups of the entries' Closure (with exclusions, sizes too large to pack)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 80 }), fc.boolean(), fc.boolean(), (seed, n, huge, excludeSome) => {
        const value = raw(seed, n, huge);
        const exclude = excludeSome ? value.filter((_, i) => i % 5 === 1).map((e) => e.path) : [];
        const fromColumns = Closure.fromDocument(columnsDoc(value), { exclude });
        const fromEntries = Closure.fromEntries(readClosureDocument(value).entries, { exclude });
        expect(fromColumns.paths).toEqual(fromEntries.paths);
        expect(Array.from(fromColumns.inputIndex)).toEqual(Array.from(fromEntries.inputIndex));
        expect(Array.from(fromColumns.offsets)).toEqual(Array.from(fromEntries.offsets));
        expect(Array.from(fromColumns.targets)).toEqual(Array.from(fromEntries.targets));
        expect(Array.from(fromColumns.topo)).toEqual(Array.from(topoOrderTs(fromEntries)));
        expect(fromColumns.topo).toBe(fromColumns.topo); // made once
        for (const e of value) {
          expect(fromColumns.indexOf(e.path)).toBe(fromEntries.indexOf(e.path));
          expect(fromColumns.has(e.path)).toBe(!exclude.includes(e.path));
        }
        expect(fromColumns.indexOf("/nix/store/none-x")).toBeUndefined();
      }),
      { seed: 1717, numRuns: 150 },
    );
  });

  it("a path only referenced (not an entry, excluded) is not a vertex", () => {
    const value = [
      { path: "/nix/store/a-app", narSize: 1, references: ["/nix/store/b-lib"] },
      { path: "/nix/store/b-lib", narSize: 2, references: [] },
    ];
    const c = Closure.fromDocument(columnsDoc(value), { exclude: ["/nix/store/b-lib"] });
    expect(c.paths).toEqual(["/nix/store/a-app"]);
    expect(c.indexOf("/nix/store/b-lib")).toBeUndefined();
    expect(c.has("/nix/store/b-lib")).toBe(false);
  });

  it("still rejects a cycle at construction, naming it", () => {
    const value = [
      { path: "/nix/store/a-x", narSize: 1, references: ["/nix/store/b-y"] },
      { path: "/nix/store/b-y", narSize: 1, references: ["/nix/store/a-x"] },
      { path: "/nix/store/c-z", narSize: 1, references: [] },
    ];
    for (const build of [() => Closure.fromDocument(columnsDoc(value)), () => Closure.fromEntries(readClosureDocument(value).entries)]) {
      let error: unknown;
      try {
        build();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe(
        'the closure has a dependency cycle (Nix closures are acyclic): "/nix/store/b-y" -> "/nix/store/a-x" -> "/nix/store/b-y"',
      );
    }
  });

  it("isAcyclic agrees with a full topological order", () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 3 }), { minLength: 1, maxLength: 12 }), (lists) => {
        const g = csrFromLists(lists.map((l) => l.filter((w) => w < lists.length)));
        expect(isAcyclic(g)).toBe(topoOrderTs(g).length === g.n);
      }),
      SEED,
    );
  });
});

describe("Nixery's rating order", () => {
  it("scaling every closureSize (and the big-path threshold) by 2^30 keeps the layers and scales the ratings (packed native sort vs radix and BigInt)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 2, max: 60 }), fc.integer({ min: 1, max: 12 }), (seed, n, budget) => {
        const rnd = mulberry32(seed);
        const paths = Array.from({ length: n }, (_, i) => `/nix/store/${i.toString(36).padStart(3, "0")}-p${Math.floor(rnd() * 5)}`);
        const value = paths.map((path, i) => {
          const refs: string[] = [];
          for (let j = 0; j < 3 && i + 1 < n; j++) if (rnd() < 0.6) refs.push(paths[i + 1 + Math.floor(rnd() * (n - i - 1))]);
          return { path, narSize: 1 + Math.floor(rnd() * 9), closureSize: Math.floor(rnd() * 4) * 1000, references: [...new Set(refs)] };
        });
        const scale = 2 ** 30;
        const scaled = value.map((e) => ({ ...e, closureSize: e.closureSize * scale }));
        const a = nixeryLayers(columnsDocOf(value), { budget, kernels: "ts", bigClosureSize: 100_000_000 });
        const b = nixeryLayers(columnsDocOf(scaled), { budget, kernels: "ts", bigClosureSize: 100_000_000 * scale });
        expect(b.layers).toEqual(a.layers);
        expect(b.detail.layers.map((l) => l.contents)).toEqual(a.detail.layers.map((l) => l.contents));
        expect(b.detail.layers.map((l) => l.mergeRating)).toEqual(a.detail.layers.map((l) => l.mergeRating * BigInt(scale)));
      }),
      { seed: 1717, numRuns: 150 },
    );
  });
});

describe("input-order graph", () => {
  it("knows its unreferenced vertices: the same as counting over its edges", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 50 }), (seed, n) => {
        const rnd = mulberry32(seed);
        const paths = Array.from({ length: n }, (_, i) => `/nix/store/${i.toString(36)}-x`);
        const value = paths.map((path, i) => {
          const refs: string[] = rnd() < 0.2 ? [path] : [];
          for (let j = 0; j < 2 && i + 1 < n; j++) if (rnd() < 0.5) refs.push(paths[i + 1 + Math.floor(rnd() * (n - i - 1))]);
          return { path, narSize: 1, references: refs };
        });
        for (const g of [graphFromColumns(columnsOf(columnsDocOf(value))!), graphFromEntries(readClosureDocument(value).entries)]) {
          const plain = unreferenced({ n: g.n, offsets: g.offsets, targets: g.targets });
          expect(unreferenced(g)).toEqual(plain);
          expect(g.unreferenced).toEqual(plain);
        }
      }),
      { seed: 1717, numRuns: 100 },
    );
  });
});

function columnsDocOf(value: unknown) {
  const doc = parseClosureBytes(new TextEncoder().encode(JSON.stringify(value)));
  expect(columnsOf(doc)).toBeDefined();
  return doc;
}
