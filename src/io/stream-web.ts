// Web side of the streaming closure reader (browsers, Web Workers, and any
// runtime with Blob, ReadableStream and DecompressionStream): a File, a Blob, a
// fetch body or bytes, gunzipped as a stream when the first bytes say gzip,
// fed to the platform-neutral parser through readClosureChunks, the same
// reading policy as the CLI's (src/io/stream-node.ts). A 1M-path closure is
// more text than one JS string can hold, in a browser too: nothing here makes
// the whole text, and a Blob is read piece by piece, never as one buffer.
import { InputError } from "../errors.js";
import type { ClosureDocument } from "../graph/document.js";
import { isGzip } from "./decode.js";
import { joinChunks, readClosureChunks, type ChunkReadOptions } from "./stream-json.js";

/** What the web reader takes: a File or Blob, a byte stream (a fetch body), or bytes. */
export type WebClosureSource = Blob | ReadableStream<Uint8Array> | ArrayBuffer | ArrayBufferView;

/** Bytes are fed in pieces of this size, so progress and memory behave as with a stream. */
const PIECE = 1 << 20;

/** Reads a closure document from a web source (gzip detected by content). */
export async function readClosureWeb(source: WebClosureSource, options: ChunkReadOptions = {}): Promise<ClosureDocument> {
  // The input's length (compressed for gzip: a lower bound) sizes the reader's interner.
  const expectedBytes =
    options.expectedBytes ??
    (source instanceof Blob ? source.size : source instanceof ArrayBuffer || ArrayBuffer.isView(source) ? source.byteLength : undefined);
  return readClosureChunks(webChunks(source, options.what ?? "input"), { ...options, expectedBytes });
}

async function* webChunks(source: WebClosureSource, what: string): AsyncGenerator<Uint8Array> {
  let stream: ReadableStream<Uint8Array>;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    if (!isGzip(bytes)) {
      for (let at = 0; at < bytes.length; at += PIECE) yield bytes.subarray(at, at + PIECE);
      return;
    }
    stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  } else if (source instanceof Blob) stream = source.stream();
  else stream = source;

  // The first two bytes decide gzip; the pieces read to see them are replayed.
  const reader = stream.getReader();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < 2) {
    const r = await reader.read();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    headBytes += r.value.length;
  }
  const first = head.length === 1 ? head[0] : joinChunks(head, headBytes);
  if (!isGzip(first)) {
    if (first.length > 0) yield first;
    while (!done) {
      const r = await reader.read();
      if (r.done) break;
      yield r.value;
    }
    return;
  }
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(first);
      if (done) controller.close();
    },
    async pull(controller) {
      const r = await reader.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const gunzipped = replay.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>).getReader();
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await gunzipped.read();
    } catch (e) {
      throw new InputError("invalid-json", `${what} looks gzip-compressed but does not decompress: ${(e as Error).message}`);
    }
    if (r.done) return;
    yield r.value;
  }
}
