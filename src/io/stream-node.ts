// Node side of the streaming closure reader: file or stdin chunks, gunzipped
// by zlib when the first bytes say gzip, fed to the platform-neutral parser.
// Every input streams (the columns it builds are faster to plan from and far
// smaller than JSON.parse's objects). Inputs that turn out small also keep
// their bytes until the end: if they hold an error, the whole-text path
// (JSON.parse + readClosureDocument) reports it, so small inputs keep V8's
// exact syntax-error wording.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { InputError } from "../errors.js";
import { parseJsonText, readClosureDocument, type ClosureDocument } from "../graph/document.js";
import { decodeUtf8, isGzip } from "./decode.js";
import { ClosureStreamParser, type ReadProgress, type StreamReadOptions } from "./stream-json.js";

export interface NodeStreamReadOptions extends StreamReadOptions {
  /**
   * Decompressed inputs up to this many bytes keep their bytes while streaming, so an error
   * in them is reported by JSON.parse + readClosureDocument, in V8's wording (default 16 MiB;
   * 0: never, every error names a byte offset).
   */
  readonly smallInputBytes?: number;
  /** Read chunk size (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Called after each chunk and once when done; for progress displays. */
  readonly onProgress?: (p: ReadProgress) => void;
}

// Up to this size an input's bytes are cheap to hold (they are less than JSON.parse's objects would be).
export const defaultSmallInputBytes = 16 * 1024 * 1024;

function openError(source: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
  return new InputError("unsupported-shape", `cannot read ${source}: ${why}`);
}

/** Decompressed chunks of a file ("-": stdin), counting the raw bytes read. */
async function* inputChunks(source: string, chunkBytes: number, counter: { raw: number }): AsyncGenerator<Uint8Array> {
  const input: Readable = source === "-" ? process.stdin : createReadStream(source, { highWaterMark: chunkBytes });
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: IteratorResult<Buffer>;
  try {
    first = await it.next();
  } catch (e) {
    throw openError(source, e);
  }
  if (first.done) return;
  counter.raw += first.value.length;
  if (!isGzip(first.value)) {
    yield first.value;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      counter.raw += r.value.length;
      yield r.value;
    }
  }
  // zlib is loaded only for gzip input (start-up time of every other run).
  const { createGunzip } = await import("node:zlib");
  const gunzip = createGunzip({ chunkSize: Math.max(64, chunkBytes) });
  // Feeds the compressed bytes with back-pressure; errors surface through the gunzip iterator.
  const feed = (async () => {
    try {
      let r: IteratorResult<Buffer> = first;
      while (!r.done) {
        if (!gunzip.write(r.value)) await new Promise<void>((resolve) => gunzip.once("drain", resolve));
        r = await it.next();
        if (!r.done) counter.raw += r.value.length;
      }
      gunzip.end();
    } catch (e) {
      gunzip.destroy(e as Error);
    }
  })();
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError("invalid-json", `${source} looks gzip-compressed but does not decompress: ${(e as Error).message}`);
  } finally {
    await feed;
  }
}

/**
 * Reads a closure document from a file or stdin ("-") like readClosureInput,
 * streaming when it is large: memory stays proportional to the closure, not to
 * the text (a 1M-path file is more text than a JS string can hold).
 */
export async function readClosureStream(source: string, options: NodeStreamReadOptions = {}): Promise<ClosureDocument> {
  const what = options.what ?? (source === "-" ? "stdin" : source);
  const small = options.smallInputBytes ?? defaultSmallInputBytes;
  const onProgress = options.onProgress;
  let totalBytes: number | undefined;
  if (source !== "-" && onProgress !== undefined) {
    try {
      totalBytes = (await stat(source)).size;
    } catch {
      totalBytes = undefined; // the read below reports the problem
    }
  }
  const counter = { raw: 0 };
  const parser = new ClosureStreamParser({ ...options, what });
  // Small inputs keep their bytes while they stream, for the exact error below.
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let holding = small > 0;
  let failure: InputError | undefined;
  const report = (stage: ReadProgress["stage"]) => {
    if (onProgress === undefined) return;
    const p: { -readonly [K in keyof ReadProgress]: ReadProgress[K] } = { stage, bytes: parser.bytes, entries: parser.entries, compressedBytes: counter.raw };
    if (totalBytes !== undefined) p.totalBytes = totalBytes;
    onProgress(p);
  };
  for await (const chunk of inputChunks(source, options.chunkBytes ?? 1 << 20, counter)) {
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
        if (!holding || !(e instanceof InputError)) throw e;
        failure = e; // read on: the whole-text path below names the error
      }
    } else if (!holding) throw failure; // grew past the small-input size after an error: the streaming error stands

    report("parsing");
  }
  if (failure === undefined) {
    try {
      const doc = parser.end();
      report("done");
      return doc;
    } catch (e) {
      if (!holding || !(e instanceof InputError)) throw e;
    }
  }
  // A small input with a problem: the whole-text path (UTF-8 decode, JSON.parse,
  // readClosureDocument) reports it, so small inputs keep V8's JSON wording.
  const bytes = held.length === 1 ? held[0] : concat(held, heldBytes);
  let text: string;
  try {
    text = decodeUtf8(bytes, source);
  } catch (e) {
    throw new InputError("invalid-json", (e as Error).message);
  }
  const doc = readClosureDocument(parseJsonText(text, what), options);
  report("done");
  return doc;
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
