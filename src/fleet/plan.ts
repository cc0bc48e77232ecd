// Joint layer planning for a fleet of images (issue 16).
//
// Every image's layers must partition its own closure, fit its own budget, and
// a layer used by several images must be the same ordered path list in each
// (hence the same digest). The objective is, in this order:
//
//   1. registry bytes: the distinct layers, each stored once. One layer per
//      path gives the ideal (the union of the closures). A node running every
//      image pulls exactly the registry's layers, so this also prices the node.
//      Bytes above the ideal are paths that sit in two layers: an image that
//      could not afford its own layer for a shared group of paths got a copy
//      of them in another layer.
//   2. each image's own update cost, min-pull's model (docs/min-pull.md) with
//      the image's own weight: sum over its layers of size(L) * P(closure of
//      L changes), using the layers the budget leaves after (1), and trading a
//      little of (1) for it where a split saves more than a merge costs
//      (updateWeight).
//
// Method (docs/fleet.md):
//   A. Signatures. A path's signature is the set of images that contain it.
//      Paths with one signature form a class; one layer per class shares
//      everything with no copy at all. Paths of a single image go to that
//      image's private pool. Layers that already exist (a previous revision,
//      other builds) are claimed first, for every image that holds all their
//      paths, and stay byte-identical.
//   B. Budgets. While an image has more units than its budget, merge two
//      units. Merging A and B makes one new layer A∪B for the images that use
//      both (J = users(A) ∩ users(B)); A and B stay for their other users. Its
//      price is the registry bytes it adds (new bytes minus what is no longer
//      used) per over-budget image it helps; the cheapest merge goes first
//      (lazy greedy, re-priced when it surfaces). Candidates are pairs among
//      each over-budget image's smallest units, its private pool and units with
//      equal users.
//   C. Spare budget. Every new unit's best split into k layers (min-pull's
//      greedy agglomeration inside the unit, priced with its users' change
//      model) is known for every k; extra layers go to the unit whose users
//      gain most per layer, as long as every user has one to spare. A split
//      blocked by a full budget may buy its layer with a merge that costs
//      less than the split saves.
import { InputError, PipelineError } from "../errors.js";
import { Closure } from "../graph/closure.js";
import type { ClosureDocument } from "../graph/document.js";
import { buildChangeModel, exactClosureWeights, type ChangeModelOptions } from "../model/change.js";
import type { Layers } from "../strategies/types.js";
import { MinHeap } from "./heap.js";

/** Store-path layers an image gets when no budget is given (nixpkgs' maxLayers 100 minus the customisation layer). */
export const DEFAULT_FLEET_BUDGET = 99;
/** See FleetOptions.updateWeight. */
export const DEFAULT_UPDATE_WEIGHT = 1;

export interface FleetImage {
  readonly name: string;
  readonly doc: ClosureDocument;
  /** This image's store-path layer budget (default: the fleet's). */
  readonly budget?: number;
}

export interface FleetOptions extends ChangeModelOptions {
  /** Store-path layers per image unless the image sets its own (default 99). */
  readonly budget?: number;
  /**
   * Layers the registry already holds (a previous revision's plans, other
   * builds), each an ordered path list. A layer is reused, byte-identical, by
   * every image that holds all of its paths.
   */
  readonly existing?: readonly (readonly string[])[];
  /**
   * How much one byte of expected update cost (per update, summed over the
   * images using a layer) weighs against one registry byte when budgets force
   * merges (default 1). 0 = registry bytes only.
   */
  readonly updateWeight?: number;
  /** Most change sources tracked exactly while splitting (default 4096). */
  readonly maxSources?: number;
}

export interface FleetLayer {
  /** Index into FleetPlan.layers. */
  readonly id: number;
  /** Ordered paths: the layer's identity. */
  readonly paths: readonly string[];
  readonly bytes: number;
  /** Images (indices into FleetPlan.images) that use this layer. */
  readonly images: readonly number[];
  /** P(the layer changes in one update) under the change model. */
  readonly changeProbability: number;
  /** True when it is one of the existing layers, unchanged. */
  readonly existing: boolean;
}

export interface FleetImagePlan {
  readonly name: string;
  readonly budget: number;
  /** Layer ids, bottom first (least likely to change at the bottom). */
  readonly layerIds: readonly number[];
  /** The same layers as path lists (the format `strata layer` prints). */
  readonly layers: Layers;
  readonly paths: number;
  readonly bytes: number;
  /** Expected bytes pulled per update of this image alone, min-pull's model. */
  readonly expectedUpdateBytes: number;
  /** Bytes of this image that sit in a layer no other image uses although other images hold them too. */
  readonly privateCopyBytes: number;
}

