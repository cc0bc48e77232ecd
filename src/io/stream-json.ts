// Streaming closure reader: turns UTF-8 JSON bytes, fed in chunks of any size,
// into a ClosureDocument without ever holding the whole text. It is a JSON
// tokenizer and a shape-aware pushdown parser in one: entry fields go straight
// into columns (src/graph/closure.ts ClosureColumns), store paths are interned
// by their bytes (a JS string is made once per distinct path, not once per
// reference), and everything else (pipeline, roots, _meta, ...) is either
// rebuilt as a JS value or only syntax-checked.
//
// Results and InputErrors are those of JSON.parse + readClosureDocument
// (src/graph/document.ts), including which error wins when there are several:
// validation errors are held until the end, because a later JSON syntax error
// (invalid-json) must win as it does when JSON.parse runs first. invalid-json
// messages name a byte offset instead of V8's wording.
//
// Platform-neutral on purpose (no Node built-ins): Node feeds it file or zlib
// chunks (src/io/stream-node.ts), browsers a fetch body through
// DecompressionStream (src/io/stream-web.ts).
import { InputError } from "../errors.js";
import { describe, type ClosureDocument, type ClosureEntry, type ClosureFormat, type ReadOptions } from "../graph/document.js";
import { closureColumnsKey, type ClosureColumns } from "../graph/closure.js";

export interface ReadProgress {
  /** reading: bytes arrive; parsing: entries are being built; done: the document is complete. */
  readonly stage: "reading" | "parsing" | "done";
  /** Bytes of JSON text consumed so far (after gunzip). */
  readonly bytes: number;
  /** Size of the input file when known (compressed size for gzip input). */
  readonly totalBytes?: number;
  /** Compressed bytes consumed, for gzip input. */
  readonly compressedBytes?: number;
  /** Closure entries read so far. */
  readonly entries: number;
}

export interface StreamReadOptions extends ReadOptions {
  /** Name used in invalid-json messages (a file name, "stdin"); default "input". */
  readonly what?: string;
  /**
   * The longest single token (string, number) the parser will hold, in bytes.
   * Tokens split across chunks are the only text it buffers, so this bounds its
   * text memory. Default 256 MiB; tests lower it to prove no whole text is kept.
   */
  readonly maxTokenBytes?: number;
}

// ---- frames of the pushdown parser ------------------------------------------

const ARRAY = 0;
const OBJECT = 1;

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

// Entry fields strata reads.
const F_OTHER = 0;
const F_PATH = 1;
const F_NAR_SIZE = 2;
const F_REFERENCES = 3;
const F_CLOSURE_SIZE = 4;
const F_NAR_HASH = 5;
const F_VALID = 6;

// Top-level keys with meaning.
const K_OTHER = 0;
const K_GRAPH = 1;
const K_STORE_PATH = 2;
const K_PIPELINE = 3;
const K_EXCLUDE = 4;
const K_ROOTS = 5;
const K_ERG = 6;

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

const NEED_MORE = -1;

// Byte values.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Thrown inside the parser for JSON syntax errors; turned into an InputError at the boundary. */
class SyntaxFault {
  constructor(
    readonly detail: string,
    readonly offset: number,
  ) {}
}

/**
 * Interns byte strings: open addressing over FNV-1a hashes, keys kept in one
 * byte arena. Keys are the UTF-8 (WTF-8 for lone surrogates) of the string's
 * value, so an escaped and a plain spelling of the same path meet.
 */
class Interner {
  strings: string[] = [];
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  private keyStart = new Uint32Array(1024);
  private keyLen = new Uint32Array(1024);
  private keyHash = new Int32Array(1024);
  private table = new Int32Array(2048); // string id + 1; 0 = empty
  private mask = 2047;

  get size(): number {
    return this.strings.length;
  }

  /** Id of the key bytes[start, end) with hash h; `make` gives the JS string for a new key. */
  intern(bytes: Uint8Array, start: number, end: number, h: number, value: string | null): number {
    const len = end - start;
    const arena = this.arena;
    let slot = h & this.mask;
    for (;;) {
      const e = this.table[slot];
      if (e === 0) break;
      const id = e - 1;
      if (this.keyHash[id] === h && this.keyLen[id] === len) {
        let a = this.keyStart[id];
        let i = start;
        while (i < end && arena[a] === bytes[i]) {
          a++;
          i++;
        }
        if (i === end) return id;
      }
      slot = (slot + 1) & this.mask;
    }
    const id = this.strings.length;
    this.strings.push(value ?? latin1(bytes, start, end));
    if (id >= this.keyStart.length) this.growKeys();
    if (this.used + len > this.arena.length) this.growArena(len);
    this.arena.set(bytes.subarray(start, end), this.used);
    this.keyStart[id] = this.used;
    this.keyLen[id] = len;
    this.keyHash[id] = h;
    this.used += len;
    this.table[slot] = id + 1;
    if ((id + 1) * 2 > this.mask) this.rehash();
    return id;
  }

  private growKeys(): void {
    const cap = this.keyStart.length * 2;
    const s = new Uint32Array(cap);
    s.set(this.keyStart);
    this.keyStart = s;
    const l = new Uint32Array(cap);
    l.set(this.keyLen);
    this.keyLen = l;
    const h = new Int32Array(cap);
    h.set(this.keyHash);
    this.keyHash = h;
  }

