// What fleet plans cost over revisions of a package set (issue 16): registry
// bytes, bytes new in the registry, bytes a node running every image (or a
// subset) pulls, and each image's own update cost, beside the ideal of one
// layer per path. Planners are the joint planner or any single-image
// strategy applied image by image, priced the same way.
//
// A layer's identity is its ordered path list (evaluate.ts). The registry of
// revision k holds the distinct layers of its images; a registry keeps old
// blobs, so "new" bytes are layers no earlier revision had. A node that ran
// the images at revision k-1 pulls the layers of revision k it did not hold.
import { layerBytes, layerKey, sizeTable, updateCost, type NamedClosure, type Planner } from "../evaluate/evaluate.js";
import type { Layers } from "../strategies/types.js";
import type { ClosureDocument } from "../graph/document.js";
import { planFleet, unionDocument, type FleetOptions } from "./plan.js";

export interface FleetRevision {
  readonly name: string;
  readonly images: readonly NamedClosure[];
}

/** Plans every image of a revision; sees its own plans of the previous revision. */
export interface FleetPlanner {
  readonly name: string;
  plan(images: readonly NamedClosure[], previous?: { readonly images: readonly NamedClosure[]; readonly plans: readonly Layers[] }): Layers[];
}

export interface FleetRevisionCost {
  readonly revision: string;
  readonly registryBytes: number;
  readonly idealRegistryBytes: number;
  /** Bytes of this revision's layers that no earlier revision had. */
  readonly newBytes: number;
  readonly idealNewBytes: number;
  /** A node running every image, updating from the previous revision (revision 0: from nothing). */
  readonly nodeAllBytes: number;
  readonly idealNodeAllBytes: number;
  /** The same for the subset (when one is given). */
  readonly nodeSubsetBytes?: number;
  readonly idealNodeSubsetBytes?: number;
  /** Per image: bytes pulled from its previous-revision plan (0 for revision 0). */
  readonly imagePulledBytes: readonly number[];
  readonly imageIdealBytes: readonly number[];
  readonly layerCounts: readonly number[];
}

export interface FleetStrategySeries {
  readonly strategy: string;
  readonly revisions: readonly FleetRevisionCost[];
  readonly total: {
    readonly registryBytes: number;
    readonly newBytes: number;
    readonly nodeAllBytes: number;
    readonly nodeSubsetBytes?: number;
    /** Per image: bytes pulled over all updates (revision 1 onwards). */
    readonly imagePulledBytes: readonly number[];
  };
}

export interface FleetEvaluation {
  readonly revisions: readonly string[];
  readonly images: readonly string[];
  readonly subset?: readonly string[];
  readonly strategies: readonly FleetStrategySeries[];
}

export interface FleetEvaluationOptions {
  /** Image names a node runs (besides "all"). */
  readonly subset?: readonly string[];
}

/** The joint planner; each revision is planned against the previous revision's layers. */
export function jointPlanner(options: FleetOptions = {}, name = "fleet"): FleetPlanner {
  // Earlier revisions, each as one package set: change rates learned from them, as min-pull+previous does.
  const history: ClosureDocument[] = [...(options.history ?? [])];
  return {
    name,
    plan(images, previous) {
      const existing = previous ? distinctLayers(previous.plans) : undefined;
      const plan = planFleet(
        images.map((i) => ({ name: i.name, doc: i.doc })),
        { ...options, history: [...history], existing: [...(options.existing ?? []), ...(existing ?? [])] },
      );
      history.push(unionDocument(images.map((i) => i.doc)));
      return plan.images.map((i) => i.layers);
    },
  };
}

/** A single-image planner applied to every image alone (a fresh planner per image, so history stays per image). */
export function perImagePlanner(name: string, make: () => Planner): FleetPlanner {
  const planners = new Map<string, Planner>();
  return {
    name,
    plan(images, previous) {
      return images.map((img) => {
        let p = planners.get(img.name);
        if (p === undefined) planners.set(img.name, (p = make()));
        const k = previous?.images.findIndex((x) => x.name === img.name) ?? -1;
        return p.plan(img.doc, previous && k >= 0 ? { doc: previous.images[k].doc, layers: previous.plans[k] } : undefined);
      });
    },
  };
}

function distinctLayers(plans: readonly Layers[]): Layers {
  const seen = new Set<string>();
  const out: Layers = [];
  for (const plan of plans) {
    for (const l of plan) {
      const key = layerKey(l);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(l);
      }
    }
  }
  return out;
}

