// The closure-document rules of the streaming reader: what the entries of
// an exportReferencesGraph list, an attrs document or a path-info object mean,
// and which InputError readClosureDocument (src/graph/document.ts) would throw
// for them, with the same codes, messages, locations and precedence. The
// grammar (parser.ts) reports values here; entries go into columns.ts, paths
// through interner.ts. Validation errors are held until the end of the input,
// because a later JSON syntax error must win, as it does when JSON.parse runs
// before readClosureDocument.
import { InputError } from "../../errors.js";
import { closureColumnsKey } from "../../graph/closure.js";
import {
  describe,
  isObject,
  readPathList,
  readSize,
  unsupportedShape,
  type ClosureDocument,
  type ClosureEntry,
  type ClosureFormat,
} from "../../graph/document.js";
import { Columns, entriesOf, finishColumns } from "./columns.js";
import { Interner, type PathInterner } from "./interner.js";
import { WasmInterner } from "./wasm-interner.js";

/** Which reader reads the entries: the Wasm fast path (default) or the TypeScript parser alone. */
export type ReaderBackend = "wasm" | "wasm-debug" | "ts";

export const ARRAY = 0;
export const OBJECT = 1;

// Entry fields strata reads.
export const F_OTHER = 0;
export const F_PATH = 1;
export const F_NAR_SIZE = 2;
export const F_REFERENCES = 3;
export const F_CLOSURE_SIZE = 4;
export const F_NAR_HASH = 5;
export const F_VALID = 6;

// Top-level keys with meaning.
export const K_OTHER = 0;
export const K_GRAPH = 1;
export const K_STORE_PATH = 2;
export const K_PIPELINE = 3;
export const K_EXCLUDE = 4;
export const K_ROOTS = 5;
export const K_ERG = 6;

/** The entry being read (entries do not nest, so one record serves all). */
export interface EntryState {
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

/** The document being read: entries in columns plus the shape facts its messages need. */
export class ClosureShape {
  interner: PathInterner;
  /** The interner when it is the Wasm fast path's (its scanner reads entries), else null. */
  fast: WasmInterner | null = null;
  cols = new Columns();
  readonly entry: EntryState = newEntryState();

  // Shape facts.
  topKind = -1; // ARRAY, OBJECT or -1 for a scalar
  rootValue: unknown = undefined;
  graphSeen = false;
  private firstLooksLikePathInfo = false;
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

  /** `expectedBytes`: the input's length when known (0: unknown), to size the interner. */
  constructor(
    readonly requireNarSize: boolean,
    private readonly expectedBytes = 0,
    private readonly backend: ReaderBackend = "wasm",
  ) {
    this.interner = this.newInterner();
  }

  private newInterner(): PathInterner {
    this.fast = null;
    if (this.backend !== "ts" && typeof WebAssembly === "object") {
      try {
        this.fast = new WasmInterner(this.expectedBytes, this.backend === "wasm-debug" ? "debug" : "release");
        return this.fast;
      } catch {
        // No usable WebAssembly here (a policy forbids it, memory): the TypeScript parser reads alone.
        this.fast = null;
      }
    }
    return new Interner(this.expectedBytes);
  }