  private growArena(need: number): void {
    const a = new Uint8Array(Math.max(this.arena.length * 2, this.used + need));
    a.set(this.arena.subarray(0, this.used));
    this.arena = a;
  }

  private rehash(): void {
    const cap = (this.mask + 1) * 2;
    const table = new Int32Array(cap);
    const mask = cap - 1;
    for (let id = 0; id < this.strings.length; id++) {
      let slot = this.keyHash[id] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = id + 1;
    }
    this.table = table;
    this.mask = mask;
  }
}

/** Growable typed columns of the entries read so far. */
class Columns {
  count = 0;
  pathId = new Uint32Array(1024);
  narSize = new Float64Array(1024);
  closureSize = new Float64Array(1024);
  refOffsets = new Uint32Array(1025);
  refIds = new Uint32Array(8192);
  refCount = 0;

  pushRef(id: number): void {
    if (this.refCount === this.refIds.length) {
      const r = new Uint32Array(this.refIds.length * 2);
      r.set(this.refIds);
      this.refIds = r;
    }
    this.refIds[this.refCount++] = id;
  }

  /** Appends an entry whose references are refIds[refOffsets[count] .. refCount). */
  pushEntry(pathId: number, narSize: number, closureSize: number): void {
    const i = this.count;
    if (i + 1 >= this.pathId.length) {
      const cap = this.pathId.length * 2;
      const p = new Uint32Array(cap);
      p.set(this.pathId);
      this.pathId = p;
      const s = new Float64Array(cap);
      s.set(this.narSize);
      this.narSize = s;
      const c = new Float64Array(cap);
      c.set(this.closureSize);
      this.closureSize = c;
      const o = new Uint32Array(cap + 1);
      o.set(this.refOffsets);
      this.refOffsets = o;
    }
    this.pathId[i] = pathId;
    this.narSize[i] = narSize;
    this.closureSize[i] = closureSize;
    this.count = i + 1;
    this.refOffsets[i + 1] = this.refCount;
  }
}

/** The entry being read (entries do not nest, so one record serves all). */
interface EntryState {
  /** Location for messages: "$[3]", "$.graph[3]" or `$["/nix/store/..."]`. */
  where: string | undefined;
  listWhere: string;
  index: number;
  /** Path-info object form: the path comes from the key. */
  keyPath: number;
  hasPath: boolean;
  pathId: number; // -1: not a (non-empty) string
  pathValue: unknown;
  hasNarSize: boolean;
  narSize: unknown;
  /** 0 absent or null, 1 a list, 2 something else (refsValue). */
  refsKind: number;
  refsValue: unknown;
  refStart: number;
  badRefIndex: number;
  badRefValue: unknown;
  closureSize: number;
  sawClosureSize: boolean;
  sawNarHash: boolean;
  sawValid: boolean;
}

/**
 * The streaming parser. push() chunks in order, then end() for the document.
 * Throws InputError exactly where JSON.parse + readClosureDocument would fail.
 */
export class ClosureStreamParser {
  private readonly requireNarSize: boolean;
  private readonly what: string;
  private readonly maxTokenBytes: number;

  private carry: Uint8Array | null = null;
  /** Absolute offset of the current buffer's first byte. */
  private base = 0;
  private started = false;
  private stack: Frame[] = [];
  private depth = 0;
  private root: Frame = newFrame(ARRAY, R_BUILD);
  private rootValue: unknown = undefined;

  private interner = new Interner();
  private cols = new Columns();
  private entry: EntryState = newEntryState();

  // Shape facts.
  private topKind = -1; // ARRAY, OBJECT or -1 for a scalar
  private firstLooksLikePathInfo = false;
  private graphSeen = false;
  private graphError: InputError | null = null;
  private entryError: InputError | null = null;
  private pipeline: unknown = undefined;
  private hasPipeline = false;
  private exclude: unknown = undefined;
  private hasExclude = false;
  private roots: unknown = undefined;
  private hasRoots = false;
  private erg: unknown = undefined;
  private hasErg = false;
  // Object.keys order of the top-level object, as far as messages need it.
  private intKeys: string[] = [];
  private strKeys: string[] = [];
  private allKeysSlash = true;
  private keyCount = 0;
  // Path-info object form with repeated keys (JSON.parse: first position, last value).
  private slotOfString: Int32Array | null = null;
  private replacedBy: Int32Array | null = null;
  private slotErrors: Map<number, InputError> | null = null;
  private repeats = 0;

  /** Bytes of JSON consumed so far. */
  bytes = 0;

  constructor(options: StreamReadOptions = {}) {
    this.requireNarSize = options.requireNarSize ?? true;
    this.what = options.what ?? "input";
    this.maxTokenBytes = options.maxTokenBytes ?? 256 * 1024 * 1024;
  }

