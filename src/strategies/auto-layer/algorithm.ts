// nixpkgs' auto-layer (pkgs/build-support/docker/auto-layer.py), reproduced
// exactly but without its O(n x primaries) cost. Reference doc section A.
//
// Worked example (the compat case `diamond-limit3`):
//
//     top (100) -> left (3000), right (2000);  left, right -> bottom (10000)
//
//   Candidates, largest narSize first: bottom, left, right, top. Every path
//   starts with the empty label.
//   * bottom becomes primary: label(bottom) = {bottom}. Labels in use:
//     {bottom}, {} -> 2 <= 3, accepted.
//   * left: label(left) = {left}. bottom is below left, but its label already
//     holds a primary below left (bottom itself), so it stays {bottom}.
//     Labels: {bottom}, {left}, {} -> 3, accepted.
//   * right: would add {right} -> 4 > 3: discarded, and the loop stops (the
//     reference never tries a smaller candidate after the first overshoot).
//   Layers = one per distinct label, ordered by closureSize:
//     [bottom] (10000), [left] (13000), [right, top] (label {}, 15100).
//
// How the loop is made cheap. The reference copies the whole label map and
// recounts every label for each candidate. Here:
// * labels are interned (a label is a sorted list of primary ranks, one id per
//   distinct list) and each id has a reference count, so the number of
//   distinct labels is maintained incrementally;
// * only the dependencies of the candidate P change label, and the new label
//   depends only on the old label (not on the path): label' = (label minus
//   the primaries above P) plus P unless a primary below P remains. So each
//   distinct old label is transformed once per step;
// * "the primaries above P" that can occur in a dependency's label are
//   exactly P's own current label (the lowest primaries reaching P), so no
//   walk over P's users is needed;
// * when limit >= number of paths the count can never exceed the limit
//   (there are only n labels), so every path is primary: the fast path skips
//   the loop and computes the n closure sizes directly.
// A step costs O(|closure(P)|) instead of O(n); the loop runs at most
// limit + 1 times because every primary has its own label.
//
// The core works on any acyclic graph with input positions (AutoLayerGraph),
// so it can run on sub-graphs as a pipeline step.
import { InputError, PipelineError } from "../../errors.js";
import type { CsrGraph } from "../../graph/csr.js";
import { cpythonSetOrder, frozensetHashFromHashes } from "./cpython-set-order.js";
import { cpythonStrHash, type U64 } from "./siphash.js";
import { comparePythonStr } from "../../graph/store-name.js";
import { sortByKey } from "../../util/radix.js";

/** An acyclic reference graph. Self references and repeated edges are allowed. */
export interface AutoLayerGraph extends CsrGraph {
  /** Store path of each vertex (pairwise distinct). */
  readonly paths: readonly string[];
  readonly narSize: ArrayLike<number>;
  /**
   * Position of each vertex in the input list (a permutation of 0..n-1);
   * identity when absent. It breaks narSize ties in the candidate order and
   * decides the set insertion order behind the tie order of layers.
   */
  readonly inputIndex?: ArrayLike<number>;
}

export interface AutoLayerOptions {
  /** auto-layer.py's LAYER_LIMIT: the most distinct labels; <= 0 acts like 1. */
  readonly limit: number;
  /** Paths removed from the result after planning (the IGNORE_FILE). */
  readonly ignore?: Iterable<string>;
}

/** One entry of auto-layer.py's DEBUG output (key order as json.dumps prints it). */
export interface AutoLayerInfo {
  readonly usedBy: string[];
  readonly paths: string[];
  readonly layerSize: number;
  readonly closureSize: number;
}

export interface AutoLayerResult {
  /** The CLI's result: layers bottom first, excluded paths removed, empty layers dropped. */
  readonly layers: string[][];
  /** The DEBUG list: every layer before exclusion, in output order. */
  readonly info: AutoLayerInfo[];
  /** Accepted primaries in candidate order. */
  readonly primaries: string[];
  /** Distinct labels (= layers before exclusion). */
  readonly labelCount: number;
  /** Whether the limit >= paths fast path ran. */
  readonly fastPath: boolean;
}

/** Splits at the first '-' like `hash, name = path.split("-", 1)`; ValueError in the reference. */
function splitPath(path: string): [hash: string, name: string] {
  const dash = path.indexOf("-");
  if (dash < 0) {
    throw new InputError(
      "bad-path",
      `auto-layer: "${path}" has no '-': auto-layer sorts paths by the name after the first '-' (nixpkgs raises ValueError here)`,
      path,
    );
  }
  return [path.slice(0, dash), path.slice(dash + 1)];
}

