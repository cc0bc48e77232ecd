// Unit tests of the nixery strategy: SHA-1, byte order, popularity (incl.
// popcount), the seed document's A..G example, uint64 ratings, roots,
// options and output formats.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readClosureDocument, type ClosureDocument } from "../src/graph/document.js";
import { PipelineError, InputError } from "../src/errors.js";
import { tsKernels } from "../src/kernels/index.js";
import {
  compareBytewise,
  formatNixeryJson,
  nixeryLayers,
  nixeryStrategy,
  popcount,
  popularityOf,
  sha1Hex,
  storeName,
  type NixeryOptions,
} from "../src/strategies/nixery/index.js";
import { bytewiseOrder } from "../src/strategies/nixery/order.js";

const nodeSha1 = (b: Uint8Array | string) => createHash("sha1").update(b).digest("hex");

describe("sha1 (pure TypeScript)", () => {
  it("matches node:crypto on every length around the block boundaries", () => {
    for (let len = 0; len <= 300; len++) {
      const bytes = randomBytes(len);
      expect(sha1Hex(bytes)).toBe(nodeSha1(bytes));
    }
  });
  it("matches node:crypto on the FIPS vector, UTF-8 text and a 3 MB buffer", () => {
    expect(sha1Hex("abc")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(sha1Hex("")).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const text = "/nix/store/abc-grüße-😀:/nix/store/def-\u00e9";
    expect(sha1Hex(text)).toBe(nodeSha1(Buffer.from(text, "utf8")));
    const big = randomBytes(3 * 1024 * 1024 + 17);
    expect(sha1Hex(big)).toBe(nodeSha1(big));
  });
});

describe("compareBytewise (Go's sort.Strings order)", () => {
  it("agrees with UTF-8 byte comparison, also where UTF-16 order differs", () => {
    const words = ["a", "ab", "b", "", "Z", "\u00e9", "\uffff", "\ue000", "😀", "😀a", "\ud7ff", "-", "."];
    for (const x of words) {
      for (const y of words) {
        expect(Math.sign(compareBytewise(x, y))).toBe(Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y))));
      }
    }
    // The case JS's default order gets wrong: U+FFFF sorts before U+1F600 in UTF-8 bytes.
    expect(compareBytewise("\uffff", "😀")).toBeLessThan(0);
    expect("\uffff" < "😀").toBe(false);
  });
});

describe("bytewiseOrder (one path order for contents and tie-breaks)", () => {
  const byBytes = (paths: string[]) => paths.map((_, i) => i).sort((a, b) => Buffer.compare(Buffer.from(paths[a]), Buffer.from(paths[b])));

  it("orders vertices by UTF-8 bytes, also where UTF-16 order differs", () => {
    const words = ["a", "ab", "b", "", "Z", "\u00e9", "\uffff", "\ue000", "😀", "😀a", "\ud7ff", "-", "."];
    expect(Array.from(bytewiseOrder(words))).toEqual(byBytes(words));
    // U+FFFF before U+1F600 in bytes, the other way round in code units.
    expect(Array.from(bytewiseOrder(["/nix/store/x-😀", "/nix/store/x-\uffff"]))).toEqual([1, 0]);
  });

  it("orders many store-path-like strings, prefixes of each other included", () => {
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
    const alphabet = "0123456789abcdfghijklmnpqrsvwxyz";
    const set = new Set<string>();
    for (let k = 0; k < 3000; k++) {
      let h = "";
      const len = 1 + (next() % 4);
      for (let i = 0; i < len; i++) h += alphabet[next() % alphabet.length];
      set.add(`/nix/store/${h}-${next() % 2 === 0 ? "glibc" : "gli"}`);
      set.add(`/nix/store/${h}`);
    }
    const paths = [...set];
    expect(Array.from(bytewiseOrder(paths))).toEqual(byBytes(paths));
  });

  it("gives Nixery's contents order and first-path tie-break on non-ASCII paths", () => {
    const p = (name: string) => `/nix/store/h-${name}`;
    const [r1, r2, a, b] = [p("\uffff"), p("😀"), p("\uffffz"), p("😀z")];
    // Two roots, no closureSize: both subtrees rate 0 (a tie) and r2's subtree holds a and b.
    const doc = readClosureDocument([
      { path: r2, narSize: 1, references: [a, b] },
      { path: b, narSize: 1, references: [] },
      { path: a, narSize: 1, references: [] },
      { path: r1, narSize: 1, references: [] },
    ]);
    for (const kernels of ["ts", "wasm"] as const) {
      const r = nixeryLayers(doc, { kernels, popularity: {} });
      expect(r.detail.tiedRatings).toBe(true);
      // GroupLayers order: ascending rating, ties by first path (U+FFFF before U+1F600 in bytes).
      expect(r.detail.layers.map((l) => l.contents)).toEqual([[r1], [a, r2, b]]);
      expect(nixeryLayers(doc, { kernels, popularity: {}, budget: 1 }).layers).toEqual([[r1, a, r2, b]]);
    }
  });
});

