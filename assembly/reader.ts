// The closure reader's fast path: a scanner and path interner over UTF-8
// bytes in linear memory. The TypeScript parser (src/io/stream/parser.ts)
// drives the document; at each closure entry of a list after the first (and
// at each member of a path-info object once its first keys are read) it
// hands this scanner a window of the input, and the scanner reads as many
// whole entries as it can, interning their path and references and writing
// their columns (readerScan, readerScanObject). It reads only the plainest form of an entry: ASCII strings
// without escapes, "narSize"/"closureSize" as integers of up to 15 digits,
// other fields as plain scalars or flat lists of them, each of "path",
// "narSize", "references" and "closureSize" at most once, "path" present.
// On anything else (an escape, a non-ASCII byte, a nested value, a number
// form, a repeated key, a syntax error, the window's end) it stops before that
// entry, and the TypeScript parser reads the entry itself, so every result and
// every message is the TypeScript parser's.
//
// Strings a stopped entry interned before the stop are interned again, in the
// same order, by the TypeScript parser reading that entry: ids stay the ones
// it alone would give (dense, in first-seen order).
//
// One instance per reader: the state below is this instance's (the host
// instantiates the module for each reader and drops it at the end).
// Interner layout (as src/io/stream/interner.ts): per table slot four u32
// (hash, id + 1 with 0 = empty, key offset in the arena, length | PLAIN);
// per id the key's offset and length.
import { alloc } from "./memory";

const PLAIN: u32 = 0x40000000;
const LENGTH: u32 = 0x3fffffff;

let table: usize = 0;
let mask: u32 = 0;
let count: u32 = 0;
let rehashes: u32 = 0;
let arena: usize = 0;
let arenaCap: usize = 0;
let used: usize = 0;
let keyStart: usize = 0;
let keyLen: usize = 0;
let keyCap: u32 = 0;
let scratch: usize = 0;
let scratchCap: usize = 0;

// The input window and the columns of one scan.
let input: usize = 0;
let maxEntries: u32 = 0;
let outPath: usize = 0;
let outNar: usize = 0;
let outClosure: usize = 0;
let outRefEnd: usize = 0;
let outRefs: usize = 0;
let outEntries: u32 = 0;
let outRefCount: u32 = 0;
let numValue: f64 = 0;

/**
 * Sets up an empty interner (`slots`, a power of two; `arenaBytes`; `keys`
 * ids) and an input window of `window` bytes with room for the columns of
 * every entry it can hold. Returns 1, or 0 when memory cannot grow.
 */
export function readerInit(slots: u32, arenaBytes: usize, keys: u32, window: usize): u32 {
  // Blocks come from fresh pages (the instance is this reader's, the arena only grows): already zero.
  table = alloc(<usize>slots << 4);
  if (table == 0) return 0;
  mask = slots - 1;
  count = 0;
  arena = alloc(arenaBytes);
  arenaCap = arenaBytes;
  used = 0;
  keyStart = alloc(<usize>keys << 2);
  keyLen = alloc(<usize>keys << 2);
  keyCap = keys;
  // Whole entries are at least 12 bytes ({"path":"x"}), references 4 ("x",).
  input = alloc(window + 8);
  maxEntries = <u32>(window / 12 + 1);
  const maxRefs = window / 4 + 1;
  outPath = alloc(<usize>maxEntries << 2);
  outNar = alloc(<usize>maxEntries << 3);
  outClosure = alloc(<usize>maxEntries << 3);
  outRefEnd = alloc(<usize>maxEntries << 2);
  outRefs = alloc(maxRefs << 2);
  batch = alloc(<usize>BATCH * 12);
  if (batch == 0 || arena == 0 || keyStart == 0 || keyLen == 0 || input == 0 || outPath == 0 || outNar == 0 || outClosure == 0 || outRefEnd == 0 || outRefs == 0) return 0;
  return 1;
}

export function readerInput(): usize {
  return input;
}

