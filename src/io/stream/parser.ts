// The grammar of the streaming closure reader: a pushdown JSON parser over
// UTF-8 chunks of any size that knows where a closure's entries, paths and
// references sit, and hands them to the document rules (closure-shape.ts)
// without making JS values for them. Other values are rebuilt as JS values
// only where a result or a message needs them (pipeline, roots, odd values),
// or only syntax-checked (narHash, _meta, ...).
//
// Hot paths, by what a closure is made of: a reference list runs in one tight
// loop (refs), and a path seen before is found by hashing and comparing its
// bytes in place (interner.ts), so most of the input is touched about twice
// (indexOf for the closing quote, then the compare).
import { InputError } from "../../errors.js";
import type { ClosureDocument } from "../../graph/document.js";
import {
  ARRAY,
  ClosureShape,
  F_NAR_SIZE,
  F_PATH,
  F_REFERENCES,
  K_GRAPH,
  K_OTHER,
  K_STORE_PATH,
  OBJECT,
  fieldOf,
  fieldOfName,
  topKeyCode,
  type ReaderBackend,
} from "./closure-shape.js";
import { hashBytes } from "./interner.js";
import { NEED_MORE, QUOTE, STRING_CLASS, StringScanner, SyntaxFault, decodeString, numberAt, scanNumber, unexpectedByte } from "./tokens.js";

export interface ParserOptions {
  readonly requireNarSize?: boolean;
  readonly what?: string;
  readonly maxTokenBytes?: number;
  /** The input's length in bytes when known (a file's size, a Blob's), to size the interner up front. */
  readonly expectedBytes?: number;
  /**
   * "wasm" (default): a Wasm scanner reads plain entries, this parser the rest;
   * "wasm-debug": the same on the debug Wasm build (tests); "ts": this parser alone.
   * Results and messages are the same.
   */
  readonly reader?: ReaderBackend;
}

// What a container is, which decides how its children are handled.
const R_SKIP = 0; // syntax only (_meta, narHash objects, ...)
const R_BUILD = 1; // rebuilt as a JS value (pipeline, roots, odd values for messages)
const R_LIST = 2; // a list of closure entries ($ or $.graph)
const R_ENTRY = 3; // one entry object
const R_REFS = 4; // an entry's references list
const R_TOP = 5; // the top-level object (attrs document or path-info object)

// Parser states.
const S_VALUE_OR_CLOSE = 0; // just after "["
const S_VALUE = 1; // after "," in an array or ":" in an object
const S_COMMA_OR_CLOSE = 2;
const S_KEY_OR_CLOSE = 3; // just after "{"
const S_KEY = 4; // after "," in an object
const S_COLON = 5;
const S_DONE = 6; // root only: the value is complete

interface Frame {
  kind: number;
  role: number;
  state: number;
  /** Entry field or top-level key code of the value being read. */
  field: number;
  /** Key of the value being read (R_BUILD, R_TOP). */
  key: string;
  /** Elements so far (arrays). */
  index: number;
  /** The JS value under construction (R_BUILD). */
  value: unknown;
}

function newFrame(kind: number, role: number): Frame {
  return { kind, role, state: S_VALUE, field: 0, key: "", index: 0, value: undefined };
}

/** JSON's four whitespace bytes. */
function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * The streaming parser. push() chunks in order, then end() for the document.
 * Throws InputError exactly where JSON.parse + readClosureDocument would fail.
 */
export class ClosureStreamParser {
  private readonly what: string;
  private readonly maxTokenBytes: number;
  private readonly strings: StringScanner;
  private readonly shape: ClosureShape;

  private carry: Uint8Array | null = null;
  /** Absolute offset of the current buffer's first byte. */
  private base = 0;
  private started = false;
  private stack: Frame[] = [];
  private depth = 0;
  private root: Frame = newFrame(ARRAY, R_BUILD);

  /** Id and length of the string interned last. */
  private lastId = 0;
  private lastLen = 0;

  /** Bytes of JSON consumed so far. */
  bytes = 0;

  constructor(options: ParserOptions = {}) {
    this.what = options.what ?? "input";
    this.maxTokenBytes = options.maxTokenBytes ?? 256 * 1024 * 1024;
    this.strings = new StringScanner(this.what);
    this.shape = new ClosureShape(options.requireNarSize ?? true, options.expectedBytes ?? 0, options.reader ?? "wasm");
  }

