// The Wasm fast path of the streaming closure reader (assembly/reader.ts): a
// path interner in linear memory, and a scanner that reads whole closure
// entries from a window of the input into columns. The TypeScript parser
// (parser.ts) still drives the document; it hands the scanner each run of
// entries in a list, and reads itself whatever the scanner leaves (see the
// header of assembly/reader.ts), interning through this same interner so ids
// are shared. Results and messages are the TypeScript parser's by
// construction; test/reader-backends.test.ts checks it on random documents.
//
// Each reader gets its own instance of the compiled module (compiled once per
// process, shared with the graph kernels), so its memory goes when the reader
// does and never mixes with the kernels' arena.
import { InputError } from "../../errors.js";
import { wasmModule, type WasmVariant } from "../../wasm/load.js";
import { arenaText, byteString, internerSizes, wtf8, type PathInterner } from "./interner.js";

interface ReaderExports {
  readonly memory: WebAssembly.Memory;
  readerInit(slots: number, arenaBytes: number, keys: number, window: number): number;
  readerInput(): number;
  readerScratch(bytes: number): number;
  readerCount(): number;
  readerRehashes(): number;
  readerArena(): number;
  readerUsed(): number;
  readerKeyStart(): number;
  readerKeyLen(): number;
  readerEntries(): number;
  readerRefCount(): number;
  readerOutPath(): number;
  readerOutNar(): number;
  readerOutClosure(): number;
  readerOutRefEnd(): number;
  readerOutRefs(): number;
  readerIntern(ptr: number, len: number): number;
  readerFindPlain(ptr: number, len: number): number;
  readerScan(start: number, end: number, requireNarSize: number): number;
  readerScanObject(start: number, end: number, requireNarSize: number): number;
}

/** Where the entries of one scan go: appended to columns (lists), or one by one (path-info objects). */
export interface ScanSink {
  append(k: number, pathId: Uint32Array, narSize: Float64Array, closureSize: Float64Array, refEnd: Uint32Array, refs: Uint32Array): void;
}

/** Bytes of input the scanner sees at once (copied into linear memory); less for an input known to be smaller. */
const WINDOW = 1 << 20;
const MIN_WINDOW = 1 << 16;
/** A window is copied again when fewer bytes than this are left in it (an entry would not fit). */
const LOOKAHEAD = 1 << 17;

function outOfMemory(): InputError {
  return new InputError("too-large", "the closure's paths do not fit in the reader's WebAssembly memory (4 GiB)");
}

export class WasmInterner implements PathInterner {
  private readonly x: ReaderExports;
  /** JS strings given for keys that were decoded (escapes, non-ASCII). */
  private values: (string | undefined)[] = [];
  private made: string[] | null = null;
  private text = new Uint8Array(256);
  /** The buffer whose bytes [winStart, winEnd) are in the input window (null: none). */
  private winBuf: Uint8Array | null = null;
  private winStart = 0;
  private winEnd = 0;
  private readonly window: number;
  /** Entries read by the scanner (tests: proof the fast path ran). */
  scanned = 0;

  constructor(expectedBytes: number, variant: WasmVariant = "release") {
    this.x = new WebAssembly.Instance(wasmModule(variant), {}).exports as unknown as ReaderExports;
    const z = internerSizes(expectedBytes);
    this.window = expectedBytes > 0 ? Math.min(WINDOW, Math.max(MIN_WINDOW, expectedBytes)) : WINDOW;
    if (this.x.readerInit(z.slots, z.arenaBytes, z.keys, this.window) === 0) throw outOfMemory();
  }

  get size(): number {
    return this.x.readerCount();
  }

  get rehashes(): number {
    return this.x.readerRehashes();
  }