describe("popularity", () => {
  it("strips /nix/store/<hash>- only, and applies the nss-cacert/iana-etc override", () => {
    const map = new Map([
      ["openssl-3.0.13", 250],
      ["openssl", 1000],
      ["nss-cacert-3.98", 7],
    ]);
    expect(storeName("/nix/store/0c8b2qj6hd6a9x7y-openssl-3.0.13")).toBe("openssl-3.0.13");
    expect(popularityOf("/nix/store/0c8b2qj6hd6a9x7y-openssl-3.0.13", map)).toBe(250);
    expect(popularityOf("/nix/store/0c8b2qj6hd6a9x7y-nss-cacert-3.98", map)).toBe(500000);
    expect(popularityOf("/nix/store/0c8b2qj6hd6a9x7y-iana-etc-20240318", map)).toBe(500000);
    expect(popularityOf("/nix/store/0c8b2qj6hd6a9x7y-zlib-1.3", map)).toBe(1);
    // Another store dir never matches Nixery's anchored regexp.
    expect(popularityOf("/gnu/store/0c8b2qj6hd6a9x7y-openssl-3.0.13", map)).toBe(1);
  });

  it("popcount: every references entry counts, self included; same name summed over hashes; singletons dropped", () => {
    const p = (h: string, name: string) => `/nix/store/${h}-${name}`;
    const glibcA = p("aaaa", "glibc-2.40");
    const glibcB = p("bbbb", "glibc-2.40"); // same name, other hash
    const bash = p("cccc", "bash-5.2");
    const hello = p("dddd", "hello-2.12");
    const tool = p("eeee", "tool-1.0");
    const entries = [
      { path: hello, narSize: 1, references: [hello, bash, glibcA] },
      { path: tool, narSize: 1, references: [glibcB] },
      { path: bash, narSize: 1, references: [bash, glibcA] },
      { path: glibcA, narSize: 1, references: [glibcA] },
      { path: glibcB, narSize: 1, references: [glibcB] },
    ];
    // glibc: hello, tool, bash, glibcA self, glibcB self = 5; bash: hello + self = 2;
    // hello: self only = 1 (dropped); tool: never referenced (absent).
    expect(Object.fromEntries(popcount(entries))).toEqual({ "glibc-2.40": 5, "bash-5.2": 2 });
  });

  it("uses popcount over the closure when no map is given, with a configurable threshold", () => {
    const p = (h: string, name: string) => `/nix/store/${h}-${name}`;
    const [app, lib, libc] = [p("a1", "app"), p("b2", "lib"), p("c3", "libc")];
    const doc = readClosureDocument([
      { path: app, narSize: 1, closureSize: 6, references: [app, lib, libc] },
      { path: lib, narSize: 2, closureSize: 5, references: [lib, libc] },
      { path: libc, narSize: 3, closureSize: 3, references: [libc] },
    ]);
    // libc counted 3 times, lib twice: default threshold 100 -> one subtree.
    const plain = nixeryLayers(doc, { kernels: "ts" });
    expect(plain.detail.popularityFrom).toBe("popcount");
    expect(plain.layers).toEqual([[app, lib, libc]]);
    // popularThreshold 3 makes libc popular: it gets its own root edge and layer.
    const r = nixeryLayers(doc, { kernels: "ts", popularThreshold: 3 });
    // Ratings: libc 3 x 3 = 9; {app, lib} 1 (app's popularity) x (6 + 5) = 11.
    expect(r.detail.layers.map((l) => [l.contents, l.mergeRating])).toEqual([
      [[libc], 9n],
      [[app, lib], 11n],
    ]);
    // Bottom-first = manifest order = rating descending.
    expect(r.layers).toEqual([[app, lib], [libc]]);
    // Given an empty map (Nixery without NIX_POPULARITY_URL), everything has popularity 1.
    expect(nixeryLayers(doc, { kernels: "ts", popularThreshold: 3, popularity: {} }).layers).toEqual([[app, lib, libc]]);
  });

  it("rejects malformed popularity maps", () => {
    const doc = readClosureDocument([{ path: "/nix/store/a-x", narSize: 1, references: [] }]);
    expect(() => nixeryLayers(doc, { kernels: "ts", popularity: { x: 1.5 } as Record<string, number> })).toThrow(PipelineError);
    expect(() => nixeryStrategy.plan(doc, { kernels: tsKernels, popularity: [1, 2] as unknown as Record<string, number> })).toThrow(
      /popularity must be a JSON object/,
    );
  });
});