  /** Closure entries read so far. */
  get entries(): number {
    return this.shape.cols.count;
  }

  /** Entries the Wasm scanner read (0 with reader "ts"); tests use it to see the fast path taken. */
  get fastEntries(): number {
    return this.shape.fast?.scanned ?? 0;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // A plain Uint8Array view of Buffers and other subclasses: one element kind keeps the byte loops monomorphic.
    let rest = Object.getPrototypeOf(chunk) === Uint8Array.prototype ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    this.bytes += chunk.length;
    // A token left over from the last chunk is finished on a copy of it and the chunk's first
    // bytes only (the chunk itself is not copied): pieces of at least 64 KiB, until the parser
    // is past the old bytes.
    while (this.carry !== null) {
      const carry = this.carry;
      this.carry = null;
      const take = Math.min(rest.length, Math.max(1 << 16, carry.length));
      const joined = new Uint8Array(carry.length + take);
      joined.set(carry);
      joined.set(rest.subarray(0, take), carry.length);
      const before = this.base;
      // Only at the chunk's end is a left-over token measured against maxTokenBytes (as before pieces).
      this.run(joined, false, take === rest.length);
      if (take === rest.length) return; // the whole chunk was in the piece (run kept what is left)
      const consumed = this.base - before;
      if (consumed >= carry.length) {
        // Past the old bytes: what run kept of this piece is read again from the chunk.
        this.carry = null;
        rest = rest.subarray(consumed - carry.length);
        break;
      }
      rest = rest.subarray(take); // still in the old token: run kept it, with the piece
    }
    if (rest.length > 0) this.run(rest, false);
  }

  end(): ClosureDocument {
    const buf = this.carry ?? new Uint8Array(0);
    this.carry = null;
    this.run(buf, true);
    if (this.root.state !== S_DONE) this.fail("Unexpected end of JSON input", this.base + buf.length);
    return this.shape.finish();
  }

  // ---- the grammar --------------------------------------------------------------

  private run(buf: Uint8Array, final: boolean, atChunkEnd = true): void {
    let pos = 0;
    if (!this.started) {
      // TextDecoder (the JSON.parse path) drops a UTF-8 byte order mark.
      if (buf.length < 3 && !final && buf[0] === 0xef) {
        this.carry = buf;
        return;
      }
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
      this.started = true;
    }
    const len = buf.length;
    this.shape.fast?.forget();
    try {
      for (;;) {
        let b = 0;
        while (pos < len) {
          b = buf[pos];
          if (isSpace(b)) pos++;
          else break;
        }
        if (pos >= len) break;
        const f = this.depth === 0 ? this.root : this.stack[this.depth - 1];
        const state = f.state;
        let next: number;
        if (state === S_COMMA_OR_CLOSE) {
          if (b === 0x2c) {
            f.state = f.kind === ARRAY ? S_VALUE : S_KEY;
            next = pos + 1;
          } else if ((b === 0x5d && f.kind === ARRAY) || (b === 0x7d && f.kind === OBJECT)) {
            this.close(f);
            next = pos + 1;
          } else throw unexpectedByte(buf, pos, this.base);
        } else if (state === S_VALUE || state === S_VALUE_OR_CLOSE) {
          if (b === 0x5d && state === S_VALUE_OR_CLOSE) {
            this.close(f);
            next = pos + 1;
          } else if (b === QUOTE && f.role === R_REFS) next = this.refs(f, buf, pos);
          else if (b === 0x7b && f.role === R_LIST && f.index > 0 && this.shape.fast !== null) next = this.scanFast(f, buf, pos, final);
          else next = this.value(f, buf, pos, final);
        } else if (state === S_KEY || state === S_KEY_OR_CLOSE) {
          if (b === 0x7d && state === S_KEY_OR_CLOSE) {
            this.close(f);
            next = pos + 1;
          } else if (b === QUOTE) {
            next =
              state === S_KEY && f.role === R_TOP && this.shape.fast !== null && this.shape.pathInfoSettled()
                ? this.scanFastMembers(f, buf, pos)
                : this.key(f, buf, pos);
          } else throw unexpectedByte(buf, pos, this.base);
        } else if (state === S_COLON) {
          if (b !== 0x3a) throw unexpectedByte(buf, pos, this.base);
          f.state = S_VALUE;
          next = pos + 1;
        } else {
          throw unexpectedByte(buf, pos, this.base); // S_DONE: text after the value
        }
        if (next === NEED_MORE) break;
        pos = next;
      }
    } catch (e) {
      if (e instanceof SyntaxFault) {
        throw new InputError("invalid-json", `${this.what} is not valid JSON: ${e.detail} at byte offset ${e.offset}`);
      }
      throw e;
    }
    if (pos < len) {
      // A token continues in the next chunk: keep its bytes (and only those).
      if (atChunkEnd && len - pos > this.maxTokenBytes) {
        throw new InputError("too-large", `${this.what}: a single JSON token at byte offset ${this.base + pos} is longer than ${this.maxTokenBytes} bytes`);
      }
      if (final) this.fail("Unexpected end of JSON input", this.base + len);
      this.carry = buf.slice(pos);
    }
    this.base += pos;
  }