/** A block of at least `bytes` for the host's keys (reused; 0 when memory cannot grow). */
export function readerScratch(bytes: usize): usize {
  if (bytes > scratchCap) {
    const cap = bytes > scratchCap * 2 ? bytes : scratchCap * 2;
    scratch = alloc(cap);
    scratchCap = scratch == 0 ? 0 : cap;
  }
  return scratch;
}

export function readerCount(): u32 {
  return count;
}
export function readerRehashes(): u32 {
  return rehashes;
}
export function readerArena(): usize {
  return arena;
}
export function readerUsed(): usize {
  return used;
}
export function readerKeyStart(): usize {
  return keyStart;
}
export function readerKeyLen(): usize {
  return keyLen;
}
export function readerEntries(): u32 {
  return outEntries;
}
export function readerRefCount(): u32 {
  return outRefCount;
}
export function readerOutPath(): usize {
  return outPath;
}
export function readerOutNar(): usize {
  return outNar;
}
export function readerOutClosure(): usize {
  return outClosure;
}
export function readerOutRefEnd(): usize {
  return outRefEnd;
}
export function readerOutRefs(): usize {
  return outRefs;
}

// ---- the interner --------------------------------------------------------------

/**
 * Hash of n bytes at p: 64-bit words folded in FxHash style (rotate, xor,
 * multiply), the last word overlapping the one before, then an avalanche.
 * Not the TypeScript interner's hash: the two never share a table.
 */
@inline
function hashOf(p: usize, n: usize): u32 {
  let h: u64 = 0x243f6a8885a308d3 ^ <u64>n;
  if (n >= 8) {
    let i: usize = 0;
    while (i + 8 < n) {
      h = (rotl<u64>(h, 5) ^ load<u64>(p + i)) * 0x517cc1b727220a95;
      i += 8;
    }
    h = (rotl<u64>(h, 5) ^ load<u64>(p + n - 8)) * 0x517cc1b727220a95;
  } else {
    for (let i: usize = 0; i < n; i++) h = (rotl<u64>(h, 5) ^ <u64>load<u8>(p + i)) * 0x517cc1b727220a95;
  }
  h ^= h >> 32;
  h *= 0x9e3779b97f4a7c15;
  h ^= h >> 29;
  return <u32>h;
}

@inline
function sameBytes(a: usize, b: usize, n: usize): bool {
  let i: usize = 0;
  while (i + 8 <= n) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < n) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

/** Whether n bytes at p are plain: no quote, backslash, control byte or byte >= 0x80. */
function plainBytes(p: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) {
    const c = load<u8>(p + i);
    if (c < 0x20 || c >= 0x80 || c == 0x22 || c == 0x5c) return false;
  }
  return true;
}

/** Id of the key of n bytes at p, added when new (plain: known plain). -1 when memory cannot grow. */
function internKey(p: usize, n: usize, plain: bool): i32 {
  return internHashed(p, n, hashOf(p, n), plain);
}

/** internKey with the hash known. */
function internHashed(p: usize, n: usize, h: u32, plain: bool): i32 {
  let slot = h & mask;
  let t: usize;
  for (;;) {
    t = table + (<usize>slot << 4);
    const e = load<u32>(t, 4);
    if (e == 0) break;
    if (load<u32>(t) == h && (load<u32>(t, 12) & LENGTH) == <u32>n && sameBytes(arena + <usize>load<u32>(t, 8), p, n)) return <i32>(e - 1);
    slot = (slot + 1) & mask;
  }
  const id = count;
  if (id >= keyCap && !growKeys()) return -1;
  if (used + n > arenaCap && !growArena(n)) return -1;
  memory.copy(arena + used, p, n);
  store<u32>(keyStart + (<usize>id << 2), <u32>used);
  store<u32>(keyLen + (<usize>id << 2), <u32>n);
  store<u32>(t, h);
  store<u32>(t, id + 1, 4);
  store<u32>(t, <u32>used, 8);
  store<u32>(t, plain ? <u32>n | PLAIN : <u32>n, 12);
  used += n;
  count = id + 1;
  if (count * 2 > mask && !rehash()) return -1;
  return <i32>id;
}