export interface FleetSummary {
  readonly images: number;
  /** Distinct layers stored once. */
  readonly registryBytes: number;
  /** One layer per path: the union of the closures. */
  readonly idealRegistryBytes: number;
  /** Sum of the image sizes: a registry without any sharing. */
  readonly totalImageBytes: number;
  /** (total - registry) / (total - ideal): 1 = all possible sharing captured; null when nothing can be shared. */
  readonly sharingCaptured: number | null;
  /** registry - ideal: bytes stored twice or more. */
  readonly duplicatedBytes: number;
  /** Images with a private copy of a path that other images hold too. */
  readonly imagesWithPrivateCopies: number;
  readonly distinctLayers: number;
  readonly sharedLayers: number;
  /** Bytes of layers that are not among the existing ones: what a push adds to the registry. */
  readonly newBytes: number;
  readonly reusedLayers: number;
  readonly reusedBytes: number;
  /** Registry bytes + bytes a node running every image pulls (the same layers). */
  readonly objectiveBytes: number;
  /** Sum over images of the expected bytes pulled per update. */
  readonly expectedUpdateBytes: number;
}

export interface FleetPlan {
  readonly layers: readonly FleetLayer[];
  readonly images: readonly FleetImagePlan[];
  readonly summary: FleetSummary;
}

/** The union of the closures as one graph, with each image's vertices. */
interface Union {
  readonly paths: string[];
  readonly size: Float64Array;
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
  /** Dependencies last: referrers first (any topological order). */
  readonly topo: Uint32Array;
  readonly members: Uint32Array[];
  readonly closures: Closure[];
}

function buildUnion(images: readonly FleetImage[]): Union {
  const index = new Map<string, number>();
  const paths: string[] = [];
  const sizes: number[] = [];
  const refs: (readonly string[])[] = [];
  const members: Uint32Array[] = [];
  const closures: Closure[] = [];
  for (const img of images) {
    const closure = Closure.fromDocument(img.doc);
    closures.push(closure);
    const ids = new Uint32Array(closure.n);
    for (let v = 0; v < closure.n; v++) {
      const p = closure.paths[v];
      let id = index.get(p);
      if (id === undefined) {
        id = paths.length;
        index.set(p, id);
        paths.push(p);
        sizes.push(closure.narSize[v]);
        refs.push(Array.from(closure.references(v), (t) => closure.paths[t]));
      } else if (sizes[id] !== closure.narSize[v]) {
        throw new InputError("bad-entry", `fleet: "${p}" has narSize ${closure.narSize[v]} in image ${img.name} but ${sizes[id]} in another image`, p);
      }
      ids[v] = id;
    }
    members.push(ids);
  }
  const n = paths.length;
  const offsets = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) offsets[v + 1] = offsets[v] + refs[v].filter((r) => r !== paths[v]).length;
  const targets = new Uint32Array(offsets[n]);
  for (let v = 0, k = 0; v < n; v++) for (const r of refs[v]) if (r !== paths[v]) targets[k++] = index.get(r)!;
  // Kahn's algorithm over the referrer -> reference edges: referrers first.
  const indeg = new Uint32Array(n);
  for (let e = 0; e < targets.length; e++) indeg[targets[e]]++;
  const topo = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  for (let v = 0; v < n; v++) if (indeg[v] === 0) topo[tail++] = v;
  while (head < tail) {
    const v = topo[head++];
    for (let e = offsets[v]; e < offsets[v + 1]; e++) if (--indeg[targets[e]] === 0) topo[tail++] = targets[e];
  }
  // Each image's closure is acyclic (Closure checked it) and the union has the same edges.
  return { paths, size: Float64Array.from(sizes), offsets, targets, topo, members, closures };
}

/** Sorted intersection of two sorted id lists. */
function intersect(a: Int32Array, b: Int32Array): Int32Array {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]);
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return Int32Array.from(out);
}

function minus(a: Int32Array, b: Int32Array): Int32Array {
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    while (j < b.length && b[j] < a[i]) j++;
    if (j < b.length && b[j] === a[i]) continue;
    out.push(a[i]);
  }
  return Int32Array.from(out);
}