  /** A complete value of an entry field. */
  entryValue(field: number, v: unknown): void {
    const e = this.entry;
    switch (field) {
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
  }

  /** The entry's path, interned (-1: the empty string). */
  entryPath(id: number): void {
    const e = this.entry;
    e.hasPath = true;
    e.pathId = id;
    e.pathValue = "";
  }

  /** An entry's references list opens (a repeated "references" key: the last one counts). */
  startRefs(): void {
    const e = this.entry;
    e.refsKind = 1;
    e.badRefIndex = -1;
    this.cols.refCount = e.refStart;
  }

  /** Something other than a non-empty string at references[index]; the first one is reported. */
  badRef(index: number, v: unknown): void {
    const e = this.entry;
    if (e.badRefIndex < 0) {
      e.badRefIndex = index;
      e.badRefValue = v;
    }
  }

  /** Not an object where an entry belongs. */
  badListItem(index: number, v: unknown): void {
    this.entryFailed(new InputError("bad-entry", `${this.entry.listWhere}[${index}] must be an object with "path", got ${describe(v)}`));
  }

  /** A complete value under a top-level key of an object document. */
  topValue(field: number, key: string, v: unknown): void {
    switch (field) {
      case K_GRAPH:
        this.graphSeen = true;
        this.resetEntries();
        this.graphError = new InputError("unsupported-shape", `$.graph must be a list of store path entries, got ${describe(v)}`);
        break;
      case K_STORE_PATH: {
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

  /**
   * Whether the Wasm scanner may read path-info members now: no "graph" yet,
   * and topKey has the first keys its messages need, so further store path
   * keys change nothing there.
   */
  pathInfoSettled(): boolean {
    return !this.graphSeen && this.strKeys.length >= 6;
  }

  /** Path-info members the Wasm scanner read (valid entries): placed as endEntry places them. */
  readonly pathInfoSink = {
    append: (k: number, pathId: Uint32Array, narSize: Float64Array, closureSize: Float64Array, refEnd: Uint32Array, refs: Uint32Array): void => {
      let r0 = 0;
      for (let i = 0; i < k; i++) {
        this.entry.keyPath = pathId[i];
        this.placeSlot();
        const r1 = refEnd[i];
        for (let r = r0; r < r1; r++) this.cols.pushRef(refs[r]);
        this.cols.pushEntry(pathId[i], narSize[i], closureSize[i]);
        r0 = r1;
      }
    },
  };

  /** The top-level "graph" list opens. */
  startGraph(): void {
    this.graphSeen = true;
    this.graphError = null;
    this.startList("$.graph");
  }

  fieldSeen(field: number): void {
    const e = this.entry;
    if (field === F_CLOSURE_SIZE) e.sawClosureSize = true;
    else if (field === F_NAR_HASH) e.sawNarHash = true;
    else if (field === F_VALID) e.sawValid = true;
  }

  /** Tracks the top-level object's keys as far as readClosureDocument's messages need them. */
  topKey(key: string): void {
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

  // ---- entries ----------------------------------------------------------------

  startList(where: string): void {
    this.resetEntries();
    this.entry.listWhere = where;
  }

  private resetEntries(): void {
    // A fresh interner only when the old one holds something (it is sized for the input).
    if (this.interner.size > 0) this.interner = this.newInterner();
    if (this.cols.count > 0 || this.cols.refCount > 0) this.cols = new Columns();
    this.entryError = null;
    this.slotOfString = null;
    this.replacedBy = null;
    this.slotErrors = null;
    this.repeats = 0;
  }

  startEntry(index: number): void {
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
      e.where = e.index >= 0 ? `${e.listWhere}[${e.index}]` : `$[${JSON.stringify(this.interner.stringOf(e.keyPath))}]`;
    }
    return e.where;
  }

  /** Validates the entry just closed, in readEntry's order, and appends it. */
  endEntry(): void {
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
      err = this.checkFields(pathId);
    }
    if (pathInfo) {
      const slot = this.placeSlot();
      this.cols.pushEntry(pathId, err === null ? ((e.narSize as number) ?? 0) : 0, e.closureSize);
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

  /** The entry's first field error, in readEntry's order (its path string is made only for a message). */
  private checkFields(pathId: number): InputError | null {
    const e = this.entry;
    const ok =
      (e.hasNarSize ? typeof e.narSize === "number" && Number.isSafeInteger(e.narSize) && e.narSize >= 0 : !this.requireNarSize) &&
      e.refsKind !== 2 &&
      !(e.refsKind === 1 && e.badRefIndex >= 0);
    if (ok) return null;
    const path = this.interner.stringOf(pathId);
    if (e.hasNarSize) {
      const v = e.narSize;
      if (!(typeof v === "number" && Number.isSafeInteger(v) && v >= 0)) {
        try {
          readSize(v, `${this.entryWhere()}.narSize`, path);
        } catch (err) {
          return err as InputError;
        }
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

  finish(): ClosureDocument {
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
      if (this.hasExclude && this.exclude !== null) extra.excludePaths = readPathList(this.exclude, "$.exclude_paths");
      const erg = this.erg;
      if (this.hasRoots && this.roots !== null) extra.roots = readPathList(this.roots, "$.roots");
      else if (this.hasErg && isObject(erg) && Array.isArray(erg.graph)) extra.roots = readPathList(erg.graph, "$.exportReferencesGraph.graph");
      return this.document("attrs-document", extra);
    }
    const keys = [...this.intKeys.sort((a, b) => Number(a) - Number(b)), ...this.strKeys];
    if (this.keyCount === 0) return this.document("path-info-object", {});
    if (!this.allKeysSlash) throw unsupportedShape(keys);
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

// ---- key names ----------------------------------------------------------------

/** The entry field named by plain key bytes buf[start, end). */
export function fieldOf(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  const c = buf[start];
  if (n === 4 && c === 0x70 && buf[start + 1] === 0x61 && buf[start + 2] === 0x74 && buf[start + 3] === 0x68) return F_PATH;
  if (n === 7 && c === 0x6e) return bytesEqual(buf, start, "narSize") ? F_NAR_SIZE : bytesEqual(buf, start, "narHash") ? F_NAR_HASH : F_OTHER;
  if (n === 10 && c === 0x72) return bytesEqual(buf, start, "references") ? F_REFERENCES : F_OTHER;
  if (n === 11 && c === 0x63) return bytesEqual(buf, start, "closureSize") ? F_CLOSURE_SIZE : F_OTHER;
  if (n === 5 && c === 0x76) return bytesEqual(buf, start, "valid") ? F_VALID : F_OTHER;
  return F_OTHER;
}

/** The entry field of a decoded key. */
export function fieldOfName(name: string): number {
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

/** The meaning of a top-level key of an object document. */
export function topKeyCode(key: string): number {
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