/** A growable Int32 array (reference counts, per-label scratch). */
class IntVec {
  data: Int32Array;
  length = 0;
  constructor(capacity = 16) {
    this.data = new Int32Array(capacity);
  }
  push(x: number): number {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length] = x;
    return this.length++;
  }
}

/** Labels as interned sorted lists of primary ranks; id 0 is the empty label. */
class LabelTable {
  readonly elems: Int32Array[] = [new Int32Array(0)];
  readonly refCount = new IntVec();
  private readonly ids = new Map<string, number>([["", 0]]);
  constructor() {
    this.refCount.push(0);
  }
  intern(ranks: number[]): number {
    const key = ranks.join(",");
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.elems.length;
      this.ids.set(key, id);
      this.elems.push(Int32Array.from(ranks));
      this.refCount.push(0);
    }
    return id;
  }
}

/** Vertices in candidate order: narSize descending; among equals, later input first. */
export function candidateOrder(g: AutoLayerGraph): Uint32Array {
  const n = g.n;
  const pos = g.inputIndex;
  const size = g.narSize;
  const order = new Uint32Array(n);
  let maxSize = 0;
  let whole = true;
  for (let v = 0; v < n; v++) {
    if (size[v] > maxSize) maxSize = size[v];
    if (!(size[v] >= 0 && Number.isInteger(size[v]))) whole = false;
  }
  // Positions may exceed n - 1 (a Closure built with exclusions keeps the input's positions).
  let maxPos = n - 1;
  if (pos) for (let v = 0; v < n; v++) if (pos[v] > maxPos) maxPos = pos[v];
  const shift = 2 ** Math.max(1, Math.ceil(Math.log2(maxPos + 2)));
  if (whole && maxSize * shift + shift < 2 ** 53) {
    // Pack (narSize, input position) into one exact whole number below 2^53,
    // distinct per vertex, and sort the numbers with the typed array's native
    // sort (no comparator, no JIT warm-up in a one-shot CLI); the position is
    // the low part. Ascending, then read backwards.
    const keys = new Float64Array(n);
    for (let v = 0; v < n; v++) keys[v] = size[v] * shift + (pos ? pos[v] : v);
    keys.sort();
    let vertexAt: Uint32Array | undefined;
    if (pos) {
      vertexAt = new Uint32Array(maxPos + 1);
      for (let v = 0; v < n; v++) vertexAt[pos[v]] = v;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[n - 1 - i];
      const p = k - Math.floor(k / shift) * shift;
      order[i] = vertexAt ? vertexAt[p] : p;
    }
    return order;
  }
  for (let v = 0; v < n; v++) order[v] = v;
  order.sort((a, b) => size[b] - size[a] || (pos ? pos[b] - pos[a] : b - a));
  return order;
}

/** Labels after the greedy loop: per vertex a label id, each label a list of primary ranks. */
interface Labelling {
  readonly labelOf: Int32Array;
  readonly elems: readonly Int32Array[];
  /** Primary vertex per rank. */
  readonly primaries: readonly number[];
  /** closureSize of each primary (its own closure, itself included), per rank. */
  readonly primaryClosureSize: readonly number[];
  readonly fastPath: boolean;
}

/** Depth-first walk over references from `start`; fills `out`, returns the count. */
function walk(g: CsrGraph, start: number, stamp: Int32Array, mark: number, stack: Int32Array, out: Int32Array, count: number): number {
  const { offsets, targets } = g;
  let sp = 0;
  stack[sp++] = start;
  while (sp > 0) {
    const u = stack[--sp];
    for (let e = offsets[u], end = offsets[u + 1]; e < end; e++) {
      const w = targets[e];
      if (stamp[w] !== mark) {
        stamp[w] = mark;
        out[count++] = w;
        stack[sp++] = w;
      }
    }
  }
  return count;
}

/**
 * The reference's main loop: candidates in turn become primary until the
 * number of distinct labels would exceed the limit.
 */