  private u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, ptr, length);
  }

  /** Copies bytes[start, end) into the scratch block; returns its pointer. */
  private put(bytes: Uint8Array, start: number, end: number): number {
    const ptr = this.x.readerScratch(Math.max(1, end - start));
    if (ptr === 0) throw outOfMemory();
    this.u8(ptr, end - start).set(bytes.subarray(start, end));
    return ptr;
  }

  findPlain(bytes: Uint8Array, start: number, end: number): number {
    return this.x.readerFindPlain(this.put(bytes, start, end), end - start);
  }

  intern(bytes: Uint8Array, start: number, end: number, _h: number, value: string | null): number {
    const before = this.x.readerCount();
    const id = this.x.readerIntern(this.put(bytes, start, end), end - start);
    if (id < 0) throw outOfMemory();
    if (value !== null && id === before) this.values[id] = value;
    return id;
  }

  internValue(s: string): number {
    if (this.text.length < s.length * 3) this.text = new Uint8Array(Math.max(s.length * 3, this.text.length * 2));
    const n = wtf8(s, this.text);
    return this.intern(this.text, 0, n, 0, s);
  }

  stringOf(id: number): string {
    if (this.made !== null && id < this.made.length) return this.made[id];
    const v = this.values[id];
    if (v !== undefined) return v;
    const x = this.x;
    const start = new Uint32Array(x.memory.buffer, x.readerKeyStart() + id * 4, 1)[0];
    const len = new Uint32Array(x.memory.buffer, x.readerKeyLen() + id * 4, 1)[0];
    return byteString(this.u8(x.readerArena(), x.readerUsed()), start, start + len);
  }

  /** Every string by id, made once (as Interner.strings: one Latin-1 string of the arena, sliced). */
  get strings(): string[] {
    const count = this.size;
    if (this.made !== null && this.made.length === count) return this.made;
    const x = this.x;
    const used = x.readerUsed();
    const arena = this.u8(x.readerArena(), used);
    const starts = new Uint32Array(x.memory.buffer, x.readerKeyStart(), count);
    const lens = new Uint32Array(x.memory.buffer, x.readerKeyLen(), count);
    const text = used <= 1 << 27 ? arenaText(arena, used) : null;
    const out: string[] = new Array(count);
    for (let id = 0; id < count; id++) {
      const start = starts[id];
      const end = start + lens[id];
      out[id] = this.values[id] ?? (text !== null ? text.slice(start, end) : byteString(arena, start, end));
    }
    this.made = out;
    return out;
  }

  /** The parser starts on a new buffer: the window no longer holds its bytes. */
  forget(): void {
    this.winBuf = null;
  }

  /**
   * Reads the run of whole entries starting at buf[pos] (a list entry's "{",
   * or, with `object`, a path-info member's key) into `sink`. Returns the
   * position after the last entry read, or pos when the scanner read none
   * (the parser then reads the entry itself), and how many it read.
   */
  scanEntries(buf: Uint8Array, pos: number, requireNarSize: boolean, sink: ScanSink, object = false): { end: number; count: number } {
    const x = this.x;
    if (this.winBuf !== buf || pos < this.winStart || (this.winEnd < buf.length && pos + Math.min(LOOKAHEAD, this.window >> 2) > this.winEnd)) {
      const end = Math.min(buf.length, pos + this.window);
      this.u8(x.readerInput(), end - pos).set(buf.subarray(pos, end));
      this.winBuf = buf;
      this.winStart = pos;
      this.winEnd = end;
    }
    const from = pos - this.winStart;
    const to = this.winEnd - this.winStart;
    const stop = object ? x.readerScanObject(from, to, requireNarSize ? 1 : 0) : x.readerScan(from, to, requireNarSize ? 1 : 0);
    const k = x.readerEntries();
    if (k === 0) return { end: pos, count: 0 };
    const mem = x.memory.buffer;
    sink.append(
      k,
      new Uint32Array(mem, x.readerOutPath(), k),
      new Float64Array(mem, x.readerOutNar(), k),
      new Float64Array(mem, x.readerOutClosure(), k),
      new Uint32Array(mem, x.readerOutRefEnd(), k),
      new Uint32Array(mem, x.readerOutRefs(), x.readerRefCount()),
    );
    this.scanned += k;
    return { end: this.winStart + stop, count: k };
  }
}
