// Joint fleet planning (src/fleet/): the invariants as properties on random
// fleets (each image's plan partitions its closure, budgets hold, a shared
// layer is the same ordered path list everywhere, the same inputs give the
// same plans, existing layers are kept), a hand-checked example, the real
// Debian images, and the fleet evaluation checked against a separate count.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClosureDocument, ClosureEntry } from "../src/graph/document.js";
import { planFleet, fleetLayers, type FleetImage, type FleetPlan } from "../src/fleet/plan.js";
import { evaluateFleet, jointPlanner, perImagePlanner, type FleetRevision } from "../src/fleet/evaluate.js";
import { existingLayersOf, fleetDocument } from "../src/fleet/document.js";
import { strategyPlanner } from "../src/evaluate/planners.js";
import type { Layers } from "../src/strategies/types.js";
import { readClosureInput } from "../src/io/node.js";
import { envSeed } from "./helpers/fuzz.js";
import { mulberry32, randomDag } from "./helpers/random-dag.js";
import { sharedPath } from "./helpers/shared.js";

/** Fixed seed in `npm test`; STRATA_SEED replays another. */
const params = (numRuns: number) => ({ numRuns, seed: (envSeed() ?? 16016) | 0 });

const doc = (entries: ClosureEntry[]): ClosureDocument => ({ format: "references-graph", entries });

/**
 * A random package set (a Nix-like DAG) and images made of the closures of
 * random roots in it; `bump` renames some paths and, input-addressed, every
 * path that reaches them (a new revision of the package set).
 */
function randomFleet(seed: number, n: number, images: number, bump: ReadonlySet<number> = new Set()): FleetImage[] {
  const g = randomDag({ seed, n, avgRefs: 3 });
  const rnd = mulberry32(seed ^ 0xf1ee7);
  const size = Array.from({ length: n }, () => Math.floor(Math.exp(rnd() * 12)));
  // Changed = bumped or referencing a changed path (topological by creation: walk until stable).
  const changed = new Uint8Array(n);
  for (const b of bump) changed[b] = 1;
  for (let again = true; again;) {
    again = false;
    for (let v = 0; v < n; v++) {
      if (changed[v]) continue;
      for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++)
        if (changed[g.targets[e]]) {
          changed[v] = 1;
          again = true;
          break;
        }
    }
  }
  const name = (v: number) => `/nix/store/${String(v).padStart(6, "0")}${changed[v] ? "b" : "a"}-pkg${v}-1.0`;
  const entry = (v: number): ClosureEntry => ({
    path: name(v),
    narSize: size[v],
    references: Array.from(g.targets.subarray(g.offsets[v], g.offsets[v + 1]), name),
  });
  const out: FleetImage[] = [];
  for (let i = 0; i < images; i++) {
    const roots = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Math.floor(rnd() * n));
    const seen = new Set<number>();
    const stack = [...roots];
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      for (let e = g.offsets[v]; e < g.offsets[v + 1]; e++) stack.push(g.targets[e]);
    }
    out.push({ name: `img${i}`, doc: doc([...seen].sort((a, b) => a - b).map(entry)), budget: rnd() < 0.3 ? 1 + Math.floor(rnd() * 8) : undefined });
  }
  return out;
}

/** The invariants every fleet plan must meet, checked from the plan's path lists alone. */
function checkInvariants(images: readonly FleetImage[], plan: FleetPlan, defaultBudget: number): void {
  expect(plan.images.map((i) => i.name)).toEqual(images.map((i) => i.name));
  const sizes = new Map<string, number>();
  images.forEach((img, i) => {
    const own = new Set(img.doc.entries.map((e) => e.path));
    for (const e of img.doc.entries) sizes.set(e.path, e.narSize);
    const layers = plan.images[i].layers;
    // Partition of its own closure.
    const seen = new Set<string>();
    for (const l of layers) {
      expect(l.length).toBeGreaterThan(0);
      for (const p of l) {
        expect(own.has(p)).toBe(true);
        expect(seen.has(p)).toBe(false);
        seen.add(p);
      }
    }
    expect(seen.size).toBe(own.size);
    // Budget.
    expect(layers.length).toBeLessThanOrEqual(img.budget ?? defaultBudget);
    // Layer ids agree with the path lists.
    plan.images[i].layerIds.forEach((id, k) => expect(plan.layers[id].paths).toEqual(layers[k]));
  });
  // A shared layer is the same ordered list in each image: every image listed
  // by a layer has exactly that list, and no image has the same paths in another order.
  const byKey = new Map<string, Set<number>>();
  plan.images.forEach((img, i) => {
    for (const l of img.layers) {
      const key = l.join("\n");
      if (!byKey.has(key)) byKey.set(key, new Set());
      byKey.get(key)!.add(i);
    }
  });
  expect(byKey.size).toBe(plan.layers.length);
  const bySet = new Map<string, string>();
  for (const l of plan.layers) {
    expect(byKey.get(l.paths.join("\n"))).toEqual(new Set(l.images));
    const setKey = [...l.paths].sort().join("\n");
    expect(bySet.has(setKey)).toBe(false);
    bySet.set(setKey, l.paths.join("\n"));
  }
  // Registry bytes: the distinct layers, counted here from the path lists.
  let registry = 0;
  for (const key of byKey.keys()) for (const p of key.split("\n")) registry += sizes.get(p)!;
  expect(plan.summary.registryBytes).toBe(registry);
  let ideal = 0;
  for (const s of sizes.values()) ideal += s;
  expect(plan.summary.idealRegistryBytes).toBe(ideal);
  expect(plan.summary.registryBytes).toBeGreaterThanOrEqual(ideal);
}

