// Streaming closure reader: turns UTF-8 JSON bytes, fed in chunks of any size,
// into a ClosureDocument without ever holding the whole text. Results and
// InputErrors are those of JSON.parse + readClosureDocument
// (src/graph/document.ts); invalid-json messages name a byte offset instead of
// V8's wording. Split by concern under src/io/stream/:
//   tokens.ts         bytes to JSON tokens (strings, numbers, UTF-8)
//   interner.ts       store paths to dense ids, hashed and compared in place
//   columns.ts        entries as typed-array columns (ClosureColumns)
//   closure-shape.ts  what the entries mean, and readClosureDocument's errors
//   parser.ts         the pushdown grammar that ties them together
//
// Platform-neutral on purpose (no Node built-ins): Node feeds it file or zlib
// chunks (src/io/stream-node.ts), browsers and workers a Blob or a fetch body
// through DecompressionStream (src/io/stream-web.ts).
import { InputError } from "../errors.js";
import { parseJsonText, readClosureDocument, type ClosureDocument, type ReadOptions } from "../graph/document.js";
import { decodeUtf8 } from "./decode.js";
import { ClosureStreamParser } from "./stream/parser.js";
import type { ReaderBackend } from "./stream/closure-shape.js";

export { ClosureStreamParser } from "./stream/parser.js";
export { entriesOf } from "./stream/columns.js";
export { validUtf8 } from "./stream/tokens.js";

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
  /** The input's length in bytes when known (a file's size, a Blob's): sizes the path interner up front. */
  readonly expectedBytes?: number;
  /**
   * "wasm" (default): a Wasm scanner reads the plain closure entries and the
   * TypeScript parser the rest; "ts": the TypeScript parser alone;
   * "wasm-debug": the debug Wasm build (tests). Same results and messages.
   */
  readonly reader?: ReaderBackend;
}

/** Parses a whole byte array (tests, small inputs): the same as feeding it in one chunk. */
export function parseClosureBytes(bytes: Uint8Array, options: StreamReadOptions = {}): ClosureDocument {
  const p = new ClosureStreamParser({ expectedBytes: bytes.length, ...options });
  p.push(bytes);
  return p.end();
}

export interface ChunkReadOptions extends StreamReadOptions {
  /**
   * Inputs up to this many bytes keep their bytes while they stream, so an
   * error in them is reported by JSON.parse + readClosureDocument, in V8's
   * wording, as before streaming existed (default 16 MiB; 0: never, every
   * invalid-json message names a byte offset).
   */
  readonly smallInputBytes?: number;
  /** Name in the "not valid UTF-8" message of the whole-text path (default: `what`; the CLI gives "-" for stdin there). */
  readonly source?: string;
  /**
   * Gives the whole input again (a file is read twice rather than held): when
   * set, small inputs are not held while they stream, and only an input with an
   * error is read again, for the whole-text path's message.
   */
  readonly reread?: () => Promise<Uint8Array>;
  /** Called after each chunk is parsed (progress displays). */
  readonly onChunk?: (parser: ClosureStreamParser) => void;
}

/** Up to this size an input's bytes are cheap to hold: less than JSON.parse's objects for them would be. */
export const defaultSmallInputBytes = 16 * 1024 * 1024;

/**
 * Reads a closure document from decompressed chunks (a Node stream, a web
 * ReadableStream, ...): the one reading policy of the CLI, the library and the
 * browser worker. Everything streams; see `smallInputBytes` for errors.
 */
export async function readClosureChunks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: ChunkReadOptions = {}): Promise<ClosureDocument> {
  const what = options.what ?? "input";
  const small = options.smallInputBytes ?? defaultSmallInputBytes;
  const parser = new ClosureStreamParser(options);
  const reread = options.reread;
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let holding = small > 0 && reread === undefined;
  let total = 0;
  let failure: InputError | undefined;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (holding) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes > small) {
        holding = false;
        held.length = 0;
      }
    }
    if (failure === undefined) {
      try {
        parser.push(chunk);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        failure = e; // read on while the input may still be small: the whole-text path then names the error
      }
    }
    if (failure !== undefined && total > small) throw failure;
    options.onChunk?.(parser);
  }
  if (failure === undefined) {
    try {
      return parser.end();
    } catch (e) {
      if (!(e instanceof InputError) || total > small) throw e;
    }
  }
  return wholeText(reread !== undefined ? await reread() : held.length === 1 ? held[0] : joinChunks(held, heldBytes), what, options);
}

/**
 * A small input with a problem: the whole-text path (UTF-8 decode, JSON.parse,
 * readClosureDocument) reports it, so small inputs keep V8's JSON wording.
 */
function wholeText(bytes: Uint8Array, what: string, options: ChunkReadOptions): ClosureDocument {
  const text = decodeUtf8(bytes, options.source ?? what);
  return readClosureDocument(parseJsonText(text, what), options);
}

/** The chunks copied end to end into one new array of `total` bytes. */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