// The seed document's example (Nixery design comment, reference doc B.7):
// img -> A, B, C, D; A, B, C -> E; C -> D; D -> F, G.
const H: Record<string, string> = {
  A: "msah24mrxr9icx5blmj8g5mhfks80gzx",
  B: "zyh52m4l3by6ayp9ywb8lhz2wddv3jaw",
  C: "b30mkxvirn3hh6pmxbi7xif9xrw5v7ld",
  D: "zrm385px6821l6cpm3vlfbfzss1c5lx3",
  E: "9mm6x75paambryl9pmqd590227qqjkcq",
  F: "nsial45i1n5yd91dy95rqkqd73pzcy89",
  G: "kyay71xcf5w7z3wkmc33y2klf8fnp1i3",
};
const P = (x: string) => `/nix/store/${H[x]}-${x}`;
const EDGES: Record<string, string[]> = { A: ["E"], B: ["E"], C: ["E", "D"], D: ["F", "G"], E: [], F: [], G: [] };
const MB = 1_000_000;

/** The seed graph with closureSize = sum of narSize over each closure. */
function seedDoc(narMB: Record<string, number>): ClosureDocument {
  const closureOf = (x: string, seen = new Set<string>()): Set<string> => {
    seen.add(x);
    for (const y of EDGES[x]) if (!seen.has(y)) closureOf(y, seen);
    return seen;
  };
  const graph = Object.keys(EDGES).map((x) => ({
    path: P(x),
    narSize: narMB[x] * MB,
    closureSize: [...closureOf(x)].reduce((s, y) => s + narMB[y] * MB, 0),
    references: [P(x), ...EDGES[x].map(P)],
  }));
  return readClosureDocument({ graph, roots: ["A", "B", "C", "D"].map(P) });
}
const letters = (layers: readonly (readonly string[])[]) => layers.map((l) => l.map((p) => p.slice(-1)).join(""));

describe("the seed document's A..G example (reference doc B.7)", () => {
  // What the comment claims, listed most important first (as sets).
  const docClaims: Record<number, string[]> = {
    1: ["ABCDEFG"],
    2: ["G", "ABCDEF"],
    3: ["G", "E", "ABCDF"],
    4: ["G", "E", "DF", "ABC"],
    10: ["E", "DF", "A", "B", "C"], // G is missing: a doc error, there are 6 subtrees
  };
  const asSets = (ls: string[]) => ls.map((l) => [...l].sort().join(""));

  it("with consistent sizes (G 150 MB, E popularity 100) the code does NOT give the doc's groupings", () => {
    const doc = seedDoc({ A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 150 });
    const run = (budget: number) => nixeryLayers(doc, { budget, popularity: { E: 100 }, kernels: "ts" });
    // GroupLayers order: merged layer first, then ascending rating. F sorts
    // before D by hash; G (150M) is among the first merged; C (168M) survives alone.
    expect(letters(run(1).detail.layers.map((l) => l.contents))).toEqual(["ABGFDCE"]);
    expect(letters(run(2).detail.layers.map((l) => l.contents))).toEqual(["ABGFDC", "E"]);
    expect(letters(run(3).detail.layers.map((l) => l.contents))).toEqual(["ABGFD", "C", "E"]);
    expect(letters(run(4).detail.layers.map((l) => l.contents))).toEqual(["ABG", "FD", "C", "E"]);
    expect(letters(run(10).detail.layers.map((l) => l.contents))).toEqual(["A", "B", "G", "FD", "C", "E"]);
    // Bottom-first (manifest) order at budget 3: E 500M, the merged 329M, C 168M.
    expect(letters(run(3).layers)).toEqual(["E", "ABGFD", "C"]);
    expect(run(3).detail.layers[0].mergeRating).toBe(329_000_000n);
    expect(run(10).detail.subtrees.map((s) => s.mergeRating)).toEqual([6n, 7n, 150n, 166n, 168n, 500n].map((x) => x * 1_000_000n));
    for (const b of [2, 3, 4]) expect(asSets(letters(run(b).layers))).not.toEqual(asSets(docClaims[b]));
  });

  it("with F = 10 MB and popularity G = 50 the code gives exactly the doc's sets (plus {G} at budget 10)", () => {
    const doc = seedDoc({ A: 1, B: 2, C: 3, D: 4, E: 5, F: 10, G: 150 });
    const run = (budget: number) => nixeryLayers(doc, { budget, popularity: { E: 100, G: 50 }, kernels: "ts" });
    for (const b of [1, 2, 3, 4]) {
      // GroupLayers returns them ascending, i.e. the doc's list reversed.
      const got = letters(run(b).detail.layers.map((l) => l.contents));
      expect(asSets(got).reverse()).toEqual(asSets(docClaims[b]));
    }
    expect(letters(run(10).detail.layers.map((l) => l.contents))).toEqual(["A", "B", "C", "FD", "E", "G"]);
    // Manifest (bottom-first) order matches the doc's listing for budgets 1-3, but not
    // at 4: the merged {A,B,C} (6+7+172 = 185M) outranks {D,F} (174M) there.
    for (const b of [1, 2, 3]) expect(asSets(letters(run(b).layers))).toEqual(asSets(docClaims[b]));
    expect(asSets(letters(run(4).layers))).toEqual(asSets(["G", "E", "ABC", "DF"]));
  });

  it("without the size flag (G = 50 MB) G stays inside D's subtree", () => {
    const doc = seedDoc({ A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 50 });
    const r = nixeryLayers(doc, { budget: 10, popularity: { E: 100 }, kernels: "ts" });
    expect(letters(r.detail.layers.map((l) => l.contents))).toEqual(["A", "B", "C", "GFD", "E"]);
  });

  it("derives the roots (paths nothing references) when none are given", () => {
    const doc = seedDoc({ A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 150 });
    const r = nixeryLayers({ ...doc, roots: undefined }, { budget: 10, popularity: { E: 100 }, kernels: "ts" });
    expect(r.detail.rootsFrom).toBe("unreferenced");
    expect(letters([r.detail.roots]).join("").split("").sort()).toEqual(["A", "B", "C"]);
    // D is still a root child: it is big (160M), so it has its own fake-root edge.
    expect(letters(r.detail.layers.map((l) => l.contents))).toEqual(["A", "B", "G", "FD", "C", "E"]);
  });
});

