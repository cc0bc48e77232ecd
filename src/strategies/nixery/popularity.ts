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
 * popularityOf(path, popcount(entries)). Every distinct string is named once
 * (a regular-expression test and a slice) and grouped by name in a Map: the
 * per-character work is V8's own (string hashing, the regular expression),
 * which a one-shot CLI runs at full speed where a hand-written hash loop
 * would run unoptimised.
 */
export function popcountColumns(c: ClosureColumns): Float64Array {
  const { strings, refIds, refOffsets, pathId, count } = c;
  const m = strings.length;
  const refCount = new Float64Array(m);
  for (let e = refOffsets[0], end = refOffsets[count]; e < end; e++) refCount[refIds[e]]++;
  const groupOf = new Map<string, number>();
  const group = new Int32Array(m);
  const sum = new Float64Array(m); // per name: references to any path of that name
  const overridden = new Uint8Array(m);
  let names = 0;
  for (let s = 0; s < m; s++) {
    const p = strings[s];
    const name = STORE_PREFIX.test(p) ? p.slice(p.indexOf("-", STORE_DIR.length) + 1) : p;
    let g = groupOf.get(name);
    if (g === undefined) {
      g = names++;
      groupOf.set(name, g);
      if (name.startsWith(OVERRIDE_PREFIXES[0]) || name.startsWith(OVERRIDE_PREFIXES[1])) overridden[g] = 1;
    }
    group[s] = g;
    sum[g] += refCount[s];
  }
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const g = group[pathId[i]];
    // popcount drops names counted once; a missing name looks up as 1.
    out[i] = overridden[g] === 1 ? OVERRIDE_POPULARITY : sum[g] > 1 ? sum[g] : 1;
  }
  return out;
}

/** What storeName strips: Nixery's ^/nix/store/[a-z0-9]+- (the first '-' after the store dir ends it). */
const STORE_PREFIX = /^\/nix\/store\/[a-z0-9]+-/;

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