describe("fleet planning: properties", () => {
  const fleetArb = fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    n: fc.integer({ min: 1, max: 70 }),
    images: fc.integer({ min: 1, max: 7 }),
    budget: fc.integer({ min: 1, max: 30 }),
  });

  it("each image's plan partitions its closure within its budget, shared layers are identical", () => {
    fc.assert(
      fc.property(fleetArb, ({ seed, n, images, budget }) => {
        const fleet = randomFleet(seed, n, images);
        checkInvariants(fleet, planFleet(fleet, { budget }), budget);
      }),
      params(150),
    );
  });

  it("the invariants hold on larger fleets with tight budgets (many merges and exchanges)", () => {
    const bigArb = fc.record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      n: fc.integer({ min: 100, max: 400 }),
      images: fc.integer({ min: 8, max: 30 }),
      budget: fc.integer({ min: 2, max: 14 }),
      updateWeight: fc.constantFrom(0, 1, 8),
    });
    fc.assert(
      fc.property(bigArb, ({ seed, n, images, budget, updateWeight }) => {
        const fleet = randomFleet(seed, n, images);
        checkInvariants(fleet, planFleet(fleet, { budget, updateWeight }), budget);
      }),
      params(25),
    );
  });

  it("the same inputs give the same plans (and the JSON document round-trips)", () => {
    fc.assert(
      fc.property(fleetArb, ({ seed, n, images, budget }) => {
        const a = planFleet(randomFleet(seed, n, images), { budget });
        const b = planFleet(randomFleet(seed, n, images), { budget });
        expect(JSON.stringify(fleetDocument(b))).toBe(JSON.stringify(fleetDocument(a)));
        expect(existingLayersOf(JSON.parse(JSON.stringify(fleetDocument(a))), "doc")).toEqual(fleetLayers(a));
      }),
      params(60),
    );
  });

  it("with room in the budget, every previous layer still valid is kept byte-identical (or displaced by a larger kept one)", () => {
    fc.assert(
      fc.property(fleetArb, fc.integer({ min: 0, max: 69 }), ({ seed, n, images }, bumped) => {
        const before = randomFleet(seed, n, images);
        const roomy = 200; // more than any closure has paths: nothing forces a merge
        const r0 = planFleet(
          before.map((i) => ({ ...i, budget: undefined })),
          { budget: roomy },
        );
        const after = randomFleet(seed, n, images, new Set([bumped % n])).map((i) => ({ ...i, budget: undefined }));
        const r1 = planFleet(after, { budget: roomy, existing: fleetLayers(r0) });
        checkInvariants(after, r1, roomy);
        const kept = new Set(r1.layers.filter((l) => l.existing).map((l) => l.paths.join("\n")));
        after.forEach((img, i) => {
          const own = new Set(img.doc.entries.map((e) => e.path));
          const mine = new Set(r1.images[i].layers.map((l) => l.join("\n")));
          const keptHere = r1.images[i].layers.filter((l) => kept.has(l.join("\n")));
          for (const l of r0.images[i].layers) {
            if (!l.every((p) => own.has(p))) continue;
            if (mine.has(l.join("\n"))) continue;
            // Not kept: a larger existing layer of this image took one of its paths.
            const displaced = keptHere.some((k) => k.some((p) => l.includes(p)));
            expect(displaced).toBe(true);
          }
        });
      }),
      params(80),
    );
  });
});