/** Id of the key of n bytes at p (the host's copy in the scratch block), added when new; -1: out of memory. */
export function readerIntern(p: usize, n: usize): i32 {
  return internKey(p, n, plainBytes(p, n));
}

/** Id of the plain key equal to the n bytes at p, or -1. */
export function readerFindPlain(p: usize, n: usize): i32 {
  const h = hashOf(p, n);
  const want = <u32>n | PLAIN;
  let slot = h & mask;
  for (;;) {
    const t = table + (<usize>slot << 4);
    const e = load<u32>(t, 4);
    if (e == 0) return -1;
    if (load<u32>(t) == h && load<u32>(t, 12) == want && sameBytes(arena + <usize>load<u32>(t, 8), p, n)) return <i32>(e - 1);
    slot = (slot + 1) & mask;
  }
  return -1; // not reached: the table always has empty slots
}

function growKeys(): bool {
  const cap = keyCap * 2;
  const s = alloc(<usize>cap << 2);
  const l = alloc(<usize>cap << 2);
  if (s == 0 || l == 0) return false;
  memory.copy(s, keyStart, <usize>count << 2);
  memory.copy(l, keyLen, <usize>count << 2);
  keyStart = s;
  keyLen = l;
  keyCap = cap;
  return true;
}

function growArena(need: usize): bool {
  const cap = arenaCap * 2 > used + need ? arenaCap * 2 : used + need;
  const a = alloc(cap);
  if (a == 0) return false;
  memory.copy(a, arena, used);
  arena = a;
  arenaCap = cap;
  return true;
}

function rehash(): bool {
  const slots = (<usize>mask + 1) * 2;
  const next = alloc(slots << 4);
  if (next == 0) return false; // fresh pages: zero
  const m = <u32>(slots - 1);
  const end = table + ((<usize>mask + 1) << 4);
  for (let t = table; t < end; t += 16) {
    if (load<u32>(t, 4) == 0) continue;
    let slot = load<u32>(t) & m;
    while (load<u32>(next + (<usize>slot << 4), 4) != 0) slot = (slot + 1) & m;
    memory.copy(next + (<usize>slot << 4), t, 16);
  }
  table = next;
  mask = m;
  rehashes++;
  return true;
}

// ---- the scanner ---------------------------------------------------------------

@inline
function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

@inline
function skipSpace(p: usize, lim: usize): usize {
  while (p < lim && isSpace(load<u8>(p))) p++;
  return p;
}

@inline
function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

/**
 * The closing quote of a plain string whose body starts at p, or 0 when the
 * body holds a backslash, a control byte or a byte >= 0x80, or runs past lim.
 * Eight bytes at a time while they are all plain.
 */
function plainEnd(p: usize, lim: usize): usize {
  while (p + 8 <= lim) {
    const x = load<u64>(p);
    const q = x ^ 0x2222222222222222;
    const b = x ^ 0x5c5c5c5c5c5c5c5c;
    const flags = (((x - 0x2020202020202020) & ~x) | ((q - 0x0101010101010101) & ~q) | ((b - 0x0101010101010101) & ~b) | x) & 0x8080808080808080;
    if (flags != 0) {
      // The lowest flagged byte is a real one (a borrow only flags bytes above it).
      const at = p + <usize>(ctz<u64>(flags) >> 3);
      return load<u8>(at) == 0x22 ? at : 0;
    }
    p += 8;
  }
  while (p < lim) {
    const c = load<u8>(p);
    if (c == 0x22) return p;
    if (c < 0x20 || c >= 0x80 || c == 0x5c) return 0;
    p++;
  }
  return 0;
}

/** End of a non-negative integer of 1 to 15 digits at p (value in numValue), or 0. */
function uintEnd(p: usize, lim: usize): usize {
  if (p >= lim) return 0;
  const c = <u32>load<u8>(p);
  if (c == 0x30) {
    numValue = 0;
    return p + 1;
  }
  if (!isDigit(c) || c == 0x30) return 0;
  const start = p;
  let v: u64 = 0;
  while (p < lim) {
    const d = <u32>load<u8>(p) - 0x30;
    if (d >= 10) break;
    v = v * 10 + <u64>d;
    p++;
  }
  if (p - start > 15) return 0;
  numValue = <f64>v;
  return p;
}

