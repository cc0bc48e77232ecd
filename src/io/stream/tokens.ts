// The byte level of the streaming closure reader: JSON tokens over UTF-8
// bytes (strings, numbers, literals), with JSON.parse's grammar and strict
// UTF-8, and no JS string made unless a caller asks for a token's value.
// Every function works on one buffer and returns the position after the token,
// or NEED_MORE when the token may continue in the next chunk.
//
// Hand-written rather than an npm tokenizer: an event-per-token library makes
// a JS string per string token (7.4M reference strings at 1M paths) just to
// look it up again; here a path is hashed and compared in place (interner.ts).
import { InputError } from "../../errors.js";

export const NEED_MORE = -1;

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;

/** Thrown for JSON syntax errors; the parser turns it into an InputError naming the byte offset. */
export class SyntaxFault {
  constructor(
    readonly detail: string,
    readonly offset: number,
  ) {}
}

/**
 * Byte classes inside a string: 0 plain ASCII, 1 quote, 2 backslash,
 * 3 control character, 4 a byte of a multi-byte UTF-8 sequence.
 */
export const STRING_CLASS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STRING_CLASS[b] = 3;
STRING_CLASS[QUOTE] = 1;
STRING_CLASS[BACKSLASH] = 2;
for (let b = 0x80; b < 0x100; b++) STRING_CLASS[b] = 4;

