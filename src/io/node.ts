// Node-only input and output: files, stdin, gzip through zlib, atomic writes.
import { readFile, rename, writeFile, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InputError } from "../errors.js";
import { decodeUtf8, isGzip } from "./decode.js";
import { parseJsonText, type ClosureDocument, type ReadOptions } from "../graph/document.js";
import { openError, readClosureStream } from "./stream-node.js";
import type { ReadProgress } from "./stream-json.js";

async function readAllStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a file (or stdin for "-") as text, gunzipping when the bytes are gzip. */
export async function readTextInput(source: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = source === "-" ? await readAllStdin() : await readFile(source);
  } catch (e) {
    throw openError(source, e);
  }
  if (isGzip(bytes)) {
    const { gunzipSync } = await import("node:zlib"); // loaded only for gzip input
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new InputError("invalid-json", `${source} looks gzip-compressed but does not decompress: ${(e as Error).message}`);
    }
  }
  return decodeUtf8(bytes, source);
}

export async function readJsonInput(source: string): Promise<unknown> {
  return parseJsonText(await readTextInput(source), source === "-" ? "stdin" : source);
}

/**
 * Reads a closure document. Large inputs stream (src/io/stream-node.ts): no
 * whole-text string, paths interned as they arrive; small ones use JSON.parse.
 * Results and errors are the same either way. `onProgress` reports bytes and
 * entries read (the CLI shows it on a terminal).
 */
export async function readClosureInput(source: string, options?: ReadOptions, onProgress?: (p: ReadProgress) => void): Promise<ClosureDocument> {
  return readClosureStream(source, { ...options, onProgress });
}

let tempCount = 0;

/**
 * A temporary name beside `path` for writing it atomically (then a rename):
 * hidden, unique, and carrying this process's id so that what a killed run
 * left behind can be told from a running one's (see tempOwner).
 */
export function tempSibling(path: string): string {
  // Unique within the process by the counter, across processes by the pid (no node:crypto: this module loads on every CLI run).
  const tag = `${(tempCount++).toString(16)}${Math.floor(Math.random() * 0x10000).toString(16)}`;
  return join(dirname(path), `.${basename(path)}.strata-${process.pid}-${tag}.tmp`);
}

/**
 * The process id in `name` when it is a tempSibling of `path` (or one set
 * aside with a further `.old`), else undefined.
 */
export function tempOwner(path: string, name: string): number | undefined {
  const prefix = `.${basename(path)}.strata-`;
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d+)-[0-9a-f]+\.tmp(\.old)?$/.exec(name.slice(prefix.length));
  return m === null ? undefined : Number(m[1]);
}

/** Writes a file atomically: a temporary file beside it, then a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Whether process `pid` still runs (this process always does; EPERM means it exists under another user). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