function label(g: AutoLayerGraph, limit: number): Labelling {
  const n = g.n;
  const order = candidateOrder(g);
  const narSize = g.narSize;
  const stamp = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n + 1);
  const deps = new Int32Array(n);

  if (limit >= n) {
    // There are only n labels, so no step can overshoot: all are primary.
    const labelOf = new Int32Array(n);
    const elems: Int32Array[] = [new Int32Array(0)];
    const primaries: number[] = [];
    const closure: number[] = [];
    for (let r = 0; r < n; r++) {
      const p = order[r];
      stamp[p] = r;
      const k = walk(g, p, stamp, r, stack, deps, 0);
      let size = narSize[p];
      for (let i = 0; i < k; i++) if (deps[i] !== p) size += narSize[deps[i]];
      primaries.push(p);
      closure.push(size);
      labelOf[p] = elems.length;
      elems.push(Int32Array.of(r));
    }
    return { labelOf, elems, primaries, primaryClosureSize: closure, fastPath: true };
  }

  const labels = new LabelTable();
  const labelOf = new Int32Array(n); // all start empty (id 0)
  const rc = labels.refCount;
  rc.data[0] = n;
  let distinct = n > 0 ? 1 : 0;
  const primaries: number[] = [];
  const closure: number[] = [];
  const removeMark = new Int32Array(n).fill(-1); // per rank: in P's old label this step
  let transStep = new Int32Array(64).fill(-1);
  let transTo = new Int32Array(64);
  const newLabel = new Int32Array(n);
  const scratch: number[] = [];

  const inc = (id: number): void => {
    if (rc.data[id]++ === 0) distinct++;
  };
  const dec = (id: number): void => {
    if (--rc.data[id] === 0) distinct--;
  };

  for (let step = 0; step < n; step++) {
    const p = order[step];
    const rank = primaries.length;
    stamp[p] = step;
    const k = walk(g, p, stamp, step, stack, deps, 0);
    const oldP = labelOf[p];
    for (const q of labels.elems[oldP]) removeMark[q] = step;
    // Old labels all exist before the step, so the transition table only grows here.
    if (transStep.length < labels.elems.length) {
      const size = Math.max(labels.elems.length * 2, 64);
      const ts = new Int32Array(size).fill(-1);
      ts.set(transStep);
      transStep = ts;
      const tt = new Int32Array(size);
      tt.set(transTo);
      transTo = tt;
    }
    let size = narSize[p];
    let m = 0; // dependencies of p (p itself excluded, in case of a self loop)
    for (let i = 0; i < k; i++) {
      const d = deps[i];
      if (d === p) continue;
      size += narSize[d];
      const old = labelOf[d];
      if (transStep[old] !== step) {
        // label' = (old minus the primaries above p) + p, unless a primary below p is left.
        scratch.length = 0;
        let below = false;
        for (const q of labels.elems[old]) {
          if (removeMark[q] === step) continue;
          scratch.push(q);
          if (stamp[primaries[q]] === step) below = true;
        }
        if (!below) scratch.push(rank);
        const id = labels.intern(scratch);
        transStep[old] = step;
        transTo[old] = id;
      }
      const to = transTo[old];
      deps[m] = d;
      newLabel[m++] = to;
      dec(old);
      inc(to);
    }
    scratch.length = 0;
    scratch.push(rank);
    const own = labels.intern(scratch);
    dec(oldP);
    inc(own);
    if (distinct > limit) {
      // Overshoot: undo the tentative counts and stop (no smaller candidate is tried).
      dec(own);
      inc(oldP);
      for (let i = 0; i < m; i++) {
        dec(newLabel[i]);
        inc(labelOf[deps[i]]);
      }
      break;
    }
    for (let i = 0; i < m; i++) labelOf[deps[i]] = newLabel[i];
    labelOf[p] = own;
    primaries.push(p);
    closure.push(size);
  }
  return { labelOf, elems: labels.elems, primaries, primaryClosureSize: closure, fastPath: false };
}