export function evaluateFleet(revisions: readonly FleetRevision[], planners: readonly FleetPlanner[], options: FleetEvaluationOptions = {}): FleetEvaluation {
  if (revisions.length === 0) throw new RangeError("evaluateFleet: no revisions given");
  const names = revisions[0].images.map((i) => i.name);
  for (const r of revisions) {
    const these = r.images.map((i) => i.name);
    if (these.length !== names.length || these.some((n, k) => n !== names[k])) {
      throw new RangeError(
        `evaluateFleet: revision ${r.name} has images ${these.join(", ")}; expected ${names.join(", ")} (the same images in the same order)`,
      );
    }
  }
  const subset = options.subset;
  if (subset !== undefined) {
    for (const s of subset) if (!names.includes(s)) throw new RangeError(`evaluateFleet: subset image "${s}" is not in the fleet (${names.join(", ")})`);
  }
  const inSubset = names.map((n) => subset?.includes(n) ?? false);
  const sizes = revisions.map((r) => {
    const all = new Map<string, number>();
    for (const img of r.images) for (const [p, s] of sizeTable(img.doc)) all.set(p, s);
    return all;
  });
  // Ideal figures: one layer per path.
  const pathSets = revisions.map((r) => r.images.map((img) => new Set(img.doc.entries.map((e) => e.path))));
  const idealOf = (k: number, pick: (i: number) => boolean, minus?: Set<string>): number => {
    const seen = new Set<string>();
    let bytes = 0;
    pathSets[k].forEach((set, i) => {
      if (!pick(i)) return;
      for (const p of set) {
        if (seen.has(p) || minus?.has(p)) continue;
        seen.add(p);
        bytes += sizes[k].get(p)!;
      }
    });
    return bytes;
  };
  const unionPaths = (k: number, pick: (i: number) => boolean) => {
    const s = new Set<string>();
    pathSets[k].forEach((set, i) => {
      if (pick(i)) for (const p of set) s.add(p);
    });
    return s;
  };
  const everSeen: Set<string>[] = [];
  {
    const acc = new Set<string>();
    for (let k = 0; k < revisions.length; k++) {
      everSeen.push(new Set(acc));
      for (const set of pathSets[k]) for (const p of set) acc.add(p);
    }
  }

  const strategies = planners.map((planner): FleetStrategySeries => {
    const plans: Layers[][] = [];
    const registryEver = new Set<string>();
    const out: FleetRevisionCost[] = [];
    revisions.forEach((rev, k) => {
      const plan = planner.plan(rev.images, k === 0 ? undefined : { images: revisions[k - 1].images, plans: plans[k - 1] });
      plans.push(plan);
      const layerSet = (pick: (i: number) => boolean, p: Layers[]) => {
        const m = new Map<string, readonly string[]>();
        p.forEach((layers, i) => {
          if (pick(i)) for (const l of layers) m.set(layerKey(l), l);
        });
        return m;
      };
      const bytesOf = (m: Map<string, readonly string[]>, without?: Map<string, unknown> | Set<string>) => {
        let b = 0;
        for (const [key, l] of m) if (!without?.has(key)) b += layerBytes(l, sizes[k]);
        return b;
      };
      const all = () => true;
      const sub = (i: number) => inSubset[i];
      const now = layerSet(all, plan);
      const registryBytes = bytesOf(now);
      const newBytes = bytesOf(now, registryEver);
      for (const key of now.keys()) registryEver.add(key);
      const before = k > 0 ? layerSet(all, plans[k - 1]) : undefined;
      const nodeAllBytes = bytesOf(now, before);
      let nodeSubsetBytes: number | undefined;
      let idealNodeSubsetBytes: number | undefined;
      if (subset !== undefined) {
        nodeSubsetBytes = bytesOf(layerSet(sub, plan), k > 0 ? layerSet(sub, plans[k - 1]) : undefined);
        idealNodeSubsetBytes = idealOf(k, sub, k > 0 ? unionPaths(k - 1, sub) : undefined);
      }
      // Each image's own update from its previous-revision plan, priced as `strata evaluate` prices one.
      const imageCosts = plan.map((layers, i) =>
        k === 0 ? undefined : updateCost({ ...revisions[k - 1].images[i], layers: plans[k - 1][i] }, { ...rev.images[i], layers }, sizes[k]),
      );
      const imagePulledBytes = imageCosts.map((c) => c?.pulledBytes ?? 0);
      const imageIdealBytes = imageCosts.map((c) => c?.idealBytes ?? 0);
      out.push({
        revision: rev.name,
        registryBytes,
        idealRegistryBytes: idealOf(k, all),
        newBytes,
        idealNewBytes: idealOf(k, all, everSeen[k]),
        nodeAllBytes,
        idealNodeAllBytes: idealOf(k, all, k > 0 ? unionPaths(k - 1, all) : undefined),
        ...(subset !== undefined ? { nodeSubsetBytes, idealNodeSubsetBytes } : {}),
        imagePulledBytes,
        imageIdealBytes,
        layerCounts: plan.map((l) => l.length),
      });
    });
    const sum = (f: (r: FleetRevisionCost) => number) => out.reduce((a, r) => a + f(r), 0);
    return {
      strategy: planner.name,
      revisions: out,
      total: {
        registryBytes: sum((r) => r.registryBytes),
        newBytes: sum((r) => r.newBytes),
        nodeAllBytes: sum((r) => r.nodeAllBytes),
        ...(subset !== undefined ? { nodeSubsetBytes: sum((r) => r.nodeSubsetBytes ?? 0) } : {}),
        imagePulledBytes: names.map((_, i) => sum((r) => r.imagePulledBytes[i])),
      },
    };
  });
  return { revisions: revisions.map((r) => r.name), images: names, ...(subset !== undefined ? { subset } : {}), strategies };
}