  /** Closure entries read so far. */
  get entries(): number {
    return this.cols.count;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // A plain Uint8Array view of Buffers and other subclasses: one element kind keeps the byte loops monomorphic.
    let buf = Object.getPrototypeOf(chunk) === Uint8Array.prototype ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.carry !== null) {
      const joined = new Uint8Array(this.carry.length + chunk.length);
      joined.set(this.carry);
      joined.set(buf, this.carry.length);
      buf = joined;
      this.carry = null;
    }
    this.bytes += chunk.length;
    this.run(buf, false);
  }

  end(): ClosureDocument {
    const buf = this.carry ?? new Uint8Array(0);
    this.carry = null;
    this.run(buf, true);
    if (this.root.state !== S_DONE) this.fail("Unexpected end of JSON input", this.base + buf.length);
    return this.finish();
  }

  // ---- tokenizer + grammar ----------------------------------------------------

  private run(buf: Uint8Array, final: boolean): void {
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
    try {
      for (;;) {
        // Whitespace: exactly JSON's four characters.
        let b = 0;
        while (pos < len) {
          b = buf[pos];
          if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) pos++;
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
          } else throw this.unexpected(buf, pos);
        } else if (state === S_VALUE || state === S_VALUE_OR_CLOSE) {
          if (b === 0x5d && state === S_VALUE_OR_CLOSE) {
            this.close(f);
            next = pos + 1;
          } else next = this.value(f, buf, pos, final);
        } else if (state === S_KEY || state === S_KEY_OR_CLOSE) {
          if (b === 0x7d && state === S_KEY_OR_CLOSE) {
            this.close(f);
            next = pos + 1;
          } else if (b === QUOTE) next = this.key(f, buf, pos);
          else throw this.unexpected(buf, pos);
        } else if (state === S_COLON) {
          if (b !== 0x3a) throw this.unexpected(buf, pos);
          f.state = S_VALUE;
          next = pos + 1;
        } else {
          throw this.unexpected(buf, pos); // S_DONE: text after the value
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
      if (len - pos > this.maxTokenBytes) {
        throw new InputError("too-large", `${this.what}: a single JSON token at byte offset ${this.base + pos} is longer than ${this.maxTokenBytes} bytes`);
      }
      if (final) this.fail("Unexpected end of JSON input", this.base + len);
      this.carry = buf.slice(pos);
    }
    this.base += pos;
  }

  private unexpected(buf: Uint8Array, pos: number): SyntaxFault {
    const b = buf[pos];
    const shown = b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, "0")}`;
    return new SyntaxFault(`Unexpected token ${shown}`, this.base + pos);
  }

  private fail(detail: string, offset: number): never {
    throw new InputError("invalid-json", `${this.what} is not valid JSON: ${detail} at byte offset ${offset}`);
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
    if (b === 0x74) (word = "true"), (v = true);
    else if (b === 0x66) (word = "false"), (v = false);
    else if (b === 0x6e) (word = "null"), (v = null);
    else throw this.unexpected(buf, pos);
    for (let i = 0; i < word.length; i++) {
      if (pos + i >= buf.length) {
        if (final) this.fail("Unexpected end of JSON input", this.base + pos + i);
        return NEED_MORE;
      }
      if (buf[pos + i] !== word.charCodeAt(i)) throw this.unexpected(buf, pos + i);
    }
    this.scalar(f, v);
    return pos + word.length;
  }

  /** A string in value position: interned, decoded or only checked, by context. */
  private stringValue(f: Frame, buf: Uint8Array, pos: number): number {
    const role = f.role;
    if (role === R_REFS || (role === R_ENTRY && f.field === F_PATH)) {
      const end = this.internString(buf, pos);
      if (end === NEED_MORE) return NEED_MORE;
      const id = this.lastId;
      if (role === R_REFS) {
        const e = this.entry;
        if (this.lastLen === 0 && e.badRefIndex < 0) {
          e.badRefIndex = f.index;
          e.badRefValue = "";
        }
        this.cols.pushRef(id);
        f.index++;
        f.state = S_COMMA_OR_CLOSE;
      } else {
        const e = this.entry;
        e.hasPath = true;
        e.pathId = this.lastLen === 0 ? -1 : id;
        e.pathValue = "";
        f.state = S_COMMA_OR_CLOSE;
      }
      return end;
    }
    if (role === R_SKIP || (role === R_ENTRY && f.field !== F_NAR_SIZE && f.field !== F_REFERENCES) || (role === R_TOP && f.field === K_OTHER)) {
      const end = this.skipString(buf, pos);
      if (end === NEED_MORE) return NEED_MORE;
      this.scalar(f, undefined);
      return end;
    }
    const end = this.findStringEnd(buf, pos);
    if (end === NEED_MORE) return NEED_MORE;
    this.scalar(f, this.decode(buf, pos + 1, end - 1, pos));
    return end;
  }

  private key(f: Frame, buf: Uint8Array, pos: number): number {
    const role = f.role;
    if (role === R_ENTRY) {
      // Field names: matched on their bytes when plain, decoded otherwise.
      const end = this.findStringEnd(buf, pos);
      if (end === NEED_MORE) return NEED_MORE;
      f.field = this.plain ? fieldOf(buf, pos + 1, end - 1) : fieldOfName(this.decode(buf, pos + 1, end - 1, pos));
      this.fieldSeen(f.field);
      f.state = S_COLON;
      return end;
    }
    if (role === R_SKIP) {
      const end = this.skipString(buf, pos);
      if (end === NEED_MORE) return NEED_MORE;
      f.state = S_COLON;
      return end;
    }
    if (role === R_TOP && pos + 1 < buf.length && buf[pos + 1] === 0x2f && !this.graphSeen) {
      // A store path key (path-info object form): interned like a path.
      const end = this.internString(buf, pos);
      if (end === NEED_MORE) return NEED_MORE;
      f.key = this.interner.strings[this.lastId];
      this.topKey(f.key);
      f.field = K_STORE_PATH;
      this.entry.keyPath = this.lastId;
      f.state = S_COLON;
      return end;
    }
    const end = this.findStringEnd(buf, pos);
    if (end === NEED_MORE) return NEED_MORE;
    const key = this.decode(buf, pos + 1, end - 1, pos);
    f.key = key;
    if (role === R_TOP) {
      this.topKey(key);
      f.field = topKeyCode(key);
      if (f.field === K_STORE_PATH) {
        if (this.graphSeen) f.field = K_OTHER;
        else this.entry.keyPath = this.internJs(key);
      }
    }
    f.state = S_COLON;
    return end;
  }

  private fieldSeen(field: number): void {
    const e = this.entry;
    if (field === F_CLOSURE_SIZE) e.sawClosureSize = true;
    else if (field === F_NAR_HASH) e.sawNarHash = true;
    else if (field === F_VALID) e.sawValid = true;
  }

  /** Tracks the top-level object's keys as far as readClosureDocument's messages need them. */
  private topKey(key: string): void {
    if (key.charCodeAt(0) !== 0x2f) this.allKeysSlash = false;
    // Object.keys lists integer-like keys first, ascending, then the rest in
    // first-seen order; messages need the first five and whether there are more.
    if (isArrayIndex(key)) {
      const list = this.intKeys;
      if (list.includes(key)) return;
      if (list.length < 6) list.push(key);
      else {
        list.sort((a, b) => Number(a) - Number(b));
        if (Number(key) < Number(list[5])) list[5] = key;
      }
    } else if (this.strKeys.length < 6 && !this.strKeys.includes(key)) this.strKeys.push(key);
    this.keyCount = this.intKeys.length + this.strKeys.length;
  }

  // ---- containers -------------------------------------------------------------

  private open(parent: Frame, kind: number): void {
    let role = R_SKIP;
    const pr = parent.role;
    if (parent === this.root) {
      this.topKind = kind;
      role = kind === ARRAY ? R_LIST : R_TOP;
      if (kind === ARRAY) this.startList("$");
    } else if (pr === R_BUILD) role = R_BUILD;
    else if (pr === R_LIST) {
      if (kind === OBJECT) {
        role = R_ENTRY;
        this.startEntry(parent.index);
      } else role = R_BUILD; // a list where an entry belongs: rebuilt for the message
    } else if (pr === R_ENTRY) {
      const fld = parent.field;
      if (fld === F_REFERENCES && kind === ARRAY) {
        role = R_REFS;
        const e = this.entry;
        e.refsKind = 1;
        e.badRefIndex = -1;
        this.cols.refCount = e.refStart; // a repeated "references" key: the last one counts
      } else if (fld === F_PATH || fld === F_NAR_SIZE || fld === F_REFERENCES) role = R_BUILD;
    } else if (pr === R_REFS) role = R_BUILD;
    else if (pr === R_TOP) {
      const k = parent.field;
      if (k === K_GRAPH && kind === ARRAY) {
        role = R_LIST;
        this.graphSeen = true;
        this.graphError = null;
        this.startList("$.graph");
      } else if (k === K_STORE_PATH && kind === OBJECT) {
        role = R_ENTRY;
        this.startEntry(-1);
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
      this.endEntry();
      // Marks the value as handled so scalar() does not treat it as a bad entry.
      this.afterValue(parent);
      return;
    }
    if (role === R_REFS || role === R_LIST || role === R_TOP) {
      this.afterValue(parent);
      return;
    }
    this.scalar(parent, role === R_BUILD ? f.value : undefined, role === R_BUILD);
  }

  private afterValue(f: Frame): void {
    if (f.kind === ARRAY) f.index++;
    f.state = f === this.root ? S_DONE : S_COMMA_OR_CLOSE;
  }

  /**
   * A complete value (scalar, or a container closed) in frame f. `built` says
   * whether a container's value was rebuilt (false for skipped containers).
   */
  private scalar(f: Frame, v: unknown, built = true): void {
    const role = f.role;
    if (f === this.root) {
      this.rootValue = v;
      f.state = S_DONE;
      return;
    }
    if (role === R_BUILD) {
      if (f.kind === ARRAY) (f.value as unknown[]).push(v);
      else setOwn(f.value as Record<string, unknown>, f.key, v);
    } else if (role === R_ENTRY) {
      const e = this.entry;
      switch (f.field) {
        case F_PATH:
          e.hasPath = true;
          e.pathId = -1;
          e.pathValue = v;
          break;
        case F_NAR_SIZE:
          e.hasNarSize = true;
          e.narSize = v;
          break;
        case F_REFERENCES:
          this.cols.refCount = e.refStart;
          e.refsKind = v === null || v === undefined ? 0 : 2;
          e.refsValue = v;
          break;
        case F_CLOSURE_SIZE:
          e.closureSize = typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : Number.NaN;
          break;
      }
    } else if (role === R_REFS) {
      const e = this.entry;
      if (e.badRefIndex < 0) {
        e.badRefIndex = f.index;
        e.badRefValue = v;
      }
    } else if (role === R_LIST) {
      // Not an object where an entry belongs.
      const where = `${this.entry.listWhere}[${f.index}]`;
      this.entryFailed(new InputError("bad-entry", `${where} must be an object with "path", got ${describe(v)}`));
    } else if (role === R_TOP) {
      switch (f.field) {
        case K_GRAPH:
          this.graphSeen = true;
          this.resetEntries();
          this.graphError = new InputError("unsupported-shape", `$.graph must be a list of store path entries, got ${describe(v)}`);
          break;
        case K_STORE_PATH: {
          const key = f.key;
          const where = `$[${JSON.stringify(key)}]`;
          const err =
            v === null
              ? new InputError("bad-entry", `${where}: path-info reports "${key}" as not valid in the store (null)`, key)
              : new InputError("bad-entry", `${where} must be an object, got ${describe(v)}`, key);
          // Takes the key's position like an entry would.
          this.startEntry(-1);
          const slot = this.placeSlot();
          this.cols.pushEntry(this.entry.keyPath, 0, Number.NaN);
          this.slotErrors!.set(slot, err);
          break;
        }
        case K_PIPELINE:
          this.hasPipeline = true;
          this.pipeline = v;
          break;
        case K_EXCLUDE:
          this.hasExclude = true;
          this.exclude = v;
          break;
        case K_ROOTS:
          this.hasRoots = true;
          this.roots = v;
          break;
        case K_ERG:
          this.hasErg = true;
          this.erg = v;
          break;
      }
    }
    void built;
    this.afterValue(f);
  }

  // ---- entries ----------------------------------------------------------------

  private startList(where: string): void {
    this.resetEntries();
    this.entry.listWhere = where;
  }

  private resetEntries(): void {
    this.interner = new Interner();
    this.cols = new Columns();
    this.entryError = null;
    this.slotOfString = null;
    this.replacedBy = null;
    this.slotErrors = null;
    this.repeats = 0;
  }

  private startEntry(index: number): void {
    const e = this.entry;
    e.index = index;
    e.where = undefined;
    e.hasPath = false;
    e.pathId = -1;
    e.pathValue = undefined;
    e.hasNarSize = false;
    e.narSize = undefined;
    e.refsKind = 0;
    e.refsValue = undefined;
    e.refStart = this.cols.refCount;
    e.badRefIndex = -1;
    e.badRefValue = undefined;
    e.closureSize = Number.NaN;
    e.sawClosureSize = false;
    e.sawNarHash = false;
    e.sawValid = false;
    if (index < 0) e.where = undefined;
    else e.keyPath = -1;
  }

  private entryWhere(): string {
    const e = this.entry;
    if (e.where === undefined) {
      e.where = e.index >= 0 ? `${e.listWhere}[${e.index}]` : `$[${JSON.stringify(this.interner.strings[e.keyPath])}]`;
    }
    return e.where;
  }

  /** Validates the entry just closed, in readEntry's order, and appends it. */
  private endEntry(): void {
    const e = this.entry;
    if (e.index === 0) {
      this.firstLooksLikePathInfo = !e.sawClosureSize && e.sawNarHash && e.sawValid;
    }
    const pathInfo = e.index < 0;
    const pathId = pathInfo ? e.keyPath : e.pathId;
    let err: InputError | null = null;
    if (pathId < 0) {
      err = new InputError("bad-path", `${this.entryWhere()}.path must be a non-empty string, got ${describe(e.hasPath ? e.pathValue : undefined)}`);
    } else {
      const path = this.interner.strings[pathId];
      err = this.checkFields(path);
    }
    if (pathInfo) {
      const slot = this.placeSlot();
      this.cols.pushEntry(pathId, err === null ? (e.narSize as number) ?? 0 : 0, e.closureSize);
      if (err !== null) this.slotErrors!.set(slot, err);
      return;
    }
    if (err !== null) {
      this.entryFailed(err);
      this.cols.refCount = e.refStart;
      return;
    }
    this.cols.pushEntry(pathId, e.hasNarSize ? (e.narSize as number) : 0, e.closureSize);
  }

  private checkFields(path: string): InputError | null {
    const e = this.entry;
    if (e.hasNarSize) {
      const v = e.narSize;
      // The common case without building the location string.
      if (!(typeof v === "number" && Number.isSafeInteger(v) && v >= 0)) {
        const err = sizeError(v, `${this.entryWhere()}.narSize`, path);
        if (err !== null) return err;
      }
    } else if (this.requireNarSize) return new InputError("bad-nar-size", `${this.entryWhere()} ("${path}") has no narSize`, path);
    if (e.refsKind === 2) {
      return new InputError("bad-references", `${this.entryWhere()}.references ("${path}") must be a list of paths, got ${describe(e.refsValue)}`, path);
    }
    if (e.refsKind === 1 && e.badRefIndex >= 0) {
      return new InputError(
        "bad-references",
        `${this.entryWhere()}.references[${e.badRefIndex}] ("${path}") must be a non-empty string, got ${describe(e.badRefValue)}`,
        path,
      );
    }
    return null;
  }

  private entryFailed(err: InputError): void {
    // Only the first bad entry of a list is reported, as readEntryList does.
    if (this.entryError === null) this.entryError = err;
  }

  /** Path-info object form: the slot of the current key, with JSON.parse's repeated-key rule. */
  private placeSlot(): number {
    if (this.slotErrors === null) this.slotErrors = new Map();
    const id = this.entry.keyPath;
    const slot = this.cols.count;
    let map = this.slotOfString;
    if (map === null || map.length <= id) {
      const m = new Int32Array(Math.max(1024, (id + 1) * 2)).fill(-1);
      if (map !== null) m.set(map);
      map = this.slotOfString = m;
    }
    const prev = map[id];
    if (prev >= 0) {
      // The key again: its first position keeps the new value.
      if (this.replacedBy === null) this.replacedBy = new Int32Array(0);
      if (this.replacedBy.length <= prev) {
        const r = new Int32Array(Math.max(1024, (slot + 1) * 2)).fill(-1);
        r.set(this.replacedBy);
        this.replacedBy = r;
      }
      let last = prev;
      while (this.replacedBy[last] >= 0) last = this.replacedBy[last];
      if (this.replacedBy.length <= slot) {
        const r = new Int32Array(Math.max(1024, (slot + 1) * 2)).fill(-1);
        r.set(this.replacedBy);
        this.replacedBy = r;
      }
      this.replacedBy[last] = slot;
      this.repeats++;
    } else map[id] = slot;
    return slot;
  }

  // ---- strings ------------------------------------------------------------------

  private lastId = 0;
  private lastLen = 0;
  /** Whether the last string found by findStringEnd had no escapes and no non-ASCII bytes. */
  private plain = true;
  private scratch = new Uint8Array(256);

  /** Interns the string at pos; sets lastId/lastLen; returns the end or NEED_MORE. */
  private internString(buf: Uint8Array, pos: number): number {
    const len = buf.length;
    let h = 0x811c9dc5 | 0;
    let i = pos + 1;
    for (; i < len; i++) {
      const b = buf[i];
      if (b === QUOTE) break;
      if (b === BACKSLASH || b < 0x20 || b >= 0x80) {
        // Escapes or non-ASCII: decode, then intern the value's bytes.
        const end = this.findStringEnd(buf, pos);
        if (end === NEED_MORE) return NEED_MORE;
        const s = this.decode(buf, pos + 1, end - 1, pos);
        this.lastId = this.internJs(s);
        this.lastLen = s.length;
        return end;
      }
      h = Math.imul(h ^ b, 0x01000193);
    }
    if (i >= len) return NEED_MORE;
    const start = pos + 1;
    this.lastId = this.interner.intern(buf, start, i, h, null);
    this.lastLen = i - start;
    return i + 1;
  }

  /** Interns a JS string by its WTF-8 bytes. */
  private internJs(s: string): number {
    const n = wtf8(s, this);
    const bytes = this.scratch;
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    return this.interner.intern(bytes, 0, n, h, s);
  }

  /** Grows the scratch buffer (used by wtf8). */
  ensureScratch(n: number): Uint8Array {
    if (this.scratch.length < n) this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    return this.scratch;
  }

  /** Checks a string without making it; returns its end or NEED_MORE. */
  private skipString(buf: Uint8Array, pos: number): number {
    const len = buf.length;
    let i = pos + 1;
    for (; i < len; i++) {
      const b = buf[i];
      if (b === QUOTE) return i + 1;
      if (b === BACKSLASH || b < 0x20 || b >= 0x80) return this.findStringEnd(buf, pos);
    }
    return NEED_MORE;
  }

  /**
   * Finds the end (index after the closing quote) of the string at pos,
   * checking escapes, control characters and UTF-8; sets `plain`.
   */
  private findStringEnd(buf: Uint8Array, pos: number): number {
    const len = buf.length;
    let plain = true;
    let high = false;
    let i = pos + 1;
    while (i < len) {
      const b = buf[i];
      if (b === QUOTE) break;
      if (b === BACKSLASH) {
        plain = false;
        if (i + 1 >= len) return NEED_MORE;
        const c = buf[i + 1];
        if (c === 0x75) {
          if (i + 6 > len) return NEED_MORE;
          for (let k = i + 2; k < i + 6; k++) {
            if (hexValue(buf[k]) < 0) throw new SyntaxFault("Bad Unicode escape in JSON string", this.base + k);
          }
          i += 6;
          continue;
        }
        if (c !== QUOTE && c !== BACKSLASH && c !== 0x2f && c !== 0x62 && c !== 0x66 && c !== 0x6e && c !== 0x72 && c !== 0x74) {
          throw new SyntaxFault("Bad escaped character in JSON string", this.base + i + 1);
        }
        i += 2;
        continue;
      }
      if (b < 0x20) throw new SyntaxFault("Bad control character in string literal", this.base + i);
      if (b >= 0x80) high = true;
      i++;
    }
    if (i >= len) return NEED_MORE;
    if (high) {
      plain = false;
      if (!validUtf8(buf, pos + 1, i)) {
        throw new InputError("invalid-json", `${this.what} is not valid UTF-8 text`);
      }
    }
    this.plain = plain;
    return i + 1;
  }

  /** The value of the (already checked) string body buf[start, end). */
  private decode(buf: Uint8Array, start: number, end: number, _pos: number): string {
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

  // ---- the document -------------------------------------------------------------

  private finish(): ClosureDocument {
    const top = this.topKind;
    if (top === -1) {
      throw new InputError("unsupported-shape", `input must be a JSON list of store path entries or an object, got ${describe(this.rootValue)}`);
    }
    if (top === ARRAY) {
      if (this.entryError !== null) throw this.entryError;
      return this.document(this.firstLooksLikePathInfo && this.cols.count > 0 ? "path-info-list" : "references-graph", {});
    }
    if (this.graphSeen) {
      if (this.graphError !== null) throw this.graphError;
      if (this.entryError !== null) throw this.entryError;
      const extra: { -readonly [K in keyof ClosureDocument]?: ClosureDocument[K] } = {};
      if (this.hasPipeline && this.pipeline !== null) extra.pipeline = this.pipeline;
      if (this.hasExclude && this.exclude !== null) extra.excludePaths = pathList(this.exclude, "$.exclude_paths");
      const erg = this.erg;
      if (this.hasRoots && this.roots !== null) extra.roots = pathList(this.roots, "$.roots");
      else if (this.hasErg && isObject(erg) && Array.isArray(erg.graph)) extra.roots = pathList(erg.graph, "$.exportReferencesGraph.graph");
      return this.document("attrs-document", extra);
    }
    const keys = [...this.intKeys.sort((a, b) => Number(a) - Number(b)), ...this.strKeys];
    if (this.keyCount === 0) return this.document("path-info-object", {});
    if (!this.allKeysSlash) {
      throw new InputError(
        "unsupported-shape",
        `input object has neither a "graph" list nor store-path keys (keys: ${keys.slice(0, 5).map((k) => JSON.stringify(k)).join(", ")}${this.keyCount > 5 ? ", ..." : ""})`,
      );
    }
    if (this.repeats > 0) this.compactRepeats();
    for (const [, err] of [...(this.slotErrors ?? new Map<number, InputError>())].sort((a, b) => a[0] - b[0])) throw err;
    return this.document("path-info-object", {});
  }

  /** Path-info object with repeated keys: each key at its first position, holding its last value. */
  private compactRepeats(): void {
    const old = this.cols;
    const replaced = this.replacedBy!;
    const isRepeat = new Uint8Array(old.count);
    for (let s = 0; s < old.count; s++) if (s < replaced.length && replaced[s] >= 0) isRepeat[replaced[s]] = 1;
    const cols = new Columns();
    const errors = new Map<number, InputError>();
    for (let s = 0; s < old.count; s++) {
      if (isRepeat[s]) continue;
      let last = s;
      while (last < replaced.length && replaced[last] >= 0) last = replaced[last];
      for (let r = old.refOffsets[last]; r < old.refOffsets[last + 1]; r++) cols.pushRef(old.refIds[r]);
      const err = this.slotErrors!.get(last);
      if (err !== undefined) errors.set(cols.count, err);
      cols.pushEntry(old.pathId[last], old.narSize[last], old.closureSize[last]);
    }
    this.cols = cols;
    this.slotErrors = errors;
  }

  private document(format: ClosureFormat, extra: Partial<ClosureDocument>): ClosureDocument {
    const columns = finishColumns(this.interner.strings, this.cols);
    let entries: readonly ClosureEntry[] | undefined;
    const doc = {
      format,
      ...extra,
      // Materialised only when a strategy asks for entry objects.
      get entries(): readonly ClosureEntry[] {
        entries ??= entriesOf(columns);
        return entries;
      },
      [closureColumnsKey]: columns,
    };
    return doc;
  }
}

function newFrame(kind: number, role: number): Frame {
  return { kind, role, state: S_VALUE, field: 0, key: "", index: 0, value: undefined };
}

function newEntryState(): EntryState {
  return {
    where: undefined,
    listWhere: "$",
    index: 0,
    keyPath: -1,
    hasPath: false,
    pathId: -1,
    pathValue: undefined,
    hasNarSize: false,
    narSize: undefined,
    refsKind: 0,
    refsValue: undefined,
    refStart: 0,
    badRefIndex: -1,
    badRefValue: undefined,
    closureSize: Number.NaN,
    sawClosureSize: false,
    sawNarHash: false,
    sawValid: false,
  };
}

function finishColumns(strings: string[], c: Columns): ClosureColumns {
  let ids: Map<string, number> | undefined;
  return {
    strings,
    // Built on first use: the default pipeline never looks a path up by name here.
    get ids(): ReadonlyMap<string, number> {
      if (ids === undefined) {
        ids = new Map();
        for (let i = 0; i < strings.length; i++) ids.set(strings[i], i);
      }
      return ids;
    },
    count: c.count,
    pathId: c.pathId.slice(0, c.count),
    narSize: c.narSize.slice(0, c.count),
    closureSize: c.closureSize.slice(0, c.count),
    refOffsets: c.refOffsets.slice(0, c.count + 1),
    refIds: c.refIds.slice(0, c.refCount),
  };
}

/** ClosureEntry objects of the columns (for strategies that read doc.entries). */
export function entriesOf(c: ClosureColumns): ClosureEntry[] {
  const out: ClosureEntry[] = new Array(c.count);
  const { strings, refIds, refOffsets } = c;
  for (let i = 0; i < c.count; i++) {
    const refs: string[] = new Array(refOffsets[i + 1] - refOffsets[i]);
    for (let e = refOffsets[i], k = 0; e < refOffsets[i + 1]; e++, k++) refs[k] = strings[refIds[e]];
    const cs = c.closureSize[i];
    out[i] = Number.isNaN(cs)
      ? { path: strings[c.pathId[i]], narSize: c.narSize[i], references: refs }
      : { path: strings[c.pathId[i]], narSize: c.narSize[i], references: refs, closureSize: cs };
  }
  return out;
}

// ---- helpers ------------------------------------------------------------------

function fieldOf(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  const c = buf[start];
  if (n === 4 && c === 0x70 && buf[start + 1] === 0x61 && buf[start + 2] === 0x74 && buf[start + 3] === 0x68) return F_PATH;
  if (n === 7 && c === 0x6e) return bytesEqual(buf, start, "narSize") ? F_NAR_SIZE : bytesEqual(buf, start, "narHash") ? F_NAR_HASH : F_OTHER;
  if (n === 10 && c === 0x72) return bytesEqual(buf, start, "references") ? F_REFERENCES : F_OTHER;
  if (n === 11 && c === 0x63) return bytesEqual(buf, start, "closureSize") ? F_CLOSURE_SIZE : F_OTHER;
  if (n === 5 && c === 0x76) return bytesEqual(buf, start, "valid") ? F_VALID : F_OTHER;
  return F_OTHER;
}

function fieldOfName(name: string): number {
  switch (name) {
    case "path":
      return F_PATH;
    case "narSize":
      return F_NAR_SIZE;
    case "references":
      return F_REFERENCES;
    case "closureSize":
      return F_CLOSURE_SIZE;
    case "narHash":
      return F_NAR_HASH;
    case "valid":
      return F_VALID;
  }
  return F_OTHER;
}

function topKeyCode(key: string): number {
  switch (key) {
    case "graph":
      return K_GRAPH;
    case "pipeline":
      return K_PIPELINE;
    case "exclude_paths":
      return K_EXCLUDE;
    case "roots":
      return K_ROOTS;
    case "exportReferencesGraph":
      return K_ERG;
  }
  return key.charCodeAt(0) === 0x2f ? K_STORE_PATH : K_OTHER;
}

function bytesEqual(buf: Uint8Array, start: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

function isArrayIndex(key: string): boolean {
  // Object.keys puts canonical array indices (0 .. 2^32-2) first.
  if (!/^(0|[1-9][0-9]*)$/.test(key)) return false;
  return Number(key) < 4294967295;
}

function setOwn(obj: Record<string, unknown>, key: string, v: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
  else obj[key] = v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** readPathList of document.ts. */
function pathList(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new InputError("unsupported-shape", `${where} must be a list of paths, got ${describe(v)}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== "string") throw new InputError("bad-path", `${where}[${i}] must be a string, got ${describe(v[i])}`);
  }
  return v as string[];
}