describe("merge ratings are uint64 with wrap-around", () => {
  it("wraps products and merged sums modulo 2^64", () => {
    const big = 2 ** 52; // safe integer; 2^52 x 2^13 = 2^65 wraps to 0
    const x = "/nix/store/xxxx-x-1";
    const y = "/nix/store/yyyy-y-1";
    const doc = readClosureDocument({
      graph: [
        { path: x, narSize: 1, closureSize: big, references: [] },
        { path: y, narSize: 1, closureSize: big, references: [] },
      ],
      roots: [x, y],
    });
    const popularity = { "x-1": 8192, "y-1": 12289 };
    const r = nixeryLayers(doc, { budget: 2, popularity, kernels: "ts" });
    // 2^52 x 12289 = 2^52 x (3 x 2^12 + 1) = 3 x 2^64 + 2^52, which wraps to 2^52.
    const wantY = 2n ** 52n;
    expect(r.detail.layers.map((l) => l.mergeRating)).toEqual([0n, wantY]);
    // Merged: 0 + wantY.
    expect(nixeryLayers(doc, { budget: 1, popularity, kernels: "ts" }).detail.layers[0].mergeRating).toBe(wantY);
    // A third subtree rated 2^52 x 4095 = 2^64 - 2^52: merging all three sums to 2^64, which wraps to 0.
    const z = "/nix/store/zzzz-z-1";
    const doc3 = readClosureDocument({
      graph: [...doc.entries, { path: z, narSize: 1, closureSize: big, references: [] }],
      roots: [x, y, z],
    });
    const all = nixeryLayers(doc3, { budget: 1, popularity: { ...popularity, "z-1": 4095 }, kernels: "ts" });
    expect(all.detail.subtrees.map((l) => l.mergeRating)).toEqual([0n, 2n ** 52n, 2n ** 64n - 2n ** 52n]);
    expect(all.detail.layers[0].mergeRating).toBe(0n);
    // Output format prints the exact integer, not a rounded double.
    expect(formatNixeryJson(r.detail.layers)).toContain(`"mergeRating": ${wantY}`);
  });
});

