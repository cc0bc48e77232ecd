// Path interning for the streaming closure reader: every distinct string gets
// an id and one JS string; every later occurrence (a reference to a path seen
// before: ~7 per path in real closures) is found by hashing and comparing its
// bytes in place, with no JS string, no decoding and no re-validation.
//
// Keys are the UTF-8 (WTF-8 for lone surrogates) bytes of a string's value,
// kept in one byte arena, so an escaped and a plain spelling of a path meet.
// A key is "plain" when its bytes contain no quote, backslash, control byte
// or byte >= 0x80: raw JSON string bytes equal to a plain key spell the same
// value and are valid JSON, which is why a hit on a plain key needs no check.
//
// The hash reads four bytes at a time (FNV-1a style mixing of 32-bit words,
// then a final avalanche); it covers every byte, so no input makes all keys
// collide by sharing a long prefix.
import { STRING_CLASS } from "./tokens.js";

/** Hash of bytes[start, end). */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = (0x811c9dc5 ^ (end - start)) | 0;
  let i = start;
  const stop = end - 3;
  for (; i < stop; i += 4) {
    const w = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    h = Math.imul(h ^ w, 0x01000193);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

/** Whether bytes[start, end) are all plain (see above). */
export function plainBytes(bytes: Uint8Array, start: number, end: number): boolean {
  const cls = STRING_CLASS;
  for (let i = start; i < end; i++) if (cls[bytes[i]] !== 0) return false;
  return true;
}

/** What the parser needs of an interner: this one, or the Wasm fast path's (wasm-interner.ts). */
export interface PathInterner {
  readonly size: number;
  readonly strings: string[];
  readonly rehashes: number;
  stringOf(id: number): string;
  findPlain(bytes: Uint8Array, start: number, end: number, h: number): number;
  intern(bytes: Uint8Array, start: number, end: number, h: number, value: string | null): number;
  internValue(s: string): number;
}

/**
 * Open addressing (linear probing) over hashBytes; string ids are dense, in
 * first-seen order. A slot holds everything a lookup needs (hash, id, where
 * the key's bytes are, their length and plainness), so a lookup touches one
 * slot and the key's bytes: about two cache misses on a large closure.
 * JS strings are made at the end, all at once (see `strings`).
 */
export class Interner implements PathInterner {
  private arena: Uint8Array;
  private used = 0;
  /** Per slot: hash, id + 1 (0 = empty), key start in the arena, key length | PLAIN. */
  private table: Int32Array;
  private mask: number;
  private count = 0;
  /** Key start and length by id (for `strings`). */
  private keyStart: Uint32Array;
  private keyLen: Uint32Array;
  /** JS strings given for keys that were decoded (escapes, non-ASCII); undefined for plain ASCII keys. */
  private values: (string | undefined)[] = [];
  private made: string[] | null = null;
  private scratch = new Uint8Array(256);
  /** Times the table grew (tests: a sized interner never grows on a normal closure). */
  rehashes = 0;

  /**
   * `expectedBytes`: the input's length when known (0: unknown). The table,
   * arena and id columns are then sized for the closure such an input
   * normally holds (see `internerSizes`), so a normal closure never rehashes.
   */
  constructor(expectedBytes = 0) {
    const z = internerSizes(expectedBytes);
    this.arena = new Uint8Array(z.arenaBytes);
    this.table = new Int32Array(4 * z.slots);
    this.mask = z.slots - 1;
    this.keyStart = new Uint32Array(z.keys);
    this.keyLen = new Uint32Array(z.keys);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Every string by id. Made once, when first asked for (normally after the
   * last chunk): the arena becomes one JS string of the same length (one char
   * per byte) and every ASCII key a slice of it, which costs V8 a small
   * object per key instead of a copy, and no per-key call while parsing.
   */
  get strings(): string[] {
    if (this.made !== null && this.made.length === this.count) return this.made;
    // Past a quarter of V8's longest string, one string per key instead.
    const text = this.used <= 1 << 27 ? arenaText(this.arena, this.used) : null;
    const out: string[] = new Array(this.count);
    for (let id = 0; id < this.count; id++) {
      const start = this.keyStart[id];
      const end = start + this.keyLen[id];
      out[id] = this.values[id] ?? (text !== null ? text.slice(start, end) : byteString(this.arena, start, end));
    }
    this.made = out;
    return out;
  }

  /** The string of one id, without making them all (messages, path-info keys). */
  stringOf(id: number): string {
    if (this.made !== null && id < this.made.length) return this.made[id];
    return this.values[id] ?? byteString(this.arena, this.keyStart[id], this.keyStart[id] + this.keyLen[id]);
  }

  /**
   * Id of the plain key equal to bytes[start, end) (hash h), or -1. A hit
   * means the bytes are a valid JSON string body with that value.
   */
  findPlain(bytes: Uint8Array, start: number, end: number, h: number): number {
    const want = (end - start) | PLAIN;
    const arena = this.arena;
    const table = this.table;
    const mask = this.mask;
    let slot = h & mask;
    for (;;) {
      const t = slot << 2;
      const e = table[t + 1];
      if (e === 0) return -1;
      if (table[t] === h && table[t + 3] === want) {
        if (sameBytes(arena, table[t + 2], bytes, start, end)) return e - 1;
      }
      slot = (slot + 1) & mask;
    }
  }

  /**
   * Id of the key bytes[start, end) with hash h, adding it when new; `value`
   * is its JS string when the caller has it (else the bytes are ASCII).
   */
  intern(bytes: Uint8Array, start: number, end: number, h: number, value: string | null): number {
    const len = end - start;
    const table = this.table;
    let slot = h & this.mask;
    for (;;) {
      const t = slot << 2;
      const e = table[t + 1];
      if (e === 0) break;
      if (table[t] === h && (table[t + 3] & LENGTH) === len) {
        if (sameBytes(this.arena, table[t + 2], bytes, start, end)) return e - 1;
      }
      slot = (slot + 1) & this.mask;
    }
    const id = this.count++;
    if (id >= this.keyStart.length) this.growKeys();
    if (this.used + len > this.arena.length) this.growArena(len);
    this.arena.set(bytes.subarray(start, end), this.used);
    this.keyStart[id] = this.used;
    this.keyLen[id] = len;
    if (value !== null) this.values[id] = value;
    const t = slot << 2;
    table[t] = h;
    table[t + 1] = id + 1;
    table[t + 2] = this.used;
    table[t + 3] = plainBytes(bytes, start, end) ? len | PLAIN : len;
    this.used += len;
    if ((id + 1) * 2 > this.mask) this.rehash();
    return id;
  }

  /** Id of a JS string (decoded from an escaped or non-ASCII token), by its WTF-8 bytes. */
  internValue(s: string): number {
    if (this.scratch.length < s.length * 3) this.scratch = new Uint8Array(Math.max(s.length * 3, this.scratch.length * 2));
    const bytes = this.scratch;
    const n = wtf8(s, bytes);
    return this.intern(bytes, 0, n, hashBytes(bytes, 0, n), s);
  }

  private growKeys(): void {
    const cap = this.keyStart.length * 2;
    const s = new Uint32Array(cap);
    s.set(this.keyStart);
    this.keyStart = s;
    const l = new Uint32Array(cap);
    l.set(this.keyLen);
    this.keyLen = l;
  }

  private growArena(need: number): void {
    const a = new Uint8Array(Math.max(this.arena.length * 2, this.used + need));
    a.set(this.arena.subarray(0, this.used));
    this.arena = a;
  }

  private rehash(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    const table = new Int32Array(4 * cap);
    const mask = cap - 1;
    for (let t = 0; t < old.length; t += 4) {
      if (old[t + 1] === 0) continue;
      let slot = old[t] & mask;
      while (table[(slot << 2) + 1] !== 0) slot = (slot + 1) & mask;
      const n = slot << 2;
      table[n] = old[t];
      table[n + 1] = old[t + 1];
      table[n + 2] = old[t + 2];
      table[n + 3] = old[t + 3];
    }
    this.table = table;
    this.mask = mask;
    this.rehashes++;
  }
}

/**
 * Starting sizes of an interner for an input of `bytes` bytes (0: unknown).
 * Closure JSON spends about 500 bytes or more per distinct path (an entry's
 * path, its references, narHash, ...: 470 to 670 in the closures of
 * ../shared/data and the generated ones, more with path-info's signatures),
 * and a distinct path is at most about an eighth of that; the table keeps its
 * load under one half, so it holds 2 slots per expected path. A denser input
 * only grows as before. A table sized far beyond the closure would cost
 * cache and TLB misses on every lookup, so the estimate is not padded.
 */
export function internerSizes(bytes: number): { slots: number; arenaBytes: number; keys: number } {
  const paths = Math.ceil(bytes / 500);
  let slots = 2048;
  while (slots < 2 * paths + 2 && slots < 1 << 26) slots *= 2;
  return {
    slots,
    arenaBytes: Math.max(1 << 16, Math.min(Math.ceil(bytes / 8), 1 << 30)),
    keys: Math.max(1024, Math.min(paths, 1 << 26)),
  };
}

/** Marks a plain key in a slot's length word. */
const PLAIN = 1 << 30;
const LENGTH = PLAIN - 1;

/**
 * The arena as one JS string of one char per byte, for slicing keys out of
 * it. ASCII (every key but decoded ones, whose strings are kept apart) is
 * decoded by TextDecoder, far faster than char codes; an arena holding other
 * bytes is made char by char (Latin-1) so offsets stay byte offsets.
 */
export function arenaText(bytes: Uint8Array, used: number): string {
  const text = asciiDecoder.decode(bytes.subarray(0, used));
  return text.length === used ? text : byteString(bytes, 0, used);
}

const asciiDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** A JS string with one char per byte (Latin-1), made 4 KiB at a time. */
export function byteString(bytes: Uint8Array, start: number, end: number): string {
  if (end - start < 4096) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let s = "";
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

/** Writes the WTF-8 bytes of s (UTF-8, lone surrogates as 3 bytes) into out (length >= 3 * s.length); returns the length. */
export function wtf8(s: string, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/** Whether arena[a, a + end - start) holds the same bytes as bytes[start, end). */
function sameBytes(arena: Uint8Array, a: number, bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && arena[a] === bytes[i]) {
    a++;
    i++;
  }
  return i === end;
}