describe("fleet planning: worked example", () => {
  // Two images share libc (100) and ssl (10); a has app-a (50), b has app-b (60).
  const libc = { path: "/nix/store/aaaa-libc-1", narSize: 100, references: [] };
  const ssl = { path: "/nix/store/bbbb-ssl-1", narSize: 10, references: [libc.path] };
  const appA = { path: "/nix/store/cccc-app-a-1", narSize: 50, references: [ssl.path, libc.path] };
  const appB = { path: "/nix/store/dddd-app-b-1", narSize: 60, references: [ssl.path] };
  const a: FleetImage = { name: "a", doc: doc([libc, ssl, appA]) };
  const b: FleetImage = { name: "b", doc: doc([libc, ssl, appB]) };

  it("shares the common paths in one layer when each image has two layers", () => {
    const plan = planFleet([a, b], { budget: 2 });
    expect(plan.images[0].layers).toEqual([[ssl.path, libc.path], [appA.path]]);
    expect(plan.images[1].layers).toEqual([[ssl.path, libc.path], [appB.path]]);
    expect(plan.summary.registryBytes).toBe(220);
    expect(plan.summary.sharingCaptured).toBe(1);
  });

  it("with one layer each, nothing can be shared: every image is its own layer", () => {
    const plan = planFleet([a, b], { budget: 1 });
    expect(plan.images.map((i) => i.layers.length)).toEqual([1, 1]);
    expect(plan.summary.registryBytes).toBe(160 + 170);
    expect(plan.summary.duplicatedBytes).toBe(110);
    expect(plan.summary.imagesWithPrivateCopies).toBe(2);
  });

  it("a per-image budget: b may have one layer while a keeps the shared one", () => {
    const plan = planFleet([a, { ...b, budget: 1 }], { budget: 3 });
    expect(plan.images[1].layers).toHaveLength(1);
    checkInvariants([a, { ...b, budget: 1 }], plan, 3);
  });

  it("reuses an existing layer for every image that holds all its paths", () => {
    const plan = planFleet([a, b], { budget: 3, existing: [[libc.path, ssl.path], ["/nix/store/zzzz-gone-1"]] });
    expect(plan.summary.reusedLayers).toBe(1);
    expect(plan.summary.reusedBytes).toBe(110);
    expect(plan.summary.newBytes).toBe(110);
    for (const img of plan.images) expect(img.layers).toContainEqual([libc.path, ssl.path]);
  });

  it("rejects two images with one name and a budget below 1", () => {
    expect(() => planFleet([a, a])).toThrow(/two images are named "a"/);
    expect(() => planFleet([a], { budget: 0 })).toThrow(/at least 1/);
  });
});

const bookworm = (name: string) => sharedPath("data/debian-bookworm", `img-${name}.json.gz`);
const six = ["python-scipy", "postgresql", "openjdk17-maven", "libreoffice", "texlive-full", "gnome-desktop"];

describe("fleet planning: the six Debian images", () => {
  it("at 99 and 30 layers the registry holds each path once, and plans are valid", async () => {
    const images: FleetImage[] = [];
    for (const name of six) images.push({ name, doc: await readClosureInput(bookworm(name)) });
    for (const budget of [99, 30]) {
      const plan = planFleet(images, { budget });
      checkInvariants(images, plan, budget);
      // Within 2% of the ideal at either budget (issue 16's goal is at 100 layers).
      expect(plan.summary.registryBytes / plan.summary.idealRegistryBytes).toBeLessThan(1.02);
      // Registry bytes only: six images have at most 2^5 signatures each, so every
      // budget >= 32 shares everything; the default trades a little of it for updates.
      const registryOnly = planFleet(images, { budget, updateWeight: 0 });
      checkInvariants(images, registryOnly, budget);
      if (budget >= 32) expect(registryOnly.summary.duplicatedBytes).toBe(0);
      expect(registryOnly.summary.registryBytes).toBeLessThanOrEqual(plan.summary.registryBytes);
      expect(registryOnly.summary.expectedUpdateBytes).toBeGreaterThanOrEqual(plan.summary.expectedUpdateBytes);
    }
  });
});