/** End of a JSON number at p (its grammar checked), or 0. */
function numberEnd(p: usize, lim: usize): usize {
  if (load<u8>(p) == 0x2d) p++;
  if (p >= lim) return 0;
  let c = <u32>load<u8>(p);
  if (c == 0x30) p++;
  else if (isDigit(c)) {
    while (p < lim && isDigit(load<u8>(p))) p++;
  } else return 0;
  if (p < lim && load<u8>(p) == 0x2e) {
    p++;
    if (p >= lim || !isDigit(load<u8>(p))) return 0;
    while (p < lim && isDigit(load<u8>(p))) p++;
  }
  if (p < lim && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < lim) {
      c = load<u8>(p);
      if (c == 0x2b || c == 0x2d) p++;
    }
    if (p >= lim || !isDigit(load<u8>(p))) return 0;
    while (p < lim && isDigit(load<u8>(p))) p++;
  }
  return p;
}

/** End of the literal true, false or null at p, or 0. */
function literalEnd(p: usize, lim: usize): usize {
  const c = load<u8>(p);
  if (c == 0x74) return p + 4 <= lim && load<u32>(p) == 0x65757274 ? p + 4 : 0; // "true"
  if (c == 0x6e) return p + 4 <= lim && load<u32>(p) == 0x6c6c756e ? p + 4 : 0; // "null"
  if (c == 0x66) return p + 5 <= lim && load<u32>(p) == 0x736c6166 && load<u8>(p + 4) == 0x65 ? p + 5 : 0; // "false"
  return 0;
}

/** End of a plain string, a number or a literal at p, or 0. */
function scalarEnd(p: usize, lim: usize): usize {
  const c = <u32>load<u8>(p);
  if (c == 0x22) {
    const q = plainEnd(p + 1, lim);
    return q == 0 ? 0 : q + 1;
  }
  if (c == 0x2d || isDigit(c)) return numberEnd(p, lim);
  return literalEnd(p, lim);
}

/** End of a field value strata does not read: a scalar or a flat list of scalars; or 0. */
function otherEnd(p: usize, lim: usize): usize {
  if (load<u8>(p) != 0x5b) return scalarEnd(p, lim);
  p = skipSpace(p + 1, lim);
  if (p >= lim) return 0;
  if (load<u8>(p) == 0x5d) return p + 1;
  for (;;) {
    p = scalarEnd(p, lim);
    if (p == 0) return 0;
    p = skipSpace(p, lim);
    if (p >= lim) return 0;
    const c = load<u8>(p);
    if (c == 0x5d) return p + 1;
    if (c != 0x2c) return 0;
    p = skipSpace(p + 1, lim);
    if (p >= lim) return 0;
  }
  return 0; // not reached
}

const F_OTHER: u32 = 0;
const F_PATH: u32 = 1;
const F_NAR_SIZE: u32 = 2;
const F_REFERENCES: u32 = 4;
const F_CLOSURE_SIZE: u32 = 8;

/** The field named by the n plain key bytes at p. */
@inline
function fieldOf(p: usize, n: usize): u32 {
  if (n == 4) return load<u32>(p) == 0x68746170 ? F_PATH : F_OTHER; // "path"
  if (n == 7) return load<u32>(p) == 0x5372616e && load<u16>(p + 4) == 0x7a69 && load<u8>(p + 6) == 0x65 ? F_NAR_SIZE : F_OTHER; // "narSize"
  if (n == 10) return load<u64>(p) == 0x636e657265666572 && load<u16>(p + 8) == 0x7365 ? F_REFERENCES : F_OTHER; // "references"
  if (n == 11) return closureSizeAt(p);
  return F_OTHER;
}