  private fail(detail: string, offset: number): never {
    throw new InputError("invalid-json", `${this.what} is not valid JSON: ${detail} at byte offset ${offset}`);
  }

  /**
   * A references list from a string at pos: strings and commas in one loop,
   * for as long as the list goes on plainly. Returns where the general loop
   * takes over (after the last complete string or comma), or NEED_MORE.
   */
  private refs(f: Frame, buf: Uint8Array, pos: number): number {
    const len = buf.length;
    const cols = this.shape.cols;
    const first = pos;
    for (;;) {
      // buf[pos] is a quote in value position.
      const end = this.internString(buf, pos);
      // The string goes on in the next chunk: the general loop stops at it (NEED_MORE when nothing was read here).
      if (end === NEED_MORE) return pos === first ? NEED_MORE : pos;
      if (this.lastLen === 0) this.shape.badRef(f.index, "");
      cols.pushRef(this.lastId);
      f.index++;
      f.state = S_COMMA_OR_CLOSE;
      pos = end;
      // Whitespace, a comma, whitespace, and the next string's quote: else the general loop decides.
      let i = pos;
      while (i < len && isSpace(buf[i])) i++;
      if (i >= len || buf[i] !== 0x2c) return i;
      i++;
      f.state = S_VALUE;
      while (i < len && isSpace(buf[i])) i++;
      if (i >= len || buf[i] !== QUOTE) return i;
      pos = i;
    }
  }

  /**
   * Entries of a list from the "{" at pos, after the list's first: the Wasm
   * scanner reads the run of plain entries there; the entry it stops at (if
   * it read none) is read here. Entry 0 is always read here: it alone decides
   * whether a list is path-info output.
   */
  private scanFast(f: Frame, buf: Uint8Array, pos: number, final: boolean): number {
    const shape = this.shape;
    const r = shape.fast!.scanEntries(buf, pos, shape.requireNarSize, shape.cols);
    if (r.count === 0) return this.value(f, buf, pos, final);
    f.index += r.count;
    f.state = S_COMMA_OR_CLOSE;
    return r.end;
  }

  /** Path-info members from the key at pos: the Wasm scanner reads the plain ones (see scanFast). */
  private scanFastMembers(f: Frame, buf: Uint8Array, pos: number): number {
    const shape = this.shape;
    const r = shape.fast!.scanEntries(buf, pos, shape.requireNarSize, shape.pathInfoSink, true);
    if (r.count === 0) return this.key(f, buf, pos);
    f.state = S_COMMA_OR_CLOSE;
    return r.end;
  }

