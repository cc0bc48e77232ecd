// Nixery's popularity data: a flat JSON object mapping a store-path name
// without its hash ("glibc-2.40-66") to a reference count, as made by
// Nixery's popcount tool (reference doc B.3).
//
// Lookup for a path: strip "/nix/store/<hash>-"; a name starting with
// nss-cacert or iana-etc gets 500000 (Nixery's hard-coded override), a name
// found in the map its count, anything else 1.
// Example: with {"openssl-3.0.13": 250}, ".../abc-openssl-3.0.13" -> 250,
// ".../abc-nss-cacert-3.98" -> 500000, ".../abc-zlib-1.3" -> 1.
import { PipelineError } from "../../errors.js";
import { describe } from "../../graph/document.js";
import type { ClosureEntry } from "../../graph/document.js";
import type { ClosureColumns } from "../../graph/closure.js";

export type PopularityMap = ReadonlyMap<string, number>;

/** Nixery's override for the two paths every image gets (glibc has ~300k). */
export const OVERRIDE_POPULARITY = 500000;
const OVERRIDE_PREFIXES = ["nss-cacert", "iana-etc"];

const STORE_DIR = "/nix/store/";

/**
 * The popularity key of a store path: its name without store dir and hash.
 * Same as Nixery's ReplaceAll of ^/nix/store/[a-z0-9]+- (hand-written, it is
 * hot): paths in other store directories keep their full path as key and so
 * never match a name.
 */
export function storeName(path: string): string {
  if (!path.startsWith(STORE_DIR)) return path;
  const start = STORE_DIR.length;
  let i = start;
  for (; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) break;
  }
  // [a-z0-9]+ is greedy and cannot backtrack onto a "-", so this is exact.
  if (i === start || path.charCodeAt(i) !== 0x2d) return path;
  return path.slice(i + 1);
}

/** Nixery's lookup (override, exact name, else 1). */
export function popularityOf(path: string, map: PopularityMap): number {
  const name = storeName(path);
  for (const prefix of OVERRIDE_PREFIXES) if (name.startsWith(prefix)) return OVERRIDE_POPULARITY;
  return map.get(name) ?? 1;
}

/**
 * popcount semantics over a closure: every `references` entry of every path
 * (self references included) counts one for the referenced name without its
 * hash; counts are summed over all paths with that name; names counted only
 * once are dropped. Example: a -> {a, c}, b -> {b, c}, c -> {c} gives
 * {c: 3} (a and b were counted once each).
 */
export function popcount(entries: readonly ClosureEntry[]): Map<string, number> {
  // Count per referenced path first: far fewer distinct paths than references.
  const perPath = new Map<string, number>();
  for (const entry of entries) {
    for (const ref of entry.references) perPath.set(ref, (perPath.get(ref) ?? 0) + 1);
  }
  const counts = new Map<string, number>();
  for (const [ref, count] of perPath) {
    const name = storeName(ref);
    counts.set(name, (counts.get(name) ?? 0) + count);
  }
  for (const [name, count] of counts) if (count === 1) counts.delete(name);
  return counts;
}

/**
 * popcount over the streaming reader's columns, as the popularity of every
 * entry (Nixery's lookup: override, count, else 1): the same numbers as
 * popularityOf(path, popcount(entries)). Paths are grouped by name in a hash
 * table over the characters after "/nix/store/<hash>-", so no name string is
 * cut out and no Map is built.
 */
export function popcountColumns(c: ClosureColumns): Float64Array {
  const { strings, refIds, refOffsets, pathId, count } = c;
  const m = strings.length;
  const refCount = new Float64Array(m);
  for (let i = 0; i < count; i++) for (let e = refOffsets[i], end = refOffsets[i + 1]; e < end; e++) refCount[refIds[e]]++;
  const nameStart = new Int32Array(m);
  let size = 16;
  while (size < 2 * m) size *= 2;
  const mask = size - 1;
  const slot = new Int32Array(size).fill(-1);
  const group = new Int32Array(m);
  const sum = new Float64Array(m); // per group representative: references to any path of that name
  for (let s = 0; s < m; s++) {
    const p = strings[s];
    const st = storeNameStart(p);
    nameStart[s] = st;
    let h = 0x811c9dc5;
    for (let i = st; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193);
    let i = (h ^ (h >>> 15)) & mask;
    let rep: number;
    for (;;) {
      rep = slot[i];
      if (rep < 0) {
        slot[i] = rep = s;
        break;
      }
      if (sameTail(strings[rep], nameStart[rep], p, st)) break;
      i = (i + 1) & mask;
    }
    group[s] = rep;
    sum[rep] += refCount[s];
  }
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const s = pathId[i];
    const p = strings[s];
    const st = nameStart[s];
    if (p.startsWith(OVERRIDE_PREFIXES[0], st) || p.startsWith(OVERRIDE_PREFIXES[1], st)) out[i] = OVERRIDE_POPULARITY;
    else {
      // popcount drops names counted once; a missing name looks up as 1.
      const k = sum[group[s]];
      out[i] = k > 1 ? k : 1;
    }
  }
  return out;
}

/** Where storeName(path) starts in path (0 when the whole path is the key). */
function storeNameStart(path: string): number {
  if (!path.startsWith(STORE_DIR)) return 0;
  const start = STORE_DIR.length;
  let i = start;
  for (; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) break;
  }
  if (i === start || path.charCodeAt(i) !== 0x2d) return 0;
  return i + 1;
}

function sameTail(a: string, sa: number, b: string, sb: number): boolean {
  const len = a.length - sa;
  if (b.length - sb !== len) return false;
  for (let i = 0; i < len; i++) if (a.charCodeAt(sa + i) !== b.charCodeAt(sb + i)) return false;
  return true;
}

/**
 * Reads a popularity map given as a Map, a plain object (the parsed JSON
 * file) or undefined. Counts must be integers, as Go's map[string]int
 * decoding demands.
 */
export function readPopularityMap(value: unknown, where = "popularity"): Map<string, number> {
  if (value instanceof Map) {
    const out = new Map<string, number>();
    for (const [k, v] of value) out.set(checkKey(k, where), checkCount(v, `${where}[${JSON.stringify(k)}]`));
    return out;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PipelineError(
      "bad-popularity",
      `${where} must be a JSON object mapping store-path names without hash to counts (Nixery's popularity format), got ${describe(value)}`,
    );
  }
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(value)) out.set(k, checkCount(v, `${where}[${JSON.stringify(k)}]`));
  return out;
}

function checkKey(k: unknown, where: string): string {
  if (typeof k !== "string") throw new PipelineError("bad-popularity", `${where}: keys must be strings, got ${describe(k)}`);
  return k;
}

function checkCount(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new PipelineError("bad-popularity", `${where} must be a whole number (a reference count), got ${describe(v)}`);
  }
  return v;
}