export function planFleet(images: readonly FleetImage[], options: FleetOptions = {}): FleetPlan {
  const defaultBudget = options.budget ?? DEFAULT_FLEET_BUDGET;
  const names = new Set<string>();
  const budgets = images.map((img) => {
    if (names.has(img.name)) throw new PipelineError("bad-option", `fleet: two images are named "${img.name}"`);
    names.add(img.name);
    const b = img.budget ?? defaultBudget;
    if (!Number.isInteger(b) || b < 1)
      throw new PipelineError("bad-budget", `fleet: the layer budget of ${img.name} must be a whole number of at least 1, got ${b}`);
    return b;
  });
  const union = buildUnion(images);
  const N = images.length;
  const n = union.paths.length;

  // --- the change model: min-pull's, per image ----------------------------------
  // Image i sees changesPerUpdate own changes per update spread over its own
  // weight W_i, exactly as min-pull alone would price it; a layer shared by
  // several images is priced with the mean W of its users.
  const model = buildChangeModel(union.paths, union.size, options);
  const w = model.weights;
  const imageWeight = union.members.map((m) => {
    let sum = 0;
    for (const v of m) sum += w[v];
    return sum;
  });
  const probabilityFor = (W: number) => {
    const scale = W > 0 ? model.changesPerUpdate / W : 0;
    return (weight: number) => -Math.expm1(-weight * scale);
  };
  const meanWeight = (users: ArrayLike<number>) => {
    let sum = 0;
    for (let k = 0; k < users.length; k++) sum += imageWeight[users[k]];
    return users.length > 0 ? sum / users.length : 0;
  };

  // --- units: ordered or unordered path groups with their users ------------------
  const uPaths: number[][] = [];
  const uBytes: number[] = [];
  const uUsers: Int32Array[] = [];
  const uFrozen: boolean[] = [];
  const uAlive: boolean[] = [];
  const uStamp: number[] = [];
  const imageUnits: Set<number>[] = Array.from({ length: N }, () => new Set<number>());
  const pool = new Int32Array(N).fill(-1);
  const newUnit = (paths: number[], users: Int32Array, frozen: boolean): number => {
    const id = uPaths.length;
    let bytes = 0;
    for (const v of paths) bytes += union.size[v];
    uPaths.push(paths);
    uBytes.push(bytes);
    uUsers.push(users);
    uFrozen.push(frozen);
    uAlive.push(true);
    uStamp.push(0);
    for (const i of users) imageUnits[i].add(id);
    return id;
  };

  // A. existing layers first (largest first), then signature classes.
  // Per image: its paths and the ones an existing layer already covers (only built when there are existing layers).
  const hasExisting = (options.existing ?? []).length > 0;
  const inImage: Set<number>[] = hasExisting ? union.members.map((m) => new Set(m)) : [];
  const claimed: Set<number>[] = hasExisting ? union.members.map(() => new Set<number>()) : [];
  const holders: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < N; i++) for (const v of union.members[i]) holders[v].push(i);
  const pathIndex = new Map<string, number>();
  union.paths.forEach((p, v) => pathIndex.set(p, v));
  const existing = (options.existing ?? [])
    .map((layer, order) => ({ layer, order, vertices: layer.map((p) => pathIndex.get(p)) }))
    .filter((x) => x.layer.length > 0 && x.vertices.every((v) => v !== undefined) && new Set(x.layer).size === x.layer.length)
    .map((x) => {
      let bytes = 0;
      for (const v of x.vertices) bytes += union.size[v!];
      return { ...x, vertices: x.vertices as number[], bytes };
    })
    .sort((a, b) => b.bytes - a.bytes || a.order - b.order);
  const seenExisting = new Set<string>();
  for (const x of existing) {
    const key = x.layer.join("\n");
    if (seenExisting.has(key)) continue;
    seenExisting.add(key);
    const users: number[] = [];
    for (const i of holders[x.vertices[0]]) {
      if (x.vertices.every((v) => inImage[i].has(v) && !claimed[i].has(v))) users.push(i);
    }
    if (users.length === 0) continue;
    for (const i of users) for (const v of x.vertices) claimed[i].add(v);
    newUnit(x.vertices.slice(), Int32Array.from(users), true);
  }
  const need: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < N; i++) for (const v of union.members[i]) if (!hasExisting || !claimed[i].has(v)) need[v].push(i);
  const classOf = new Map<string, number[]>();
  for (let v = 0; v < n; v++) {
    if (need[v].length === 0) continue;
    const key = need[v].join(",");
    const list = classOf.get(key);
    if (list === undefined) classOf.set(key, [v]);
    else list.push(v);
  }
  for (const list of classOf.values()) {
    const users = Int32Array.from(need[list[0]]);
    if (users.length === 1 && pool[users[0]] >= 0) {
      absorb(pool[users[0]], list);
    } else {
      const id = newUnit(list, users, false);
      if (users.length === 1) pool[users[0]] = id;
    }
  }
  /** Adds paths to a non-frozen unit in place. */
  function absorb(u: number, list: readonly number[]): void {
    for (const v of list) {
      uPaths[u].push(v);
      uBytes[u] += union.size[v];
    }
    uFrozen[u] = false;
    uStamp[u]++;
  }
  /** Kills unit b, whose users equal a's, merging its paths into a. */
  function mergeEqual(a: number, b: number): void {
    absorb(a, uPaths[b]);
    uAlive[b] = false;
    uStamp[b]++;
    for (const i of uUsers[b]) imageUnits[i].delete(b);
    if (uUsers[a].length === 1 && pool[uUsers[a][0]] === b) pool[uUsers[a][0]] = a;
  }
  /** A unit whose only user is j joins j's private pool (free: no one else uses it). */
  function settlePrivate(u: number): void {
    if (!settling || !uAlive[u] || uUsers[u].length !== 1 || uFrozen[u]) return;
    const j = uUsers[u][0];
    const p = pool[j];
    if (p === u) return;
    if (p >= 0 && uAlive[p] && !uFrozen[p]) mergeEqual(p, u);
    else pool[j] = u;
  }

  // B. fit every budget.
  const splitter = new Splitter(union, w, options.maxSources);
  // Closure weight of each unit (its paths and everything they reference), cached per stamp.
  const weightCache = new Map<number, { stamp: number; weight: number }>();
  const unitWeight = (u: number): number => {
    const c = weightCache.get(u);
    if (c !== undefined && c.stamp === uStamp[u]) return c.weight;
    const weight = splitter.closureWeight(uPaths[u]);
    weightCache.set(u, { stamp: uStamp[u], weight });
    return weight;
  };
  const lambda = options.updateWeight ?? DEFAULT_UPDATE_WEIGHT;
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new PipelineError("bad-option", `fleet: updateWeight must be a number of 0 or more, got ${lambda}`);
  let settling = true;
  const over = (i: number) => imageUnits[i].size > budgets[i];
  const cost = (u: number) => (uFrozen[u] ? 0 : uBytes[u]);
  const price = (a: number, b: number): number => {
    const ua = uUsers[a];
    const ub = uUsers[b];
    const J = intersect(ua, ub);
    let benefit = 0;
    for (const i of J) if (over(i)) benefit++;
    if (benefit === 0) return Infinity;
    let delta = uBytes[a] + uBytes[b];
    if (J.length === ua.length) delta -= cost(a);
    if (J.length === ub.length) delta -= cost(b);
    // Ties go to the smaller merged layer (less to pull when it changes).
    return delta / benefit + (uBytes[a] + uBytes[b]) * 1e-12;
  };
  const mergeUnits = (a: number, b: number): void => {
    const ua = uUsers[a];
    const ub = uUsers[b];
    const J = intersect(ua, ub);
    if (J.length === ua.length && J.length === ub.length && !uFrozen[a] && !uFrozen[b]) {
      mergeEqual(a, b);
      return;
    }
    const m = newUnit([...uPaths[a], ...uPaths[b]], J, false);
    for (const u of [a, b]) {
      const rest = minus(uUsers[u], J);
      for (const i of J) imageUnits[i].delete(u);
      uUsers[u] = rest;
      uStamp[u]++;
      if (rest.length === 0) uAlive[u] = false;
      for (const i of J) if (pool[i] === u) pool[i] = -1;
    }
    for (const u of [a, b]) settlePrivate(u);
    if (J.length === 1 && settling) {
      const j = J[0];
      const p = pool[j];
      if (p >= 0 && p !== m && uAlive[p] && !uFrozen[p]) mergeEqual(p, m);
      else pool[j] = m;
    }
  };
  // Users keys, cached per unit until its stamp moves (user lists can hold every image).
  const keyCache = new Map<number, { stamp: number; key: string }>();
  const usersKey = (u: number): string => {
    const c = keyCache.get(u);
    if (c !== undefined && c.stamp === uStamp[u]) return c.key;
    const key = uUsers[u].join(",");
    keyCache.set(u, { stamp: uStamp[u], key });
    return key;
  };
  const SMALLEST = 12;
  for (let round = 0; ; round++) {
    const overImages: number[] = [];
    for (let i = 0; i < N; i++) if (over(i)) overImages.push(i);
    if (overImages.length === 0) break;
    const heap = new MinHeap();
    const offered = new Set<string>();
    const offer = (a: number, b: number) => {
      if (a === b) return;
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      if (offered.has(key)) return;
      offered.add(key);
      const k = price(a, b);
      if (k !== Infinity) heap.push(k, a, b);
    };
    for (const i of overImages) {
      const units = [...imageUnits[i]].sort((x, y) => uBytes[x] - uBytes[y] || x - y);
      const small = units.slice(0, SMALLEST);
      if (pool[i] >= 0 && !small.includes(pool[i])) small.push(pool[i]);
      for (let x = 0; x < small.length; x++) for (let y = x + 1; y < small.length; y++) offer(small[x], small[y]);
      const byUsers = new Map<string, number>();
      for (const u of units) {
        if (uFrozen[u]) continue;
        const key = usersKey(u);
        const first = byUsers.get(key);
        if (first === undefined) byUsers.set(key, u);
        else offer(first, u);
      }
    }
    let merged = 0;
    const top = { key: 0, a: 0, b: 0 };
    while (heap.size > 0) {
      heap.pop(top);
      const { a, b } = top;
      if (!uAlive[a] || !uAlive[b]) continue;
      const k = price(a, b);
      if (k === Infinity) continue;
      if (k > top.key * (1 + 1e-9) + 1e-9 && heap.size > 0 && k > heap.peekKey()) {
        heap.push(k, a, b);
        continue;
      }
      mergeUnits(a, b);
      merged++;
    }
    if (merged === 0) throw new Error("fleet: no merge possible while an image is over its budget (a strata bug; please report it)");
    if (round > 4 * n + 16) throw new Error("fleet: budget fitting did not converge (a strata bug; please report it)");
  }

  // C. spare budget: split new units where their users gain most. When a
  // split of an image's private unit is blocked by its budget, a merge of two
  // of its unsplit units may buy the layer: taken when the split saves more
  // expected update bytes than the merge costs (registry bytes + updateWeight
  // x the update bytes it adds).
  settling = false;
  const spare = budgets.map((b, i) => b - imageUnits[i].size);
  const splits = new Map<number, Dendrogram>();
  const parts = new Map<number, number>();
  const gains = new MinHeap();
  const pushGain = (u: number) => {
    const d = splits.get(u);
    if (d === undefined || !uAlive[u]) return;
    const k = parts.get(u)!;
    if (k >= d.costs.length) return;
    const gain = (d.costs[k - 1] - d.costs[k]) * uUsers[u].length;
    if (gain > 0) gains.push(-gain, u, k);
  };
  for (let u = 0; u < uPaths.length; u++) {
    if (!uAlive[u]) continue;
    parts.set(u, 1);
    if (uFrozen[u] || uPaths[u].length < 2) continue;
    let room = Infinity;
    for (const i of uUsers[u]) room = Math.min(room, spare[i]);
    if (room < 1 && !(lambda > 0)) continue;
    splits.set(u, splitter.dendrogram(uPaths[u], probabilityFor(meanWeight(uUsers[u]))));
    pushGain(u);
  }
  const exchangePrice = (a: number, b: number): number => {
    const J = intersect(uUsers[a], uUsers[b]);
    let delta = uBytes[a] + uBytes[b];
    if (J.length === uUsers[a].length) delta -= cost(a);
    if (J.length === uUsers[b].length) delta -= cost(b);
    const wm = splitter.closureWeight(uPaths[a], uPaths[b]);
    const P = probabilityFor(meanWeight(J));
    return delta + lambda * J.length * ((uBytes[a] + uBytes[b]) * P(wm) - uBytes[a] * P(unitWeight(a)) - uBytes[b] * P(unitWeight(b)));
  };
  /** The cheapest merge of two unsplit units of image i other than `keep`: [price, a, b]. */
  const cheapestMerge = (i: number, keep: number, need: readonly number[]): [number, number, number] => {
    const units = [...imageUnits[i]].filter((u) => u !== keep && parts.get(u) === 1).sort((x, y) => uBytes[x] - uBytes[y] || x - y);
    const pairs = new Set<string>();
    const small = units.slice(0, SMALLEST);
    const byWeight = units.slice().sort((x, y) => unitWeight(x) - unitWeight(y) || x - y);
    let best: [number, number, number] = [Infinity, -1, -1];
    const consider = (a: number, b: number) => {
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      if (pairs.has(key)) return;
      pairs.add(key);
      if (need.length > 1) {
        const J = intersect(uUsers[a], uUsers[b]);
        if (intersect(J, Int32Array.from(need)).length !== need.length) return;
      }
      const price = exchangePrice(a, b);
      if (price < best[0]) best = [price, a, b];
    };
    for (let x = 0; x < small.length; x++) for (let y = x + 1; y < small.length; y++) consider(small[x], small[y]);
    for (let k = 1; k < byWeight.length; k++) consider(byWeight[k - 1], byWeight[k]);
    return best;
  };
  const top = { key: 0, a: 0, b: 0 };
  while (gains.size > 0) {
    gains.pop(top);
    const u = top.a;
    if (!uAlive[u] || parts.get(u) !== top.b || !splits.has(u)) continue;
    const blocked = Array.from(uUsers[u]).filter((i) => spare[i] < 1);
    if (blocked.length > 0) {
      if (!(lambda > 0)) continue;
      // One merge must free a layer for every blocked user.
      const [price, a, b] = cheapestMerge(blocked[0], u, blocked);
      if (a < 0 || !(price < -top.key * lambda)) continue;
      const before = uPaths.length;
      const users = intersect(uUsers[a], uUsers[b]);
      mergeUnits(a, b);
      // A unit that absorbed the other has new paths: its split sequence is stale.
      splits.delete(a);
      splits.delete(b);
      for (let m = before; m < uPaths.length; m++) parts.set(m, 1);
      for (const j of users) {
        spare[j]++;
        if (!blocked.includes(j) && pool[j] >= 0) pushGain(pool[j]);
      }
    }
    for (const i of uUsers[u]) spare[i]--;
    parts.set(u, top.b + 1);
    pushGain(u);
  }
  // Layers still spare after every split the model values: spend them too, as
  // min-pull alone does (it merges only down to the budget), largest units
  // first; the model cannot tell apart paths it sees changing together (a
  // tiny top-level path and the package under it), real updates often can.
  const leftovers = new MinHeap();
  for (const [u, d] of splits) if (uAlive[u] && parts.get(u)! < d.costs.length) leftovers.push(-uBytes[u] / (parts.get(u)! + 1), u, parts.get(u)!);
  while (leftovers.size > 0) {
    leftovers.pop(top);
    const u = top.a;
    const d = splits.get(u);
    if (d === undefined || !uAlive[u] || parts.get(u) !== top.b || top.b >= d.costs.length) continue;
    if (!uUsers[u].every((i) => spare[i] >= 1)) continue;
    for (const i of uUsers[u]) spare[i]--;
    parts.set(u, top.b + 1);
    if (top.b + 1 < d.costs.length) leftovers.push(-uBytes[u] / (top.b + 2), u, top.b + 1);
  }
  const alive: number[] = [];
  for (let u = 0; u < uPaths.length; u++) if (uAlive[u]) alive.push(u);

  // --- layers ----------------------------------------------------------------------
  const order = (a: number, b: number) => union.size[a] - union.size[b] || (union.paths[a] < union.paths[b] ? -1 : union.paths[a] > union.paths[b] ? 1 : 0);
  const rawLayers: { vertices: number[]; users: Int32Array; existing: boolean }[] = [];
  for (const u of alive) {
    const k = parts.get(u)!;
    if (uFrozen[u]) rawLayers.push({ vertices: uPaths[u], users: uUsers[u], existing: true });
    else if (k <= 1) rawLayers.push({ vertices: uPaths[u].slice().sort(order), users: uUsers[u], existing: false });
    else for (const g of splits.get(u)!.groups(k)) rawLayers.push({ vertices: g.sort(order), users: uUsers[u], existing: false });
  }
  // Two units can end with the same paths for different images (the same merge made twice, or a
  // class equal to an existing layer): one layer, its users joined (an existing order wins).
  {
    const bySet = new Map<string, number>();
    const merged: typeof rawLayers = [];
    for (const l of rawLayers) {
      const key = l.vertices
        .slice()
        .sort((a, b) => a - b)
        .join(",");
      const k = bySet.get(key);
      if (k === undefined) {
        bySet.set(key, merged.length);
        merged.push({ ...l });
        continue;
      }
      const m = merged[k];
      const users = Int32Array.from([...m.users, ...l.users]).sort();
      merged[k] = m.existing || !l.existing ? { vertices: m.vertices, users, existing: m.existing } : { vertices: l.vertices, users, existing: true };
    }
    rawLayers.length = 0;
    rawLayers.push(...merged);
  }
  // Deterministic ids: by first path of the layer (a path starts at most one layer per image, and
  // two layers with the same first path have disjoint users), then by first user.
  rawLayers.sort((x, y) => order(x.vertices[0], y.vertices[0]) || x.users[0] - y.users[0]);
  const rawBytes = rawLayers.map((l) => l.vertices.reduce((a, v) => a + union.size[v], 0));
  const perImage: number[][] = Array.from({ length: N }, () => []);
  rawLayers.forEach((l, id) => {
    for (const i of l.users) perImage[i].push(id);
  });
  const probability = new Float64Array(rawLayers.length);
  const privateCopy = new Float64Array(N);
  const imagePlans: FleetImagePlan[] = images.map((img, i) => {
    const closure = union.closures[i];
    const ids = perImage[i];
    const local = new Map<number, number>();
    union.members[i].forEach((g, v) => local.set(g, v));
    const layerOf = new Int32Array(closure.n).fill(-1);
    ids.forEach((id, k) => {
      for (const g of rawLayers[id].vertices) {
        const v = local.get(g)!;
        if (layerOf[v] !== -1) throw new Error(`fleet: ${union.paths[g]} is in two layers of ${img.name} (a strata bug; please report it)`);
        layerOf[v] = k;
      }
    });
    const localW = new Float64Array(closure.n);
    for (let v = 0; v < closure.n; v++) {
      if (layerOf[v] === -1) throw new Error(`fleet: ${closure.paths[v]} is in no layer of ${img.name} (a strata bug; please report it)`);
      localW[v] = w[union.members[i][v]];
    }
    const cw = exactClosureWeights(closure, closure.topo, localW, layerOf, ids.length);
    const P = probabilityFor(imageWeight[i]);
    let expected = 0;
    let bytes = 0;
    const own = new Map<number, number>();
    ids.forEach((id, k) => {
      const l = rawLayers[id];
      own.set(id, P(cw[k]));
      probability[id] = probabilityFor(meanWeight(l.users))(cw[k]);
      let b = 0;
      for (const v of l.vertices) b += union.size[v];
      bytes += b;
      expected += b * own.get(id)!;
      if (l.users.length === 1) for (const v of l.vertices) if (holders[v].length > 1) privateCopy[i] += union.size[v];
    });
    const sorted = ids.slice().sort((x, y) => own.get(x)! - own.get(y)! || rawBytes[y] - rawBytes[x] || x - y);
    return {
      name: img.name,
      budget: budgets[i],
      layerIds: sorted,
      layers: sorted.map((id) => rawLayers[id].vertices.map((v) => union.paths[v])),
      paths: closure.n,
      bytes,
      expectedUpdateBytes: expected,
      privateCopyBytes: privateCopy[i],
    };
  });
  const layers: FleetLayer[] = rawLayers.map((l, id) => {
    let bytes = 0;
    for (const v of l.vertices) bytes += union.size[v];
    return { id, paths: l.vertices.map((v) => union.paths[v]), bytes, images: Array.from(l.users), changeProbability: probability[id], existing: l.existing };
  });
  return { layers, images: imagePlans, summary: summarize(layers, imagePlans, union) };
}