  /** Reads a value starting at pos (not whitespace); returns the next position or NEED_MORE. */
  private value(f: Frame, buf: Uint8Array, pos: number, final: boolean): number {
    const b = buf[pos];
    if (b === 0x7b || b === 0x5b) {
      this.open(f, b === 0x7b ? OBJECT : ARRAY);
      return pos + 1;
    }
    if (b === QUOTE) return this.stringValue(f, buf, pos);
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      const end = scanNumber(buf, pos, final, this.base);
      if (end === NEED_MORE) return NEED_MORE;
      this.scalar(f, numberAt(buf, pos, end));
      return end;
    }
    let word: string;
    let v: unknown;
    if (b === 0x74) ((word = "true"), (v = true));
    else if (b === 0x66) ((word = "false"), (v = false));
    else if (b === 0x6e) ((word = "null"), (v = null));
    else throw unexpectedByte(buf, pos, this.base);
    for (let i = 0; i < word.length; i++) {
      if (pos + i >= buf.length) {
        if (final) this.fail("Unexpected end of JSON input", this.base + pos + i);
        return NEED_MORE;
      }
      if (buf[pos + i] !== word.charCodeAt(i)) throw unexpectedByte(buf, pos + i, this.base);
    }
    this.scalar(f, v);
    return pos + word.length;
  }

  /** A string in value position: interned, decoded or only checked, by context. */
  private stringValue(f: Frame, buf: Uint8Array, pos: number): number {
    const role = f.role;
    if (role === R_ENTRY && f.field === F_PATH) {
      const end = this.internString(buf, pos);
      if (end === NEED_MORE) return NEED_MORE;
      this.shape.entryPath(this.lastLen === 0 ? -1 : this.lastId);
      f.state = S_COMMA_OR_CLOSE;
      return end;
    }
    if (role === R_SKIP || (role === R_ENTRY && f.field !== F_NAR_SIZE && f.field !== F_REFERENCES) || (role === R_TOP && f.field === K_OTHER)) {
      const end = this.strings.skip(buf, pos, this.base);
      if (end === NEED_MORE) return NEED_MORE;
      this.scalar(f, undefined);
      return end;
    }
    const end = this.strings.end(buf, pos, this.base);
    if (end === NEED_MORE) return NEED_MORE;
    this.scalar(f, decodeString(buf, pos + 1, end - 1));
    return end;
  }

  private key(f: Frame, buf: Uint8Array, pos: number): number {
    const role = f.role;
    if (role === R_ENTRY) {
      // Field names strata reads are matched on their bytes; anything else is checked and decoded.
      const q = buf.indexOf(QUOTE, pos + 1);
      let field = q < 0 ? 0 : fieldOf(buf, pos + 1, q);
      let end: number;
      if (field !== 0) end = q + 1;
      else {
        end = this.strings.end(buf, pos, this.base);
        if (end === NEED_MORE) return NEED_MORE;
        field = this.strings.plain ? fieldOf(buf, pos + 1, end - 1) : fieldOfName(decodeString(buf, pos + 1, end - 1));
      }
      f.field = field;
      this.shape.fieldSeen(field);
      f.state = S_COLON;
      return end;
    }
    if (role === R_SKIP) {
      const end = this.strings.skip(buf, pos, this.base);
      if (end === NEED_MORE) return NEED_MORE;
      f.state = S_COLON;
      return end;
    }
    const shape = this.shape;
    if (role === R_TOP && pos + 1 < buf.length && buf[pos + 1] === 0x2f && !shape.graphSeen) {
      // A store path key (path-info object form): interned like a path.
      const end = this.internString(buf, pos);
      if (end === NEED_MORE) return NEED_MORE;
      f.key = shape.interner.stringOf(this.lastId);
      shape.topKey(f.key);
      f.field = K_STORE_PATH;
      shape.entry.keyPath = this.lastId;
      f.state = S_COLON;
      return end;
    }
    const end = this.strings.end(buf, pos, this.base);
    if (end === NEED_MORE) return NEED_MORE;
    const key = decodeString(buf, pos + 1, end - 1);
    f.key = key;
    if (role === R_TOP) {
      shape.topKey(key);
      f.field = topKeyCode(key);
      if (f.field === K_STORE_PATH) {
        if (shape.graphSeen) f.field = K_OTHER;
        else shape.entry.keyPath = shape.interner.internValue(key);
      }
    }
    f.state = S_COLON;
    return end;
  }

  // ---- containers -------------------------------------------------------------

  private open(parent: Frame, kind: number): void {
    let role = R_SKIP;
    const pr = parent.role;
    const shape = this.shape;
    if (parent === this.root) {
      shape.topKind = kind;
      role = kind === ARRAY ? R_LIST : R_TOP;
      if (kind === ARRAY) shape.startList("$");
    } else if (pr === R_BUILD) role = R_BUILD;
    else if (pr === R_LIST) {
      if (kind === OBJECT) {
        role = R_ENTRY;
        shape.startEntry(parent.index);
      } else role = R_BUILD; // a list where an entry belongs: rebuilt for the message
    } else if (pr === R_ENTRY) {
      const fld = parent.field;
      if (fld === F_REFERENCES && kind === ARRAY) {
        role = R_REFS;
        shape.startRefs();
      } else if (fld === F_PATH || fld === F_NAR_SIZE || fld === F_REFERENCES) role = R_BUILD;
    } else if (pr === R_REFS) role = R_BUILD;
    else if (pr === R_TOP) {
      const k = parent.field;
      if (k === K_GRAPH && kind === ARRAY) {
        role = R_LIST;
        shape.startGraph();
      } else if (k === K_STORE_PATH && kind === OBJECT) {
        role = R_ENTRY;
        shape.startEntry(-1);
      } else if (k !== K_OTHER) role = R_BUILD;
    }
    const d = this.depth;
    let f = this.stack[d];
    if (f === undefined) {
      f = newFrame(kind, role);
      this.stack[d] = f;
    } else {
      f.kind = kind;
      f.role = role;
      f.field = 0;
      f.key = "";
    }
    f.index = 0;
    f.state = kind === ARRAY ? S_VALUE_OR_CLOSE : S_KEY_OR_CLOSE;
    f.value = role === R_BUILD ? (kind === ARRAY ? [] : {}) : undefined;
    this.depth = d + 1;
  }

  private close(f: Frame): void {
    this.depth--;
    const parent = this.depth === 0 ? this.root : this.stack[this.depth - 1];
    const role = f.role;
    if (role === R_ENTRY) {
      this.shape.endEntry();
      // Marks the value as handled so scalar() does not treat it as a bad entry.
      this.afterValue(parent);
      return;
    }
    if (role === R_REFS || role === R_LIST || role === R_TOP) {
      this.afterValue(parent);
      return;
    }
    this.scalar(parent, role === R_BUILD ? f.value : undefined);
  }

  private afterValue(f: Frame): void {
    if (f.kind === ARRAY) f.index++;
    f.state = f === this.root ? S_DONE : S_COMMA_OR_CLOSE;
  }

  /** A complete value (scalar, or a container closed) in frame f. */
  private scalar(f: Frame, v: unknown): void {
    const role = f.role;
    if (f === this.root) {
      this.shape.rootValue = v;
      f.state = S_DONE;
      return;
    }
    if (role === R_BUILD) {
      if (f.kind === ARRAY) (f.value as unknown[]).push(v);
      else setOwn(f.value as Record<string, unknown>, f.key, v);
    } else if (role === R_ENTRY) this.shape.entryValue(f.field, v);
    else if (role === R_REFS) this.shape.badRef(f.index, v);
    else if (role === R_LIST) this.shape.badListItem(f.index, v);
    else if (role === R_TOP) this.shape.topValue(f.field, f.key, v);
    this.afterValue(f);
  }

  // ---- paths ----------------------------------------------------------------------

  /**
   * Interns the string at pos; sets lastId/lastLen; returns its end or
   * NEED_MORE. A path seen before costs a memchr for the closing quote, a
   * hash and a compare; a new one is checked once, then added.
   */
  private internString(buf: Uint8Array, pos: number): number {
    const start = pos + 1;
    const q = buf.indexOf(QUOTE, start);
    const interner = this.shape.interner;
    if (q >= 0) {
      const h = hashBytes(buf, start, q);
      let id = interner.findPlain(buf, start, q, h);
      if (id < 0) {
        const cls = STRING_CLASS;
        let i = start;
        while (i < q && cls[buf[i]] === 0) i++;
        if (i === q) id = interner.intern(buf, start, q, h, null);
      }
      if (id >= 0) {
        this.lastId = id;
        this.lastLen = q - start;
        return q + 1;
      }
    }
    // Escapes, non-ASCII or control bytes (or the string goes on in the next chunk): check, decode, intern the value.
    const end = this.strings.end(buf, pos, this.base);
    if (end === NEED_MORE) return NEED_MORE;
    const s = decodeString(buf, start, end - 1);
    this.lastId = interner.internValue(s);
    this.lastLen = s.length;
    return end;
  }
}

function setOwn(obj: Record<string, unknown>, key: string, v: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
  else obj[key] = v;
}
