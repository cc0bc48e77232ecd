// Tar headers exactly as CPython's tarfile writes them in its default PAX
// format (what nixpkgs' stream_layered_image.py uses): a ustar header, preceded
// by a PAX extended header when a name or link does not fit or is not ASCII,
// an owner name is too long or not ASCII, or a number overflows its field.
//
// Names are raw bytes (file names on Linux are not always UTF-8). Python sees
// them as strings decoded with surrogateescape: each byte that is not part of a
// well-formed UTF-8 sequence becomes one character U+DC80..U+DCFF. Lengths,
// the "is it ASCII" test and the `?` substitution are therefore done per
// decoded character, and the PAX records say `hdrcharset=BINARY` when a value
// holds such an escaped byte. Hand-written (no npm tar library) because the
// exact bytes matter: no library reproduces these Python rules.

export const BLOCK = 512;
/** tarfile's record size: every archive is padded to a multiple of it. */
export const RECORD = 10240;

export const REGTYPE = 0x30; // '0'
export const SYMTYPE = 0x32; // '2'
export const DIRTYPE = 0x35; // '5'
const XHDTYPE = 0x78; // 'x'

export interface TarEntry {
  /** Raw bytes of the name as Python's str would encode it (directories: without or with the trailing '/'). */
  name: Uint8Array;
  type: number;
  mode: number;
  uid: number;
  gid: number;
  uname: Uint8Array;
  gname: Uint8Array;
  size: number;
  mtime: number;
  linkname?: Uint8Array;
  /**
   * PAX records the entry already carries (a member copied from another
   * archive, as tarfile keeps TarInfo.pax_headers), in their order. They are
   * written first; a field they cover is not tested again.
   */
  pax?: readonly (readonly [string, Uint8Array])[];
}

/** Facts about a byte string seen as a surrogateescape-decoded Python str. */
interface PyText {
  /** number of characters */
  chars: number;
  /** all bytes < 0x80 */
  ascii: boolean;
  /** some byte was not valid UTF-8 (a surrogate-escaped character) */
  escaped: boolean;
}

/**
 * Length in bytes of the well-formed UTF-8 sequence starting at `i`, or 0 when
 * the byte there starts none (CPython's strict decoder rules: no overlongs, no
 * surrogates, nothing above U+10FFFF).
 */
export function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The code points Python sees for these bytes (surrogateescape decoding). */
export function pyCodePoints(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length;) {
    const n = utf8SequenceLength(b, i);
    const c = b[i];
    if (n === 1) out.push(c);
    else if (n === 0) out.push(0xdc00 + c);
    else if (n === 2) out.push(((c & 0x1f) << 6) | (b[i + 1] & 0x3f));
    else if (n === 3) out.push(((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f));
    else out.push(((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f));
    i += n === 0 ? 1 : n;
  }
  return out;
}

function pyText(b: Uint8Array): PyText {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { chars: b.length, ascii, escaped: false };
  let chars = 0;
  let escaped = false;
  for (let i = 0; i < b.length; chars++) {
    const n = utf8SequenceLength(b, i);
    if (n === 0) escaped = true;
    i += n === 0 ? 1 : n;
  }
  return { chars, ascii, escaped };
}

/** str.encode("ascii", "replace"): one '?' per non-ASCII character. */
function asciiReplace(b: Uint8Array): Uint8Array {
  let ascii = true;
  for (let i = 0; i < b.length && ascii; i++) ascii = b[i] < 0x80;
  if (ascii) return b;
  const out: number[] = [];
  for (let i = 0; i < b.length;) {
    if (b[i] < 0x80) {
      out.push(b[i]);
      i++;
      continue;
    }
    const n = utf8SequenceLength(b, i);
    out.push(0x3f);
    i += n === 0 ? 1 : n;
  }
  return Uint8Array.from(out);
}

/** Encodes a JS string as Python would with surrogateescape (lone U+DC80..U+DCFF become raw bytes). */
export function pyEncode(s: string): Uint8Array {
  if (!/[\ud800-\udfff]/.test(s)) return Buffer.from(s, "utf8");
  const parts: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) parts.push(cp - 0xdc00);
    else for (const byte of Buffer.from(ch, "utf8")) parts.push(byte);
  }
  return Uint8Array.from(parts);
}

function putBytes(buf: Uint8Array, off: number, value: Uint8Array, len: number): void {
  buf.set(value.length > len ? value.subarray(0, len) : value, off);
}

function putOctal(buf: Uint8Array, off: number, n: number, digits: number): void {
  // digits - 1 octal digits, zero-padded, then NUL (the caller checked the range)
  const s = n.toString(8).padStart(digits - 1, "0");
  for (let i = 0; i < s.length; i++) buf[off + i] = s.charCodeAt(i);
  buf[off + digits - 1] = 0;
}

const USTAR_MAGIC = Uint8Array.from([0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30]); // "ustar\0" "00"