function summarize(layers: readonly FleetLayer[], images: readonly FleetImagePlan[], union: Union): FleetSummary {
  let registry = 0;
  let shared = 0;
  let newBytes = 0;
  let reusedLayers = 0;
  let reusedBytes = 0;
  for (const l of layers) {
    registry += l.bytes;
    if (l.images.length > 1) shared++;
    if (l.existing) {
      reusedLayers++;
      reusedBytes += l.bytes;
    } else newBytes += l.bytes;
  }
  let ideal = 0;
  for (let v = 0; v < union.paths.length; v++) ideal += union.size[v];
  let total = 0;
  let expected = 0;
  let withCopies = 0;
  for (const img of images) {
    total += img.bytes;
    expected += img.expectedUpdateBytes;
    if (img.privateCopyBytes > 0) withCopies++;
  }
  return {
    images: images.length,
    registryBytes: registry,
    idealRegistryBytes: ideal,
    totalImageBytes: total,
    sharingCaptured: total > ideal ? (total - registry) / (total - ideal) : null,
    duplicatedBytes: registry - ideal,
    imagesWithPrivateCopies: withCopies,
    distinctLayers: layers.length,
    sharedLayers: shared,
    newBytes,
    reusedLayers,
    reusedBytes,
    objectiveBytes: 2 * registry,
    expectedUpdateBytes: expected,
  };
}

