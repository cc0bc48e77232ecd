// Pinned groups, heavy paths, and stable-first ordering.
import { describe, expect, it } from "vitest";
import { compileMatcher, parseGroupArgument, planWithGroups } from "../src/strategies/groups.js";
import { layerChangeProbabilities, orderStableFirst } from "../src/strategies/order.js";
import { evaluateSeries } from "../src/evaluate/evaluate.js";
import type { ClosureDocument, ClosureEntry } from "../src/graph/document.js";
import { UsageError } from "../src/errors.js";

const S = "/nix/store/";
const e = (name: string, narSize: number, references: string[] = []): ClosureEntry => ({
  path: S + "h" + name.length + "x-" + name,
  narSize,
  references: references.map((r) => S + "h" + r.length + "x-" + r),
});
const doc = (entries: ClosureEntry[]): ClosureDocument => ({ format: "references-graph", entries });
const p = (name: string) => S + "h" + name.length + "x-" + name;

// app -> python3 -> libc; app -> torch -> libc; app -> nvidia-cuda -> libc; app -> numpy -> python3
const image = doc([
  e("myapp-1.0", 10, ["python3-3.11.2", "torch-2.1", "nvidia-cuda-12", "numpy-1.26"]),
  e("python3-3.11.2", 50, ["libc-2.36"]),
  e("python3.11-minimal-3.11.2", 20, ["libc-2.36"]),
  e("numpy-1.26", 30, ["python3-3.11.2"]),
  e("torch-2.1", 900, ["libc-2.36"]),
  e("nvidia-cuda-12", 700, ["libc-2.36"]),
  e("libc-2.36", 40),
]);
/** A stand-in strategy for the rest: one layer with everything, in input order. */
const oneLayer = (rest: ClosureDocument, budget: number) => {
  expect(budget).toBeGreaterThan(0);
  return [rest.entries.map((x) => x.path)];
};

describe("matching", () => {
  it("matches globs with alternatives, anchored, against the name without hash", () => {
    const m = compileMatcher("torch*|nvidia-*");
    expect(m("torch-2.1")).toBe(true);
    expect(m("nvidia-cuda-12")).toBe(true);
    expect(m("pytorch-2.1")).toBe(false);
    expect(compileMatcher("python3*")("python3.11-minimal-3.11.2")).toBe(true);
    expect(compileMatcher("python3-?.*")("python3-3.11.2")).toBe(true);
    expect(compileMatcher("lib.c")("libxc")).toBe(false); // "." is literal in globs
  });

  it("matches regular expressions with re:", () => {
    const m = compileMatcher("re:^python3-\\d");
    expect(m("python3-3.11.2")).toBe(true);
    expect(m("python3.11-minimal-3.11.2")).toBe(false);
    expect(() => compileMatcher("re:(")).toThrow(UsageError);
  });

  it("parses the CLI form NAME=PATTERN[:each][:deps]", () => {
    expect(parseGroupArgument("heavy=torch*|nvidia-*:each")).toEqual({ name: "heavy", match: "torch*|nvidia-*", each: true, withDeps: false });
    expect(parseGroupArgument("py=re:^python3:deps:each")).toEqual({ name: "py", match: "re:^python3", each: true, withDeps: true });
    expect(() => parseGroupArgument("nopattern")).toThrow(/NAME=PATTERN/);
  });
});