/** "closureSize" (11 bytes) at p. */
@inline
function closureSizeAt(p: usize): u32 {
  return load<u64>(p) == 0x53657275736f6c63 && load<u16>(p + 8) == 0x7a69 && load<u8>(p + 10) == 0x65 ? F_CLOSURE_SIZE : F_OTHER;
}

/** References gathered before they are interned: (pointer, length, hash) each. */
const BATCH: u32 = 64;
let batch: usize = 0;
let sink: u32 = 0;

/**
 * Interns the nb gathered references, in order, appending their ids to the
 * out columns; false when memory cannot grow. On a large closure nearly
 * every lookup misses the cache twice (the table slot, then the key's bytes
 * in the arena); touching all the slots first, then all the keys, lets the
 * CPU overlap those misses instead of waiting for each in turn.
 */
function internBatch(nb: u32): bool {
  let acc: u32 = 0;
  const end = batch + <usize>nb * 12;
  for (let b = batch; b < end; b += 12) acc += load<u32>(table + (<usize>(load<u32>(b, 8) & mask) << 4), 8);
  for (let b = batch; b < end; b += 12) {
    // Both ends of the key in the slot the hash points at (a key of ~60 bytes often spans two cache lines).
    const t = table + (<usize>(load<u32>(b, 8) & mask) << 4);
    const k = arena + <usize>load<u32>(t, 8);
    acc += <u32>load<u8>(k) + <u32>load<u8>(k + <usize>((load<u32>(t, 12) & LENGTH) - 1));
  }
  sink = acc;
  for (let b = batch; b < end; b += 12) {
    const id = internHashed(<usize>load<u32>(b), <usize>load<u32>(b, 4), load<u32>(b, 8), true);
    if (id < 0) return false;
    store<u32>(outRefs + (<usize>outRefCount << 2), <u32>id);
    outRefCount++;
  }
  return true;
}

/**
 * One entry object at p (its "{"): the end after its "}" with its columns
 * written at outEntries, or 0 (nothing written, references rolled back).
 */
function entryEnd(p: usize, lim: usize, requireNarSize: bool, keyId: i32): usize {
  const refMark = outRefCount;
  const end = entryBody(p, lim, requireNarSize, keyId);
  if (end == 0) outRefCount = refMark;
  return end;
}

function entryBody(p: usize, lim: usize, requireNarSize: bool, keyId: i32): usize {
  let seen: u32 = 0;
  let pathId: u32 = <u32>keyId;
  let nar: f64 = 0;
  let closure: f64 = NaN;
  p = skipSpace(p + 1, lim);
  for (;;) {
    if (p >= lim || load<u8>(p) != 0x22) return 0;
    const ke = plainEnd(p + 1, lim);
    if (ke == 0) return 0;
    const field = fieldOf(p + 1, ke - p - 1);
    if ((seen & field) != 0) return 0;
    seen |= field;
    p = skipSpace(ke + 1, lim);
    if (p >= lim || load<u8>(p) != 0x3a) return 0;
    p = skipSpace(p + 1, lim);
    if (p >= lim) return 0;
    if (field == F_PATH) {
      if (keyId >= 0) return 0; // path-info object form: the key is the path
      if (load<u8>(p) != 0x22) return 0;
      const q = plainEnd(p + 1, lim);
      if (q <= p + 1) return 0; // not plain, or the empty string
      const id = internKey(p + 1, q - p - 1, true);
      if (id < 0) return 0;
      pathId = <u32>id;
      p = q + 1;
    } else if (field == F_NAR_SIZE) {
      p = uintEnd(p, lim);
      if (p == 0) return 0;
      nar = numValue;
    } else if (field == F_CLOSURE_SIZE) {
      p = uintEnd(p, lim);
      if (p == 0) return 0;
      closure = numValue;
    } else if (field == F_REFERENCES) {
      if (load<u8>(p) != 0x5b) return 0;
      p = skipSpace(p + 1, lim);
      if (p >= lim) return 0;
      if (load<u8>(p) == 0x5d) p++;
      else {
        // References are gathered in batches and interned together (see internBatch).
        let nb: u32 = 0;
        for (;;) {
          if (load<u8>(p) != 0x22) return 0;
          const q = plainEnd(p + 1, lim);
          if (q <= p + 1) return 0;
          if (nb == BATCH && !internBatch(nb)) return 0;
          if (nb == BATCH) nb = 0;
          const b = batch + <usize>nb * 12;
          const n = q - p - 1;
          store<u32>(b, <u32>(p + 1));
          store<u32>(b, <u32>n, 4);
          store<u32>(b, hashOf(p + 1, n), 8);
          nb++;
          p = skipSpace(q + 1, lim);
          if (p >= lim) return 0;
          const c = load<u8>(p);
          if (c == 0x5d) {
            p++;
            break;
          }
          if (c != 0x2c) return 0;
          p = skipSpace(p + 1, lim);
          if (p >= lim) return 0;
        }
        if (!internBatch(nb)) return 0;
      }
    } else {
      p = otherEnd(p, lim);
      if (p == 0) return 0;
    }
    p = skipSpace(p, lim);
    if (p >= lim) return 0;
    const c = load<u8>(p);
    if (c == 0x2c) {
      p = skipSpace(p + 1, lim);
      continue;
    }
    if (c != 0x7d) return 0;
    // The entry is complete: it must have its path (and narSize when required).
    if ((seen & F_PATH) == 0 && keyId < 0) return 0;
    if ((seen & F_NAR_SIZE) == 0 && requireNarSize) return 0;
    const i = <usize>outEntries;
    store<u32>(outPath + (i << 2), pathId);
    store<f64>(outNar + (i << 3), nar);
    store<f64>(outClosure + (i << 3), closure);
    store<u32>(outRefEnd + (i << 2), outRefCount);
    outEntries++;
    return p + 1;
  }
  return 0; // not reached
}