/**
 * Vertices sorted like auto-layer.py sorts a layer: by (name, hash), the path
 * split at its first '-'. One global sort; layers then list their members in
 * this order. Throws on a path without '-' (the reference's ValueError).
 *
 * Store paths are ASCII, so the key "name NUL hash" orders exactly like the
 * tuples (NUL is below every other character, and the hash part has no '-':
 * a hash that is a prefix of another sorts first in both). Two ways to sort
 * by it, chosen by size (`native`, default: below NATIVE_NAME_ORDER paths):
 * * native: the keys as strings, each ending with NUL and the vertex number
 *   in four 7-bit characters (never deciding the order, since the paths are
 *   distinct, but giving the vertex back), sorted by Array.prototype.sort
 *   without a comparator. V8 compares the strings natively, so a one-shot CLI
 *   (which runs everything cold) pays no JIT warm-up: about 4x less CPU than
 *   the radix sort at 10k paths (docs/speed.md, "small closures").
 *   It holds a second copy of every path, so large closures take the other;
 * * radix: an MSD radix sort reading the key 6 characters at a time (8 bits
 *   each: 0 past the end, else code + 1) straight from the path, sorting the
 *   whole list by characters 0-5, then each run of equal prefixes by
 *   characters 6-11, and so on; no key is built.
 * Paths with NUL or non-ASCII characters take a code-point comparison instead.
 */
export function nameOrder(paths: readonly string[], native = paths.length < NATIVE_NAME_ORDER): Uint32Array {
  const n = paths.length;
  const dash = new Int32Array(n);
  let ascii = true;
  for (let v = 0; v < n; v++) {
    const path = paths[v];
    const d = path.indexOf("-");
    if (d < 0) splitPath(path);
    if (ascii && !/^[\x01-\x7f]*$/.test(path)) ascii = false;
    dash[v] = d;
  }
  const order = new Uint32Array(n);
  if (!ascii) {
    for (let v = 0; v < n; v++) order[v] = v;
    const split = paths.map(splitPath);
    return order.sort((a, b) => comparePythonStr(split[a][1], split[b][1]) || comparePythonStr(split[a][0], split[b][0]));
  }
  if (native && n < 2 ** 28) {
    const keys = new Array<string>(n);
    for (let v = 0; v < n; v++) {
      const path = paths[v];
      const d = dash[v];
      const key = `${path.slice(d + 1)}\0${path.slice(0, d)}\0${String.fromCharCode(v & 0x7f, (v >>> 7) & 0x7f, (v >>> 14) & 0x7f, v >>> 21)}`;
      key.charCodeAt(0); // flattens the concatenation once, not in every comparison
      keys[v] = key;
    }
    keys.sort();
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      const e = k.length;
      order[i] = k.charCodeAt(e - 4) | (k.charCodeAt(e - 3) << 7) | (k.charCodeAt(e - 2) << 14) | (k.charCodeAt(e - 1) << 21);
    }
    return order;
  }
  for (let v = 0; v < n; v++) order[v] = v;
  const keys = new Float64Array(n);
  // Ranges of `order` still to sort, with the key offset (in characters).
  const work: number[] = [0, n, 0];
  while (work.length > 0) {
    const at = work.pop()!;
    const to = work.pop()!;
    const from = work.pop()!;
    for (let i = from; i < to; i++) keys[i] = keyChunk(paths[order[i]], dash[order[i]], at);
    sortByKey(order, keys, from, to);
    for (let i = from; i < to;) {
      let j = i + 1;
      while (j < to && keys[j] === keys[i]) j++;
      // Equal chunks: compare the next 6 characters, unless both keys ended (equal paths).
      if (j - i > 1 && keys[i] % 256 !== 0) work.push(i, j, at + 6);
      i = j;
    }
  }
  return order;
}

/**
 * nameOrder's native string sort below this many paths (its keys, a second
 * copy of every path, cost about 9 MB more peak memory at 100k paths for
 * about 15% less CPU there), the radix sort from here.
 */
export const NATIVE_NAME_ORDER = 32768;

/** Characters at..at+5 of "name NUL hash" for path = hash + "-" + name, packed 8 bits each. */
function keyChunk(path: string, dash: number, at: number): number {
  const nameLen = path.length - dash - 1;
  let x = 0;
  for (let j = at; j < at + 6; j++) {
    let c: number;
    if (j < nameLen) c = path.charCodeAt(dash + 1 + j) + 1;
    else if (j === nameLen) c = 1;
    else if (j - nameLen - 1 < dash) c = path.charCodeAt(j - nameLen - 1) + 1;
    else c = 0;
    x = x * 256 + c;
  }
  return x;
}