describe("planWithGroups", () => {
  it("pins groups, one layer per member with :each, and leaves the rest to the strategy", () => {
    const r = planWithGroups(
      image,
      {
        budget: 5,
        groups: [
          { name: "interpreter", match: "python3*" },
          { name: "ml", match: "torch*|nvidia-*", each: true },
        ],
      },
      oneLayer,
    );
    expect(r.layers).toEqual([
      // group members in nixpkgs vertex order (narSize ascending)
      { paths: [p("python3.11-minimal-3.11.2"), p("python3-3.11.2")], group: "interpreter" },
      { paths: [p("nvidia-cuda-12")], group: "ml" },
      { paths: [p("torch-2.1")], group: "ml" },
      { paths: [p("myapp-1.0"), p("numpy-1.26"), p("libc-2.36")] },
    ]);
    // 5 - 1 - 2 = 2 layers left for the strategy.
    expect(r.restBudget).toBe(2);
    expect(r.warnings).toEqual([]);
  });

  it("gives an overlapping path to the first group and records both", () => {
    const r = planWithGroups(
      image,
      {
        budget: 9,
        groups: [
          { name: "a", match: "python3-*" },
          { name: "b", match: "python3*" },
        ],
      },
      oneLayer,
    );
    expect(r.layers[0]).toEqual({ paths: [p("python3-3.11.2")], group: "a" });
    expect(r.layers[1]).toEqual({ paths: [p("python3.11-minimal-3.11.2")], group: "b" });
    expect(r.assignments.get(p("python3-3.11.2"))).toEqual(["a", "b"]);
  });

  it("claims dependencies with :deps, except those an earlier group took", () => {
    const r = planWithGroups(
      image,
      {
        budget: 9,
        groups: [
          { name: "libc", match: "libc*" },
          { name: "np", match: "numpy*", withDeps: true },
        ],
      },
      oneLayer,
    );
    expect(r.layers[1]).toEqual({ paths: [p("numpy-1.26"), p("python3-3.11.2")], group: "np" });
  });

  it("puts every path above --heavy in its own layer, counted against the budget", () => {
    const r = planWithGroups(image, { budget: 3, heavyBytes: 100 }, oneLayer);
    expect(r.layers.slice(0, 2)).toEqual([
      { paths: [p("torch-2.1")], group: "heavy" },
      { paths: [p("nvidia-cuda-12")], group: "heavy" },
    ]);
    expect(r.restBudget).toBe(1);
    expect(r.layers.flatMap((l) => l.paths).sort()).toEqual(image.entries.map((x) => x.path).sort());
  });

  it("refuses groups that alone exhaust the budget", () => {
    expect(() => planWithGroups(image, { budget: 2, heavyBytes: 100 }, oneLayer)).toThrow(/alone need 2 layers.*leaves 0 for the other 5 paths/);
  });

  it("warns about a group that matches nothing, or fails with strict", () => {
    const r = planWithGroups(image, { budget: 5, groups: [{ name: "ghost", match: "nothing*" }] }, oneLayer);
    expect(r.warnings).toEqual(['group "ghost" (nothing*) matches no path of the closure']);
    expect(() => planWithGroups(image, { budget: 5, strict: true, groups: [{ name: "ghost", match: "nothing*" }] }, oneLayer)).toThrow(UsageError);
  });

  it("hands the strategy a closed sub-closure (no references to pinned paths)", () => {
    planWithGroups(image, { budget: 4, groups: [{ name: "py", match: "python3*" }] }, (rest) => {
      const paths = new Set(rest.entries.map((x) => x.path));
      for (const x of rest.entries) for (const r of x.references) expect(paths.has(r)).toBe(true);
      return [rest.entries.map((x) => x.path)];
    });
  });
});

describe("stable-first order", () => {
  // Sizes as weights, 1 change per update: app (closure = everything) is the
  // most likely to change, libc (closure = itself) the least.
  const layers = [
    [p("myapp-1.0")],
    [p("torch-2.1"), p("nvidia-cuda-12")],
    [p("libc-2.36")],
    [p("python3-3.11.2"), p("python3.11-minimal-3.11.2"), p("numpy-1.26")],
  ];

  it("computes each layer's change probability from its closure", () => {
    const probs = layerChangeProbabilities(image, layers, { changesPerUpdate: 1 });
    const W = 10 + 50 + 20 + 30 + 900 + 700 + 40;
    const P = (x: number) => 1 - Math.exp(-x / W);
    // python3.11-minimal is in no closure but its own: nothing references it.
    expect(probs[0]).toBeCloseTo(P(W - 20), 12);
    expect(probs[1]).toBeCloseTo(P(900 + 700 + 40), 12);
    expect(probs[2]).toBeCloseTo(P(40), 12);
    expect(probs[3]).toBeCloseTo(P(50 + 20 + 30 + 40), 12);
  });

  it("orders the least likely to change at the bottom", () => {
    expect(orderStableFirst(image, layers, { changesPerUpdate: 1 })).toEqual([layers[2], layers[3], layers[1], layers[0]]);
  });

  it("re-extracts less locally after an update when the volatile layer is on top", () => {
    // v1 changes only the app: with app at the bottom every layer gets a new chain ID.
    const v0 = image;
    const v1 = doc(image.entries.map((x) => (x.path === p("myapp-1.0") ? { ...x, path: p("myapp-1.1") } : x)));
    const swap = (ls: string[][]) => ls.map((l) => l.map((q) => (q === p("myapp-1.0") ? p("myapp-1.1") : q)));
    const plans = new Map<ClosureDocument, string[][]>([
      [v0, layers],
      [v1, swap(layers)],
    ]);
    const stable = orderStableFirst(image, layers, { changesPerUpdate: 1 });
    const stablePlans = new Map<ClosureDocument, string[][]>([
      [v0, stable],
      [v1, swap(stable)],
    ]);
    const ev = evaluateSeries(
      [
        { name: "v0", doc: v0 },
        { name: "v1", doc: v1 },
      ],
      [
        { name: "strategy order", plan: (d) => plans.get(d)! },
        { name: "stable-first", plan: (d) => stablePlans.get(d)! },
      ],
    );
    const [asIs, sf] = ev.strategies.map((s) => s.updates[0]);
    // Registry bytes are the same (only the app layer is new: 10 bytes)...
    expect(asIs.pulledBytes).toBe(10);
    expect(sf.pulledBytes).toBe(10);
    // ...but a local store re-extracts all 1750 bytes when the app is at the bottom, 10 when on top.
    expect(asIs.localBytes).toBe(1750);
    expect(sf.localBytes).toBe(10);
  });
});
