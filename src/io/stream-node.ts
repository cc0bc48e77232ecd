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
import type { ClosureDocument } from "../graph/document.js";
import { isGzip } from "./decode.js";
import { defaultSmallInputBytes, joinChunks, readClosureChunks, type ClosureStreamParser, type ReadProgress, type StreamReadOptions } from "./stream-json.js";

export { defaultSmallInputBytes };

export interface NodeStreamReadOptions extends StreamReadOptions {
  /** See ChunkReadOptions.smallInputBytes (default 16 MiB; 0: every invalid-json message names a byte offset). */
  readonly smallInputBytes?: number;
  /** Read chunk size (default 1 MiB). */
  readonly chunkBytes?: number;
  /** Called after each chunk and once when done; for progress displays. */
  readonly onProgress?: (p: ReadProgress) => void;
}

/** The InputError for a file or stdin that cannot be read. */
export function openError(source: string, e: unknown): InputError {
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
  // The file's size also sizes the reader's interner (gzip input: only a lower bound, which is harmless).
  if (source !== "-") {
    try {
      totalBytes = (await stat(source)).size;
    } catch {
      totalBytes = undefined; // the read below reports the problem
    }
  }
  const counter = { raw: 0 };
  let parser: ClosureStreamParser | undefined;
  const report = (stage: ReadProgress["stage"]) => {
    if (onProgress === undefined) return;
    const p: { -readonly [K in keyof ReadProgress]: ReadProgress[K] } = {
      stage,
      bytes: parser?.bytes ?? 0,
      entries: parser?.entries ?? 0,
      compressedBytes: counter.raw,
    };
    if (totalBytes !== undefined) p.totalBytes = totalBytes;
    onProgress(p);
  };
  const doc = await readClosureChunks(inputChunks(source, options.chunkBytes ?? 1 << 20, counter), {
    ...options,
    expectedBytes: options.expectedBytes ?? totalBytes,
    what,
    source,
    smallInputBytes: small,
    // A file is read again for an error's message rather than held while it streams; stdin is held.
    reread: source === "-" ? undefined : () => wholeInput(source, options.chunkBytes ?? 1 << 20),
    onChunk: (p) => {
      parser = p;
      report("parsing");
    },
  });
  report("done");
  return doc;
}

/** The whole (decompressed) input of a file, for the rare second read. */
async function wholeInput(source: string, chunkBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of inputChunks(source, chunkBytes, { raw: 0 })) {
    chunks.push(c);
    total += c.length;
  }
  return joinChunks(chunks, total);
}
