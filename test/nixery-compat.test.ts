// Nixery compat cases (../shared/compat/nixery): the recorded output of
// Nixery's own GroupLayers + Manifest. Deterministic cases must match
// exactly; non-deterministic ones must equal canonical_layers and satisfy the
// README's validity rule; panic cases must be rejected with a clear error.
import { describe, expect, it } from "vitest";
import { readClosureDocument } from "../src/graph/document.js";
import { StrataError } from "../src/errors.js";
import { nixeryLayers, popcount, sha1Hex, type NixeryLayer, type NixeryOptions } from "../src/strategies/nixery/index.js";
import type { BackendName } from "../src/kernels/index.js";
import { requireShared, listJson, readJsonFile, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();

interface JsonLayer {
  contents: string[];
  mergeRating: number | string;
  hash: string;
}
interface Case {
  name: string;
  params: { budget: number; popularity: Record<string, number>; popularity_source?: string };
  input: { graph: unknown[]; roots: string[] };
  expected: {
    error?: string;
    layers?: JsonLayer[];
    manifest_order?: string[];
    deterministic?: boolean;
    subtree_count?: number;
    subtree_ratings?: (number | string)[];
    covered_paths?: number;
    subtrees?: JsonLayer[];
    canonical_layers?: JsonLayer[];
  };
}

// The case files are parsed with JSON.parse, so ratings above 2^53 would lose
// precision; none of the recorded ratings is that large (checked below).
const asJson = (l: NixeryLayer) => ({ contents: [...l.contents], mergeRating: l.mergeRating, hash: l.hash });
const expectedLayer = (l: JsonLayer) => ({ contents: l.contents, mergeRating: BigInt(l.mergeRating), hash: l.hash });

const dir = sharedPath("compat", "nixery");
const cases: Case[] = listJson(dir).map((f) => readJsonFile(f) as Case);

/** Nixery-exact settings: the compat inputs are run as Nixery would run them. */
function run(c: Case, extra: NixeryOptions = {}, backend: BackendName = "ts") {
  const doc = readClosureDocument({ graph: c.input.graph, roots: c.input.roots }, { requireNarSize: false });
  return nixeryLayers(doc, {
    budget: c.params.budget,
    popularity: c.params.popularity,
    dropUnreachable: true,
    duplicates: "keep-last",
    kernels: backend,
    ...extra,
  });
}

function manifestNames(order: number[]): string[] {
  return [...order.map((i) => `layer:${i}`), "symlink"];
}

/**
 * The README's validity rule: `layers` is the merge rule applied to some
 * ordering of `subtrees` by non-decreasing rating.
 */
function isValidNixeryOutput(layers: readonly JsonLayer[], subtrees: readonly JsonLayer[], budget: number): string | null {
  const n = subtrees.length;
  if (layers.length !== Math.min(n, budget)) return `expected ${Math.min(n, budget)} layers, got ${layers.length}`;
  const byFirst = new Map<string, number>();
  subtrees.forEach((s, i) => byFirst.set(s.contents[0], i));
  const used = new Uint8Array(n);
  const sequence: number[] = [];
  const take = (contents: string[], at: number): number | string => {
    const i = byFirst.get(contents[at]);
    if (i === undefined) return `layer contents at ${at} do not start a subtree`;
    const s = subtrees[i].contents;
    for (let j = 0; j < s.length; j++) if (contents[at + j] !== s[j]) return `subtree ${i} is not contiguous and sorted in the layer`;
    if (used[i]) return `subtree ${i} appears twice`;
    used[i] = 1;
    sequence.push(i);
    return s.length;
  };
  for (let li = 0; li < layers.length; li++) {
    const l = layers[li];
    let at = 0;
    let blocks = 0;
    let rating = 0n;
    while (at < l.contents.length) {
      const r = take(l.contents, at);
      if (typeof r === "string") return `layer ${li}: ${r}`;
      rating = BigInt.asUintN(64, rating + BigInt(subtrees[sequence[sequence.length - 1]].mergeRating));
      at += r;
      blocks++;
    }
    const wantBlocks = li === 0 && n > budget ? n - budget + 1 : 1;
    if (blocks !== wantBlocks) return `layer ${li} has ${blocks} subtrees, expected ${wantBlocks}`;
    if (rating !== BigInt(l.mergeRating)) return `layer ${li} rating ${l.mergeRating} is not the sum ${rating}`;
    if (l.hash !== sha1Hex(l.contents.join(":"))) return `layer ${li} hash does not match its contents`;
  }
  if (sequence.length !== n) return `only ${sequence.length} of ${n} subtrees appear`;
  for (let i = 1; i < n; i++) {
    if (BigInt(subtrees[sequence[i]].mergeRating) < BigInt(subtrees[sequence[i - 1]].mergeRating)) return `ratings decrease at subtree ${i}`;
  }
  return null;
}

describe("nixery compat cases", () => {
  it("has the 96 recorded cases: 84 deterministic, 9 non-deterministic, 3 panics", () => {
    expect(cases.length).toBe(96);
    expect(cases.filter((c) => c.expected.deterministic === true).length).toBe(84);
    expect(cases.filter((c) => c.expected.deterministic === false).length).toBe(9);
    expect(cases.filter((c) => c.expected.error !== undefined).length).toBe(3);
    for (const c of cases) {
      for (const l of c.expected.layers ?? []) expect(Number.isSafeInteger(l.mergeRating)).toBe(true);
    }
  });

  const backends: BackendName[] = ["ts", "wasm"];
  const deterministic = cases.filter((c) => c.expected.deterministic === true);
  it.each(backends.flatMap((b) => deterministic.map((c) => [b, c.name, c] as const)))(
    "%s: deterministic %s: exact layers and manifest order",
    (backend, _name, c) => {
      const r = run(c, {}, backend);
      const e = c.expected;
      expect(r.detail.layers.map(asJson)).toEqual(e.layers!.map(expectedLayer));
      expect(manifestNames(r.detail.manifestOrder)).toEqual(e.manifest_order);
      expect(r.detail.subtrees.length).toBe(e.subtree_count);
      expect(r.detail.subtrees.map((s) => s.mergeRating)).toEqual(e.subtree_ratings!.map((x) => BigInt(x)));
      expect(r.detail.tiedRatings).toBe(false);
      // Bottom-first output = the manifest order.
      expect(r.layers).toEqual(r.detail.manifestOrder.map((i) => e.layers![i].contents));
      expect(r.layers.flat().length).toBe(e.covered_paths);
    },
  );

  const nondeterministic = cases.filter((c) => c.expected.deterministic === false);
  it.each(backends.flatMap((b) => nondeterministic.map((c) => [b, c.name, c] as const)))(
    "%s: non-deterministic %s: canonical and valid",
    (backend, _name, c) => {
      const r = run(c, {}, backend);
      const e = c.expected;
      const got = r.detail.layers.map(asJson);
      expect(got).toEqual(e.canonical_layers!.map(expectedLayer));
      expect(r.detail.subtrees.map(asJson)).toEqual(e.subtrees!.map(expectedLayer));
      expect(r.detail.tiedRatings).toBe(true);
      expect(
        isValidNixeryOutput(
          got.map((l) => ({ ...l, mergeRating: String(l.mergeRating) })),
          e.subtrees!,
          c.params.budget,
        ),
      ).toBeNull();
      // The one output the real code recorded passes the same rule (the checker can tell).
      expect(isValidNixeryOutput(e.layers!, e.subtrees!, c.params.budget)).toBeNull();
      expect(r.layers.flat().length).toBe(e.covered_paths);
    },
  );

  const panics = cases.filter((c) => c.expected.error !== undefined);
  it.each(panics.map((c) => [c.name, c] as const))("panic case %s is rejected with a clear error", (_name, c) => {
    let error: unknown;
    try {
      run(c);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StrataError);
    const message = (error as Error).message;
    if (c.name === "one-path-budget0") expect(message).toMatch(/budget must be a whole number >= 1/);
    else if (c.name === "error-root-not-in-graph") expect(message).toMatch(/root ".*" is not in the closure/);
    else expect(message).toMatch(/references ".*", which is not in the closure/);
  });

  it("the validity checker rejects outputs Nixery cannot produce", () => {
    const c = nondeterministic.find((x) => x.name === "equal-sizes-tworoots-budget2")!;
    const layers = c.expected.canonical_layers!;
    expect(isValidNixeryOutput([...layers].reverse(), c.expected.subtrees!, 2)).not.toBeNull();
    const badRating = layers.map((l, i) => (i === 0 ? { ...l, mergeRating: Number(l.mergeRating) + 1 } : l));
    expect(isValidNixeryOutput(badRating, c.expected.subtrees!, 2)).not.toBeNull();
    expect(isValidNixeryOutput(layers.slice(1), c.expected.subtrees!, 2)).not.toBeNull();
  });

  it("popcount over the graph reproduces the popularity maps of the synthetic cases", () => {
    const syn = cases.filter((c) => c.params.popularity_source === "popcount semantics over this graph itself");
    expect(syn.length).toBe(15);
    for (const c of syn) {
      const doc = readClosureDocument(c.input.graph, { requireNarSize: false });
      expect(Object.fromEntries(popcount(doc.entries))).toEqual(c.params.popularity);
    }
  });
});

describe("nixery: strata's defaults on the compat edge cases", () => {
  const byName = (name: string) => cases.find((c) => c.name === name)!;

  it("keeps unreachable paths by default, as extra roots, and says so", () => {
    const c = byName("unreachable-budget10");
    const r = run(c, { dropUnreachable: false });
    const all = r.layers.flat().sort();
    expect(all).toEqual(c.input.graph.map((e) => (e as { path: string }).path).sort());
    expect(r.detail.unreachable.length).toBeGreaterThan(0);
    expect(r.detail.attachedRoots.length).toBeGreaterThan(0);
    expect(r.detail.warnings.join("\n")).toMatch(/not reachable from the roots/);
    // Same as Nixery with the attached paths appended to the root list.
    const doc = readClosureDocument({ graph: c.input.graph, roots: [...c.input.roots, ...r.detail.attachedRoots] });
    const exact = nixeryLayers(doc, { budget: c.params.budget, popularity: c.params.popularity, dropUnreachable: true, kernels: "ts" });
    expect(r.detail.layers).toEqual(exact.detail.layers);
  });

  it("the popular unreachable case keeps the island too", () => {
    const c = byName("unreachable-popular-budget10");
    const r = run(c, { dropUnreachable: false });
    expect(r.layers.flat().length).toBe(c.input.graph.length);
  });

  it("strict mode fails on unreachable paths", () => {
    const c = byName("unreachable-budget10");
    expect(() => run(c, { dropUnreachable: false, strict: true })).toThrow(/not reachable from the roots/);
  });

  it("rejects duplicate paths by default, and keeps the last one in keep-last mode", () => {
    const c = byName("duplicate-path-budget10");
    expect(() => run(c, { duplicates: "reject" })).toThrow(/appears twice/);
    const r = run(c);
    expect(r.detail.duplicatesDropped).toBe(1);
    expect(r.detail.warnings.join("\n")).toMatch(/duplicate/);
  });
});
