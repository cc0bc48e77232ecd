// Platform-neutral byte decoding: gzip is recognised by its magic bytes, never
// by the file name. Node uses zlib (src/io/node.ts); browsers and workers use
// DecompressionStream.
import { InputError } from "../errors.js";

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8 text; bytes that are not UTF-8 are the user's input error (InputError "invalid-json"). */
export function decodeUtf8(bytes: Uint8Array, what = "input"): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InputError("invalid-json", `${what} is not valid UTF-8 text`);
  }
}

/** Gunzips with the web platform's DecompressionStream (browsers, workers, Node >= 18). */
export async function gunzipWeb(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