/** readSize of document.ts, returning the error instead of throwing it. */
function sizeError(v: unknown, where: string, path: string): InputError | null {
  if (typeof v !== "number") return new InputError("bad-nar-size", `${where} ("${path}") must be a number of bytes, got ${describe(v)}`, path);
  if (!Number.isInteger(v)) return new InputError("bad-nar-size", `${where} ("${path}") must be a whole number of bytes, got ${v}`, path);
  if (v < 0) return new InputError("bad-nar-size", `${where} ("${path}") must not be negative, got ${v}`, path);
  if (!Number.isSafeInteger(v)) {
    return new InputError("bad-nar-size", `${where} ("${path}") is ${v}, above 2^53-1 bytes, which strata cannot represent exactly`, path);
  }
  return null;
}

/** End of the JSON number at pos, checking its grammar; NEED_MORE if it may continue. */
function scanNumber(buf: Uint8Array, pos: number, final: boolean, base: number): number {
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
function numberAt(buf: Uint8Array, start: number, end: number): number {
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

function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start < 4096) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  return utf8Text(buf, start, end);
}

// ignoreBOM: a string token starting with U+FEFF keeps it (JSON.parse does); only the
// document's leading byte order mark is dropped, above.
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
    if (b >= 0xc2 && b <= 0xdf) (need = 1), (min = 0x80), (cp = b & 0x1f);
    else if (b >= 0xe0 && b <= 0xef) (need = 2), (min = 0x800), (cp = b & 0x0f);
    else if (b >= 0xf0 && b <= 0xf4) (need = 3), (min = 0x10000), (cp = b & 0x07);
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

/** Writes the WTF-8 bytes of s (UTF-8, lone surrogates as 3 bytes) into p's scratch; returns the length. */
function wtf8(s: string, p: { ensureScratch(n: number): Uint8Array }): number {
  const out = p.ensureScratch(s.length * 3);
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

/** Parses a whole byte array (tests, small inputs): the same as feeding it in one chunk. */
export function parseClosureBytes(bytes: Uint8Array, options: StreamReadOptions = {}): ClosureDocument {
  const p = new ClosureStreamParser(options);
  p.push(bytes);
  return p.end();
}

/** Parses chunks from any (async) iterable: a Node stream, a web ReadableStream reader loop, ... */
export async function parseClosureChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: StreamReadOptions = {},
  onChunk?: (parser: ClosureStreamParser) => void,
): Promise<ClosureDocument> {
  const p = new ClosureStreamParser(options);
  for await (const chunk of chunks) {
    p.push(chunk);
    onChunk?.(p);
  }
  return p.end();
}