describe("evaluateFleet", () => {
  /** Two revisions of a random fleet: a bump between them. */
  function revisions(seed: number): FleetRevision[] {
    const r0 = randomFleet(seed, 60, 4).map((i) => ({ name: i.name, doc: i.doc }));
    const r1 = randomFleet(seed, 60, 4, new Set([7, 30])).map((i) => ({ name: i.name, doc: i.doc }));
    const r2 = randomFleet(seed, 60, 4, new Set([7, 30, 45])).map((i) => ({ name: i.name, doc: i.doc }));
    return [
      { name: "r0", images: r0 },
      { name: "r1", images: r1 },
      { name: "r2", images: r2 },
    ];
  }

  it("its figures match a separate count over the plans", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const revs = revisions(seed);
      // Record the plans each planner makes, to recount them here.
      const recorded: Layers[][][] = [];
      const record = (p: ReturnType<typeof jointPlanner>, slot: number): ReturnType<typeof jointPlanner> => ({
        name: p.name,
        plan(images, previous) {
          const out = p.plan(images, previous);
          (recorded[slot] ??= []).push(out);
          return out;
        },
      });
      const planners = [
        record(jointPlanner({ budget: 6 }), 0),
        record(
          perImagePlanner("min-pull+previous", () => strategyPlanner("min-pull+previous", { budget: 6 })),
          1,
        ),
      ];
      const ev = evaluateFleet(revs, planners, { subset: ["img1", "img3"] });
      ev.strategies.forEach((s, slot) => {
        const plans = recorded[slot];
        const everKeys = new Set<string>();
        s.revisions.forEach((r, k) => {
          const size = new Map<string, number>();
          for (const img of revs[k].images) for (const e of img.doc.entries) size.set(e.path, e.narSize);
          const bytes = (keys: Iterable<string>) => {
            let b = 0;
            for (const key of keys) for (const p of JSON.parse(key) as string[]) b += size.get(p)!;
            return b;
          };
          const keysOf = (plan: string[][][], pick: (i: number) => boolean) =>
            new Set(plan.flatMap((layers, i) => (pick(i) ? layers.map((l) => JSON.stringify(l)) : [])));
          const now = keysOf(plans[k], () => true);
          expect(r.registryBytes).toBe(bytes(now));
          expect(r.newBytes).toBe(bytes([...now].filter((key) => !everKeys.has(key))));
          for (const key of now) everKeys.add(key);
          const prev = k > 0 ? keysOf(plans[k - 1], () => true) : new Set<string>();
          expect(r.nodeAllBytes).toBe(bytes([...now].filter((key) => !prev.has(key))));
          const sub = (i: number) => i === 1 || i === 3;
          const subNow = keysOf(plans[k], sub);
          const subPrev = k > 0 ? keysOf(plans[k - 1], sub) : new Set<string>();
          expect(r.nodeSubsetBytes).toBe(bytes([...subNow].filter((key) => !subPrev.has(key))));
          // The ideal: distinct paths, and the node's ideal the paths it did not hold.
          expect(r.idealRegistryBytes).toBe([...size.values()].reduce((x, y) => x + y, 0));
          const prevPaths = new Set(k > 0 ? revs[k - 1].images.flatMap((i) => i.doc.entries.map((e) => e.path)) : []);
          expect(r.idealNodeAllBytes).toBe([...size].filter(([p]) => !prevPaths.has(p)).reduce((x, [, b]) => x + b, 0));
          expect(r.nodeAllBytes).toBeGreaterThanOrEqual(r.idealNodeAllBytes);
          expect(r.registryBytes).toBeGreaterThanOrEqual(r.idealRegistryBytes);
          r.imagePulledBytes.forEach((pulled, i) => {
            const had = new Set(k > 0 ? plans[k - 1][i].map((l) => JSON.stringify(l)) : []);
            const expected = k === 0 ? 0 : plans[k][i].filter((l) => !had.has(JSON.stringify(l))).reduce((x, l) => x + bytes([JSON.stringify(l)]), 0);
            expect(pulled).toBe(expected);
            expect(pulled).toBeGreaterThanOrEqual(r.imageIdealBytes[i]);
          });
        });
      });
    }
  });

  it("rejects revisions with other images and an unknown subset image", () => {
    const revs = revisions(9);
    expect(() => evaluateFleet([revs[0], { name: "x", images: revs[1].images.slice(1) }], [jointPlanner()])).toThrow(/same images/);
    expect(() => evaluateFleet(revs, [jointPlanner()], { subset: ["nope"] })).toThrow(/not in the fleet/);
  });
});

describe("fleet planning: 1,000 images from the Debian archive", () => {
  it("at 15 layers every invariant holds (a regression: an exchange once lost paths here)", async () => {
    const archive = await readClosureInput(sharedPath("data/debian-bookworm/archive-all.json.gz"));
    const entries = archive.entries.filter((e) => !e.path.endsWith("-debian-archive-1"));
    const index = new Map(entries.map((e, i) => [e.path, i]));
    const rnd = mulberry32(16016);
    const picked = new Set<number>();
    while (picked.size < 1000) picked.add(Math.floor(rnd() * entries.length));
    const images: FleetImage[] = [...picked].map((root) => {
      const seen = new Set([root]);
      const stack = [root];
      while (stack.length > 0) {
        for (const r of entries[stack.pop()!].references) {
          const w = index.get(r);
          if (w !== undefined && !seen.has(w)) {
            seen.add(w);
            stack.push(w);
          }
        }
      }
      return { name: entries[root].path.slice(44), doc: doc([...seen].sort((x, y) => x - y).map((v) => entries[v])) };
    });
    const plan = planFleet(images, { budget: 15 });
    checkInvariants(images, plan, 15);
    expect(plan.summary.sharingCaptured).toBeGreaterThan(0.9);
  }, 180_000);
});