/**
 * Reads whole entries from input[start] (an entry's "{") while they follow
 * one another ("," between them) before input[end]. Returns the offset after
 * the last whole entry's "}" (start when there is none); readerEntries and
 * the out columns tell what was read.
 */
export function readerScan(start: usize, end: usize, requireNarSize: u32): usize {
  outEntries = 0;
  outRefCount = 0;
  const lim = input + end;
  let p = input + start;
  let done = p;
  while (outEntries < maxEntries) {
    const q = entryEnd(p, lim, requireNarSize != 0, -1);
    if (q == 0) break;
    done = q;
    p = skipSpace(q, lim);
    if (p >= lim || load<u8>(p) != 0x2c) break;
    p = skipSpace(p + 1, lim);
    if (p >= lim || load<u8>(p) != 0x7b) break;
  }
  return done - input;
}

/**
 * The path-info object form (`nix path-info --json` of newer Nix): reads
 * whole `"<store path>": {entry}` members from input[start] (a key's quote)
 * while they follow one another, as readerScan does for list entries; the
 * entry's path is its key (an entry with its own "path" field is left to the
 * parser). Returns the offset after the last whole member's "}".
 */
export function readerScanObject(start: usize, end: usize, requireNarSize: u32): usize {
  outEntries = 0;
  outRefCount = 0;
  const lim = input + end;
  let p = input + start;
  let done = p;
  while (outEntries < maxEntries) {
    if (p + 1 >= lim || load<u8>(p) != 0x22 || load<u8>(p + 1) != 0x2f) break;
    const ke = plainEnd(p + 1, lim);
    if (ke == 0) break;
    let q = skipSpace(ke + 1, lim);
    if (q >= lim || load<u8>(q) != 0x3a) break;
    q = skipSpace(q + 1, lim);
    if (q >= lim || load<u8>(q) != 0x7b) break;
    const id = internKey(p + 1, ke - p - 1, true);
    if (id < 0) break;
    const e = entryEnd(q, lim, requireNarSize != 0, id);
    if (e == 0) break;
    done = e;
    p = skipSpace(e, lim);
    if (p >= lim || load<u8>(p) != 0x2c) break;
    p = skipSpace(p + 1, lim);
  }
  return done - input;
}