/** Runs auto-layer on a graph: the CLI result and the DEBUG info. */
export function autoLayerGraph(g: AutoLayerGraph, options: AutoLayerOptions): AutoLayerResult {
  const n = g.n;
  if (!Number.isInteger(options.limit)) throw new PipelineError("bad-option", `auto-layer: the layer limit must be an integer, got ${options.limit}`);
  // The reference splits every path before it sorts anything, so it fails on any path without '-'.
  const byName = nameOrder(g.paths);
  const namePos = new Int32Array(n);
  for (let i = 0; i < n; i++) namePos[byName[i]] = i;
  let total = 0;
  for (let v = 0; v < n; v++) total += g.narSize[v];
  if (!Number.isSafeInteger(total)) {
    throw new InputError("too-large", `auto-layer: the closure's total narSize ${total} is above 2^53-1 bytes, which strata cannot sum exactly`);
  }

  const lab = label(g, options.limit);

  // Distinct labels in order of first appearance in input order: the order
  // `set(labels.values())` receives them.
  const inputOrder = new Uint32Array(n);
  if (g.inputIndex) for (let v = 0; v < n; v++) inputOrder[g.inputIndex[v]] = v;
  else for (let v = 0; v < n; v++) inputOrder[v] = v;
  const slotOfLabel = new Int32Array(lab.elems.length).fill(-1);
  const labelIds: number[] = [];
  const memberCount: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = lab.labelOf[inputOrder[i]];
    if (slotOfLabel[id] < 0) {
      slotOfLabel[id] = labelIds.length;
      labelIds.push(id);
      memberCount.push(0);
    }
    memberCount[slotOfLabel[id]]++;
  }
  const L = labelIds.length;
  const members: number[][] = memberCount.map((c) => new Array<number>(c));
  const fill = new Int32Array(L);
  for (let i = 0; i < n; i++) {
    const v = byName[i];
    const s = slotOfLabel[lab.labelOf[v]];
    members[s][fill[s]++] = v;
  }

  // closureSize: a primary's layer has the primary's closure (it reaches all
  // members); other layers walk the union of their members' closures.
  const closureSize = new Array<number>(L);
  const stamp = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n + 1);
  const reached = new Int32Array(n);
  for (let s = 0; s < L; s++) {
    const el = lab.elems[labelIds[s]];
    if (el.length === 1 && lab.labelOf[lab.primaries[el[0]]] === labelIds[s]) {
      closureSize[s] = lab.primaryClosureSize[el[0]];
      continue;
    }
    let size = 0;
    for (const v of members[s]) {
      if (stamp[v] === s) continue;
      stamp[v] = s;
      size += g.narSize[v];
      const k = walk(g, v, stamp, s, stack, reached, 0);
      for (let i = 0; i < k; i++) size += g.narSize[reached[i]];
    }
    closureSize[s] = size;
  }

  // Layer order: ascending closureSize, stable over CPython's set order.
  // The set order matters only between equal sizes, so it is computed only then.
  let slots = Array.from({ length: L }, (_, s) => s);
  const sizesSorted = closureSize.slice().sort((a, b) => a - b);
  let ties = false;
  for (let i = 1; i < L; i++) if (sizesSorted[i] === sizesSorted[i - 1]) ties = true;
  if (ties) {
    const strHash = new Map<number, U64>();
    const hashes = labelIds.map((id) =>
      frozensetHashFromHashes(
        Array.from(lab.elems[id], (rank) => {
          let h = strHash.get(rank);
          if (h === undefined) strHash.set(rank, (h = cpythonStrHash(g.paths[lab.primaries[rank]])));
          return h;
        }),
      ),
    );
    slots = cpythonSetOrder(hashes);
  }
  slots.sort((a, b) => closureSize[a] - closureSize[b]);

  const info: AutoLayerInfo[] = slots.map((s) => {
    const paths = members[s].map((v) => g.paths[v]);
    const usedByV = Array.from(lab.elems[labelIds[s]], (rank) => lab.primaries[rank]).sort((a, b) => namePos[a] - namePos[b]);
    let layerSize = 0;
    for (const v of members[s]) layerSize += g.narSize[v];
    return { usedBy: usedByV.map((v) => g.paths[v]), paths, layerSize, closureSize: closureSize[s] };
  });

  const ignore = new Set(options.ignore ?? []);
  const layers: string[][] = [];
  for (const layer of info) {
    const kept = ignore.size === 0 ? layer.paths.slice() : layer.paths.filter((p) => !ignore.has(p));
    if (kept.length > 0) layers.push(kept);
  }
  return {
    layers,
    info,
    primaries: lab.primaries.map((v) => g.paths[v]),
    labelCount: L,
    fastPath: lab.fastPath,
  };
}