function ustarHeader(
  name: Uint8Array,
  type: number,
  mode: number,
  uid: number,
  gid: number,
  size: number,
  mtime: number,
  linkname: Uint8Array,
  uname: Uint8Array,
  gname: Uint8Array,
): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putBytes(h, 0, name, 100);
  putOctal(h, 100, mode & 0o7777, 8);
  putOctal(h, 108, uid, 8);
  putOctal(h, 116, gid, 8);
  putOctal(h, 124, size, 12);
  putOctal(h, 136, mtime, 12);
  h.fill(0x20, 148, 156);
  h[156] = type;
  putBytes(h, 157, linkname, 100);
  h.set(USTAR_MAGIC, 257);
  putBytes(h, 265, uname, 32);
  putBytes(h, 297, gname, 32);
  // devmajor, devminor: 8 NULs each; prefix: 155 NULs (already zero)
  return putChecksum(h);
}

/**
 * Fills in the checksum of a header whose checksum field holds eight spaces:
 * six octal digits, NUL, space (as GNU tar and Python write it). Returns `h`.
 */
export function putChecksum(h: Uint8Array): Uint8Array {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  const s = sum.toString(8).padStart(6, "0");
  for (let i = 0; i < 6; i++) h[148 + i] = s.charCodeAt(i);
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

const ASCII = new TextEncoder();

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const base = key.length + value.length + 3; // ' ', '=', '\n'
  let len = 0;
  for (let p = 0; ;) {
    len = base + String(p).length;
    if (len === p) break;
    p = len;
  }
  const head = ASCII.encode(`${len} ${key}=`);
  const out = new Uint8Array(len);
  out.set(head, 0);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

/** Zero bytes that pad `size` bytes of data to a whole block. */
export function blockPadding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/**
 * The header bytes of one entry (PAX extended header + its records when
 * needed, then the ustar header), exactly as tarfile's PAX format writes them.
 * Directories get their trailing '/' added here when missing.
 */
export function tarHeader(e: TarEntry): Uint8Array {
  let name = e.name;
  if (e.type === DIRTYPE && (name.length === 0 || name[name.length - 1] !== 0x2f)) {
    const n = new Uint8Array(name.length + 1);
    n.set(name);
    n[name.length] = 0x2f;
    name = n;
  }
  const linkname = e.linkname ?? new Uint8Array(0);
  const pax: [string, Uint8Array][] = (e.pax ?? []).map(([k, v]) => [k, v]);
  const has = new Set(pax.map(([k]) => k));
  const text: [string, Uint8Array, number][] = [
    ["path", name, 100],
    ["linkpath", linkname, 100],
    ["uname", e.uname, 32],
    ["gname", e.gname, 32],
  ];
  for (const [key, value, max] of text) {
    if (has.has(key)) continue;
    const t = pyText(value);
    if (!t.ascii || t.chars > max) pax.push([key, value]);
  }
  const nums: [string, number, number][] = [
    ["uid", e.uid, 8],
    ["gid", e.gid, 8],
    ["size", e.size, 12],
    ["mtime", e.mtime, 12],
  ];
  const fields: number[] = [];
  for (const [key, value, digits] of nums) {
    if (value >= 0 && value < 8 ** (digits - 1)) fields.push(value);
    else {
      fields.push(0);
      if (!has.has(key)) pax.push([key, ASCII.encode(String(value))]);
    }
  }
  const binary = pax.some(([, v]) => pyText(v).escaped);
  const header = ustarHeader(
    asciiReplace(name),
    e.type,
    e.mode,
    fields[0],
    fields[1],
    fields[2],
    fields[3],
    asciiReplace(linkname),
    asciiReplace(e.uname),
    asciiReplace(e.gname),
  );
  if (pax.length === 0) return header;
  const records: Uint8Array[] = [];
  if (binary) records.push(paxRecord("hdrcharset", ASCII.encode("BINARY")));
  for (const [k, v] of pax) records.push(paxRecord(k, v));
  const recLen = records.reduce((n, r) => n + r.length, 0);
  const paxHead = ustarHeader(ASCII.encode("././@PaxHeader"), XHDTYPE, 0, 0, 0, recLen, 0, new Uint8Array(0), new Uint8Array(0), new Uint8Array(0));
  const out = new Uint8Array(BLOCK + recLen + blockPadding(recLen) + BLOCK);
  out.set(paxHead, 0);
  let off = BLOCK;
  for (const r of records) {
    out.set(r, off);
    off += r.length;
  }
  out.set(header, out.length - BLOCK);
  return out;
}

/** The end of an archive of `offset` bytes so far: two zero blocks, then zeros up to a whole record. */
export function tarEnd(offset: number): Uint8Array {
  const end = offset + 2 * BLOCK;
  const r = end % RECORD;
  return new Uint8Array(2 * BLOCK + (r === 0 ? 0 : RECORD - r));
}
