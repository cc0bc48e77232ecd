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
import type { ClosureDocument, ReadOptions } from "../graph/document.js";
import { ClosureStreamParser } from "./stream/parser.js";

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
}

/** Parses a whole byte array (tests, small inputs): the same as feeding it in one chunk. */
export function parseClosureBytes(bytes: Uint8Array, options: StreamReadOptions = {}): ClosureDocument {
  const p = new ClosureStreamParser(options);
  p.push(bytes);
  return p.end();
}