/** A unit's greedy merge sequence: its best split into k layers for every k. */
interface Dendrogram {
  /** costs[k - 1]: expected bytes pulled per update with k layers. */
  readonly costs: number[];
  groups(k: number): number[][];
}

/**
 * Splits a unit into layers with min-pull's objective: each path starts alone,
 * the cheapest merge (the one raising size x P(closure changes) least) goes
 * first. Closures are bitsets over the heaviest paths of the fleet, as in
 * min-pull's planner.
 */
class Splitter {
  private readonly words: number;
  private readonly bits: Uint32Array;
  private readonly table: Float64Array;
  private readonly scratch: Uint32Array;
  constructor(
    private readonly union: Union,
    w: Float64Array,
    maxSources = 4096,
  ) {
    const n = union.paths.length;
    const all = Array.from({ length: n }, (_, i) => i);
    const sources = n <= maxSources ? all : all.sort((x, y) => w[y] - w[x] || x - y).slice(0, maxSources);
    const S = sources.length;
    const words = (this.words = Math.max(1, (S + 31) >>> 5));
    const bitOf = new Int32Array(n).fill(-1);
    sources.forEach((v, i) => (bitOf[v] = i));
    const bits = (this.bits = new Uint32Array(n * words));
    for (let t = n - 1; t >= 0; t--) {
      const v = union.topo[t];
      const r = v * words;
      if (bitOf[v] >= 0) bits[r + (bitOf[v] >>> 5)] |= 1 << (bitOf[v] & 31);
      for (let e = union.offsets[v]; e < union.offsets[v + 1]; e++) {
        const c = union.targets[e] * words;
        for (let k = 0; k < words; k++) bits[r + k] |= bits[c + k];
      }
    }
    this.scratch = new Uint32Array(words);
    const table = (this.table = new Float64Array(words * 4 * 256));
    for (let j = 0; j < words * 4; j++) {
      for (let b = 0; b < 8; b++) {
        const s = j * 8 + b;
        if (s >= S) break;
        const ws = w[sources[s]];
        for (let val = 0; val < 256; val++) if (val & (1 << b)) table[j * 256 + val] += ws;
      }
    }
  }