/** The message part of an "Unexpected token" fault for the byte at pos. */
export function unexpectedByte(buf: Uint8Array, pos: number, base: number): SyntaxFault {
  const b = buf[pos];
  const shown = b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, "0")}`;
  return new SyntaxFault(`Unexpected token ${shown}`, base + pos);
}

/**
 * Strings: the end of the string token at pos (the index after its closing
 * quote), checking escapes, control characters and UTF-8. `plain` tells
 * whether the last string found had neither escapes nor non-ASCII bytes.
 */
export class StringScanner {
  plain = true;
  constructor(readonly what: string) {}

  /** End of the string at pos (buf[pos] is its opening quote), or NEED_MORE; sets `plain`. */
  end(buf: Uint8Array, pos: number, base: number): number {
    const len = buf.length;
    const cls = STRING_CLASS;
    let plain = true;
    let high = false;
    let i = pos + 1;
    while (i < len) {
      const c0 = cls[buf[i]];
      if (c0 === 0) {
        i++;
        continue;
      }
      if (c0 === 1) break;
      if (c0 === 2) {
        plain = false;
        if (i + 1 >= len) return NEED_MORE;
        const c = buf[i + 1];
        if (c === 0x75) {
          if (i + 6 > len) return NEED_MORE;
          for (let k = i + 2; k < i + 6; k++) {
            if (hexValue(buf[k]) < 0) throw new SyntaxFault("Bad Unicode escape in JSON string", base + k);
          }
          i += 6;
          continue;
        }
        if (c !== QUOTE && c !== BACKSLASH && c !== 0x2f && c !== 0x62 && c !== 0x66 && c !== 0x6e && c !== 0x72 && c !== 0x74) {
          throw new SyntaxFault("Bad escaped character in JSON string", base + i + 1);
        }
        i += 2;
        continue;
      }
      if (c0 === 3) throw new SyntaxFault("Bad control character in string literal", base + i);
      high = true;
      i++;
    }
    if (i >= len) return NEED_MORE;
    if (high) {
      plain = false;
      if (!validUtf8(buf, pos + 1, i)) throw new InputError("invalid-json", `${this.what} is not valid UTF-8 text`);
    }
    this.plain = plain;
    return i + 1;
  }

  /** Checks a string without making it: the end, or NEED_MORE. */
  skip(buf: Uint8Array, pos: number, base: number): number {
    const q = buf.indexOf(QUOTE, pos + 1);
    if (q < 0) return this.end(buf, pos, base);
    const cls = STRING_CLASS;
    for (let i = pos + 1; i < q; i++) if (cls[buf[i]] !== 0) return this.end(buf, pos, base);
    return q + 1;
  }
}

/** The value of an already checked string body buf[start, end). */
export function decodeString(buf: Uint8Array, start: number, end: number): string {
  let plain = true;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b === BACKSLASH || b >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return latin1(buf, start, end);
  let out = "";
  let run = start;
  let i = start;
  while (i < end) {
    if (buf[i] !== BACKSLASH) {
      i++;
      continue;
    }
    if (run < i) out += utf8Text(buf, run, i);
    const c = buf[i + 1];
    if (c === 0x75) {
      out += String.fromCharCode((hexValue(buf[i + 2]) << 12) | (hexValue(buf[i + 3]) << 8) | (hexValue(buf[i + 4]) << 4) | hexValue(buf[i + 5]));
      i += 6;
    } else {
      out += ESCAPES[c];
      i += 2;
    }
    run = i;
  }
  if (run < end) out += utf8Text(buf, run, end);
  return out;
}

/** End of the JSON number at pos, checking its grammar; NEED_MORE if it may continue. */
export function scanNumber(buf: Uint8Array, pos: number, final: boolean, base: number): number {
  const len = buf.length;
  let i = pos;
  const bad = (at: number): never => {
    if (at >= len) throw new SyntaxFault("Unexpected end of JSON input", base + at);
    throw new SyntaxFault(`Unexpected token ${JSON.stringify(String.fromCharCode(buf[at]))} in number`, base + at);
  };
  if (buf[i] === 0x2d) i++;
  if (i >= len) return final ? bad(i) : NEED_MORE;
  if (buf[i] === 0x30) i++;
  else if (buf[i] >= 0x31 && buf[i] <= 0x39) while (i < len && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  else bad(i);
  if (i < len && buf[i] === 0x2e) {
    i++;
    if (i >= len) return final ? bad(i) : NEED_MORE;
    if (!(buf[i] >= 0x30 && buf[i] <= 0x39)) bad(i);
    while (i < len && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  }
  if (i < len && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    if (i < len && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    if (i >= len) return final ? bad(i) : NEED_MORE;
    if (!(buf[i] >= 0x30 && buf[i] <= 0x39)) bad(i);
    while (i < len && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  }
  // A number touching the end of the chunk may go on in the next one.
  if (i >= len && !final) return NEED_MORE;
  return i;
}

/** The value JSON.parse gives the number text buf[start, end). */
export function numberAt(buf: Uint8Array, start: number, end: number): number {
  if (end - start <= 15) {
    // Plain integers of up to 15 digits are exact in a double.
    let v = 0;
    let i = start;
    const neg = buf[i] === 0x2d;
    if (neg) i++;
    for (; i < end; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) return Number(latin1(buf, start, end));
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }
  return Number(latin1(buf, start, end));
}

/** A JS string of ASCII bytes (or UTF-8 above 4 KiB). */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start < 4096) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  return utf8Text(buf, start, end);
}

// ignoreBOM: a string token starting with U+FEFF keeps it (JSON.parse does); only the
// document's leading byte order mark is dropped (by the parser).
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function utf8Text(buf: Uint8Array, start: number, end: number): string {
  return textDecoder.decode(buf.subarray(start, end));
}

const ESCAPES: string[] = [];
ESCAPES[QUOTE] = '"';
ESCAPES[BACKSLASH] = "\\";
ESCAPES[0x2f] = "/";
ESCAPES[0x62] = "\b";
ESCAPES[0x66] = "\f";
ESCAPES[0x6e] = "\n";
ESCAPES[0x72] = "\r";
ESCAPES[0x74] = "\t";

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/** Strict UTF-8 check (as TextDecoder's fatal mode): no overlongs, surrogates or values above U+10FFFF. */
export function validUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) ((need = 1), (min = 0x80), (cp = b & 0x1f));
    else if (b >= 0xe0 && b <= 0xef) ((need = 2), (min = 0x800), (cp = b & 0x0f));
    else if (b >= 0xf0 && b <= 0xf4) ((need = 3), (min = 0x10000), (cp = b & 0x07));
    else return false;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (i + k >= end || (c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}