describe("options, roots and formats", () => {
  const a = "/nix/store/aaaa-a";
  const b = "/nix/store/bbbb-b";
  const c = "/nix/store/cccc-c";
  const doc = readClosureDocument({
    graph: [
      { path: a, narSize: 1, closureSize: 30, references: [a, c] },
      { path: b, narSize: 1, closureSize: 20, references: [b, c] },
      { path: c, narSize: 1, closureSize: 10, references: [c] },
    ],
    roots: [a, b],
  });
  const opts: NixeryOptions = { kernels: "ts", popularity: {} };

  it("uses the document's roots, then the roots option, and fails clearly on a root outside the closure", () => {
    // Roots a, b: c is shared, so it hangs off the fake root itself.
    expect(nixeryLayers(doc, opts).detail.layers.map((l) => l.contents)).toEqual([[c], [b], [a]]);
    const onlyA = nixeryLayers(doc, { ...opts, roots: [a], dropUnreachable: true });
    expect(onlyA.detail.rootsFrom).toBe("option");
    expect(onlyA.detail.dropped).toEqual([b]);
    expect(onlyA.layers).toEqual([[a, c]]);
    expect(() => nixeryLayers(doc, { ...opts, roots: ["/nix/store/zzzz-z"] })).toThrow(/root "\/nix\/store\/zzzz-z" is not in the closure/);
    expect(() => nixeryLayers({ ...doc, roots: ["/nix/store/zzzz-z"] }, opts)).toThrow(InputError);
  });

  it("keeps unreachable paths by default by attaching them under the fake root", () => {
    const r = nixeryLayers(doc, { ...opts, roots: [a] });
    expect(r.detail.unreachable).toEqual([b]);
    expect(r.detail.attachedRoots).toEqual([b]);
    expect(r.layers.flat().sort()).toEqual([a, b, c]);
    expect(r.detail.warnings.some((w) => w.includes("not reachable"))).toBe(true);
    expect(() => nixeryLayers(doc, { ...opts, roots: [a], strict: true })).toThrow(PipelineError);
    expect(() => nixeryLayers(doc, { ...opts, strict: true, dropUnreachable: true })).toThrow(/contradict/);
  });

  it("validates the budget (Nixery panics on budget <= 0) and thresholds", () => {
    for (const budget of [0, -1, 1.5, Number.NaN]) expect(() => nixeryLayers(doc, { ...opts, budget })).toThrow(/budget must be a whole number >= 1/);
    // bigClosureSize 15 makes a (30) and b (20) big: no change, they are roots already; 5 makes c big too.
    expect(nixeryLayers(doc, { ...opts, bigClosureSize: 5 }).detail.layers.length).toBe(3);
  });

  it("warns when closureSize is missing (Nixery counts 0)", () => {
    const d = readClosureDocument([{ path: a, narSize: 5, references: [] }]);
    const r = nixeryLayers(d, opts);
    expect(r.detail.missingClosureSize).toBe(1);
    expect(r.detail.layers[0].mergeRating).toBe(0n);
    expect(r.detail.warnings.join()).toMatch(/no closureSize/);
  });

  it("removes excluded paths after grouping and re-hashes", () => {
    const r = nixeryLayers(doc, { ...opts, exclude: [c] });
    expect(r.detail.layers.map((l) => l.contents)).toEqual([[b], [a]]);
    expect(r.detail.layers[0].hash).toBe(nodeSha1(b));
  });

  it("is registered as Strategy 'nixery' with the nixery format (GroupLayers order) and bottom-first layers", () => {
    expect(nixeryStrategy.name).toBe("nixery");
    // Requests from workers may carry numbers as decimal strings; the strategy reads them.
    const result = nixeryStrategy.plan(doc, { budget: "2" as unknown as number, popularity: { c: 1000 }, kernels: tsKernels, roots: [] });
    // c is popular (1000 x 10), so it is the highest rated and the bottom layer.
    expect(result.layers).toEqual([[c], [b, a]]);
    const json = JSON.parse(nixeryStrategy.formats!.nixery(result)) as { contents: string[]; mergeRating: number; hash: string }[];
    expect(json).toEqual([
      { contents: [b, a], mergeRating: 50, hash: nodeSha1(`${b}:${a}`) },
      { contents: [c], mergeRating: 10000, hash: nodeSha1(c) },
    ]);
  });
});

describe("storeName equals Nixery's regexp ^/nix/store/[a-z0-9]+-", () => {
  it("on tricky paths", () => {
    const re = /^\/nix\/store\/[a-z0-9]+-/;
    const paths = [
      "/nix/store/abc-x",
      "/nix/store/abc--x",
      "/nix/store/-x",
      "/nix/store/ABC-x",
      "/nix/store/abc",
      "/nix/store/abc_def-x",
      "/nix/store/a1b2-c3-d4",
      "/nix/store/",
      "/nix/storex/abc-x",
      "/gnu/store/abc-x",
      "nix/store/abc-x",
      "",
    ];
    for (const p of paths) expect(storeName(p)).toBe(p.replace(re, ""));
  });
});