  private weightOf(rows: Uint32Array, r: number): number {
    const t = this.table;
    let sum = 0;
    for (let k = 0; k < this.words; k++) {
      const x = rows[r + k];
      if (x === 0) continue;
      const j = k * 1024;
      sum += t[j + (x & 255)] + t[j + 256 + ((x >>> 8) & 255)] + t[j + 512 + ((x >>> 16) & 255)] + t[j + 768 + (x >>> 24)];
    }
    return sum;
  }

  /** Own-change weight of the closure of a set of paths (approximate above maxSources paths). */
  closureWeight(a: readonly number[], b: readonly number[] = []): number {
    const words = this.words;
    const row = this.scratch;
    row.fill(0);
    for (const list of [a, b]) {
      for (const v of list) {
        const r = v * words;
        for (let k = 0; k < words; k++) row[k] |= this.bits[r + k];
      }
    }
    return this.weightOf(row, 0);
  }

  /** The merge sequence of `vertices` down to one group; costs for k = 1..maxK. */
  dendrogram(vertices: readonly number[], P: (weight: number) => number): Dendrogram {
    const m = vertices.length;
    const words = this.words;
    const rows = new Uint32Array(m * words);
    const scratch = new Uint32Array(words);
    for (let i = 0; i < m; i++) rows.set(this.bits.subarray(vertices[i] * words, vertices[i] * words + words), i * words);
    const size = new Float64Array(m);
    const weight = new Float64Array(m);
    const parent = new Int32Array(m);
    let cost = 0;
    for (let i = 0; i < m; i++) {
      parent[i] = i;
      size[i] = this.union.size[vertices[i]];
      weight[i] = this.weightOf(rows, i * words);
      cost += size[i] * P(weight[i]);
    }
    const find = (x: number) => {
      while (parent[x] !== x) x = parent[x] = parent[parent[x]];
      return x;
    };
    const unionWeight = (a: number, b: number) => {
      for (let k = 0; k < words; k++) scratch[k] = rows[a * words + k] | rows[b * words + k];
      return this.weightOf(scratch, 0);
    };
    const price = (a: number, b: number) => (size[a] + size[b]) * P(unionWeight(a, b)) - size[a] * P(weight[a]) - size[b] * P(weight[b]);
    const heap = new MinHeap();
    const offer = (a: number, b: number) => {
      const ra = find(a);
      const rb = find(b);
      if (ra === rb) return;
      heap.push(price(ra, rb), a, b);
    };
    if (m <= 48) {
      for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) offer(a, b);
    } else {
      const local = new Map<number, number>();
      vertices.forEach((v, i) => local.set(v, i));
      for (let i = 0; i < m; i++) {
        const v = vertices[i];
        for (let e = this.union.offsets[v]; e < this.union.offsets[v + 1]; e++) {
          const j = local.get(this.union.targets[e]);
          if (j !== undefined) offer(i, j);
        }
      }
      const byWeight = Array.from({ length: m }, (_, i) => i).sort((x, y) => weight[x] - weight[y] || x - y);
      for (let i = 1; i < m; i++) offer(byWeight[i - 1], byWeight[i]);
      for (let i = 2; i < m; i++) offer(byWeight[i - 2], byWeight[i]);
    }
    const costs = new Array<number>(m);
    costs[m - 1] = cost;
    const merges: [number, number][] = [];
    const top = { key: 0, a: 0, b: 0 };
    let groups = m;
    const target = 1;
    const join = (ra: number, rb: number, delta: number) => {
      parent[rb] = ra;
      for (let k = 0; k < words; k++) rows[ra * words + k] |= rows[rb * words + k];
      size[ra] += size[rb];
      weight[ra] = this.weightOf(rows, ra * words);
      cost += delta;
      merges.push([ra, rb]);
      groups--;
      costs[groups - 1] = cost;
    };
    while (groups > target && heap.size > 0) {
      heap.pop(top);
      const ra = find(top.a);
      const rb = find(top.b);
      if (ra === rb) continue;
      const d = price(ra, rb);
      if (d > top.key + 1e-9 * Math.abs(top.key) + 1e-9 && heap.size > 0 && d > heap.peekKey()) {
        heap.push(d, top.a, top.b);
        continue;
      }
      join(ra, rb, d);
    }
    // Candidates ran out (disconnected parts): join neighbours in weight order.
    if (groups > target) {
      const reps = [];
      for (let i = 0; i < m; i++) if (find(i) === i) reps.push(i);
      reps.sort((x, y) => weight[x] - weight[y] || x - y);
      for (let i = 1; i < reps.length; i++) {
        const ra = find(reps[0]);
        const rb = reps[i];
        join(ra, rb, price(ra, rb));
      }
    }
    return {
      costs,
      groups: (k: number) => {
        const p = Int32Array.from({ length: m }, (_, i) => i);
        const f = (x: number) => {
          while (p[x] !== x) x = p[x] = p[p[x]];
          return x;
        };
        for (let t = 0; t < m - k; t++) p[f(merges[t][1])] = f(merges[t][0]);
        const out = new Map<number, number[]>();
        for (let i = 0; i < m; i++) {
          const r = f(i);
          const list = out.get(r);
          if (list === undefined) out.set(r, [vertices[i]]);
          else list.push(vertices[i]);
        }
        return [...out.values()];
      },
    };
  }
}

/** Every layer of a plan as a path list (to hand to the next revision as `existing`). */
export function fleetLayers(plan: FleetPlan): Layers {
  return plan.layers.map((l) => [...l.paths]);
}

/**
 * One closure document holding every path of the given images (each path
 * once): a fleet revision as one package set, e.g. for `history`.
 */
export function unionDocument(docs: readonly ClosureDocument[]): ClosureDocument {
  const seen = new Set<string>();
  const entries: ClosureDocument["entries"][number][] = [];
  for (const d of docs) {
    for (const e of d.entries) {
      if (seen.has(e.path)) continue;
      seen.add(e.path);
      entries.push(e);
    }
  }
  return { format: "references-graph", entries };
}
