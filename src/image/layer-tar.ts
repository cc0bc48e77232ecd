// One store layer's tar, byte for byte what nixpkgs' stream_layered_image.py
// writes for a list of store paths (its archive_paths_to): `/nix/` and
// `/nix/store/` first, then each store path with everything below it in
// Python's PurePath order, every entry owned by the configured owner and dated
// with the configured mtime, hard links written as regular files, symlinks not
// followed. The bytes are streamed: files are read from disk in chunks, never
// a whole layer (or a whole large file) in memory.
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from "node:fs";
import { BuildError } from "../errors.js";
import { DIRTYPE, REGTYPE, SYMTYPE, blockPadding, pyCodePoints, pyEncode, tarEnd, tarHeader, type TarEntry } from "./tar.js";

export interface TarSettings {
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

export interface StoreLocation {
  /** The store directory the paths name, e.g. "/nix/store". */
  storeDir: string;
  /** Where storeDir is mounted on disk (default: storeDir itself). */
  storeRoot?: string;
}

/** Size of the chunks yielded (small entries are batched up to about this size). */
const CHUNK = 1 << 20;

/** Python's ordering of two names: code point by code point of their surrogateescape decoding. */
export function comparePyNames(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  if (i === n) return a.length - b.length;
  if (a[i] < 0x80 && b[i] < 0x80) return a[i] - b[i];
  const ca = pyCodePoints(a);
  const cb = pyCodePoints(b);
  const m = Math.min(ca.length, cb.length);
  for (let k = 0; k < m; k++) if (ca[k] !== cb[k]) return ca[k] - cb[k];
  return ca.length - cb.length;
}

/** pathlib's normalisation of a path string: repeated slashes and "." components dropped, no trailing slash. */
export function normalizeStorePath(p: string): string {
  const parts = p.split("/").filter((c) => c !== "" && c !== ".");
  return (p.startsWith("/") ? "/" : "") + parts.join("/");
}

/** The on-disk location of a store path, checking it lies under the store directory. */
export function diskPathOf(path: string, store: StoreLocation): string {
  const dir = store.storeDir.replace(/\/+$/, "");
  if (!(path.startsWith(dir + "/") && path.length > dir.length + 1)) {
    throw new BuildError("outside-store-dir", `store path ${path} is not under the store directory ${store.storeDir}`, path);
  }
  if (store.storeRoot === undefined) return path;
  return store.storeRoot.replace(/\/+$/, "") + path.slice(dir.length);
}

function errnoMessage(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTDIR") return "not a directory";
  return (e as Error).message;
}

function fsError(e: unknown, what: string, path: string): BuildError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") return new BuildError("missing-path", `${what} ${path}: ${errnoMessage(e)}`, path);
  if (code === "EACCES" || code === "EPERM") return new BuildError("unreadable", `cannot read ${path}: permission denied`, path);
  return new BuildError("unreadable", `cannot read ${path}: ${errnoMessage(e)}`, path);
}

function kindOf(st: Stats): string {
  if (st.isSocket()) return "a socket";
  if (st.isFIFO()) return "a named pipe (FIFO)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "not a regular file, directory or symlink";
}

const SLASH = Uint8Array.of(0x2f);

/**
 * The exact bytes of one store layer's tar (nixpkgs' archive_paths_to),
 * streamed in chunks of about 1 MiB; never the whole layer in memory.
 * Throws BuildError (missing-path, unreadable, special-file, file-changed,
 * outside-store-dir) naming the path. Paths are archived in the given order,
 * a path given twice is archived twice (as the script does).
 */
export async function* layerTarChunks(paths: readonly string[], settings: TarSettings, store: StoreLocation): AsyncGenerator<Uint8Array> {
  yield* layerTarSync(paths, settings, store, "fresh");
}

/**
 * Like layerTarChunks, but every chunk is a view of one reused buffer: it is
 * valid only until the next chunk is requested. For a consumer that hashes or
 * writes each chunk before asking for the next (saves allocating and
 * page-faulting a new megabyte per chunk).
 */
export async function* layerTarChunksReused(paths: readonly string[], settings: TarSettings, store: StoreLocation): AsyncGenerator<Uint8Array> {
  yield* layerTarSync(paths, settings, store, "reuse");
}

/**
 * The size in bytes of the layer tar layerTarChunks would write, from file
 * metadata only (no file is read; each is opened once to check it is
 * readable). Same errors as layerTarChunks.
 */
export function layerTarSize(paths: readonly string[], settings: TarSettings, store: StoreLocation): number {
  const it = layerTarSync(paths, settings, store, "size");
  for (;;) {
    const r = it.next();
    if (r.done === true) return r.value;
  }
}

function* layerTarSync(paths: readonly string[], settings: TarSettings, store: StoreLocation, mode: "fresh" | "reuse" | "size"): Generator<Uint8Array, number> {
  const withData = mode !== "size";
  const uname = pyEncode(settings.uname);
  const gname = pyEncode(settings.gname);
  const owner = { uid: settings.uid, gid: settings.gid, uname, gname, mtime: settings.mtime };
  // Output is assembled in one buffer of CHUNK bytes: headers are copied in,
  // file data is read straight into it; when full, it is yielded.
  let batch = withData ? Buffer.allocUnsafe(CHUNK) : Buffer.alloc(0);
  let used = 0;
  let offset = 0;
  const take = (): Uint8Array => {
    const out = batch.subarray(0, used);
    batch = mode === "reuse" ? batch : Buffer.allocUnsafe(CHUNK);
    used = 0;
    return out;
  };
  const entry = (name: Uint8Array, type: number, fileMode: number, size: number, linkname?: Uint8Array): Uint8Array =>
    tarHeader({ name, type, mode: fileMode, size, linkname, ...owner } satisfies TarEntry);

  // Generators cannot yield from inside a callback, so `add` returns a chunk to yield when the batch filled up.
  function* add(b: Uint8Array): Generator<Uint8Array, void> {
    offset += b.length;
    if (!withData) return;
    let from = 0;
    while (from < b.length) {
      const n = Math.min(b.length - from, CHUNK - used);
      batch.set(b.subarray(from, from + n), used);
      used += n;
      from += n;
      if (used === CHUNK) yield take();
    }
  }
  function* zeros(n: number): Generator<Uint8Array, void> {
    offset += n;
    if (!withData) return;
    while (n > 0) {
      const k = Math.min(n, CHUNK - used);
      batch.fill(0, used, used + k);
      used += k;
      n -= k;
      if (used === CHUNK) yield take();
    }
  }

  yield* add(entry(pyEncode("/nix"), DIRTYPE, 0o755, 0));
  yield* add(entry(pyEncode("/nix/store"), DIRTYPE, 0o755, 0));

  // Depth-first walk; each directory's children sorted as Python sorts names.
  // The stack holds one directory listing per level.
  for (const rawPath of paths) {
    const logical = normalizeStorePath(rawPath);
    const disk = diskPathOf(logical, store);
    const stack: { name: Uint8Array; disk: string | Buffer; top: boolean }[] = [{ name: Buffer.from(logical, "utf8"), disk, top: true }];
    while (stack.length > 0) {
      const item = stack.pop()!;
      let shownText: string | undefined;
      const shownOf = (): string => (shownText ??= item.top ? rawPath : pathText(item.name));
      let st: Stats;
      try {
        st = lstatSync(item.disk);
      } catch (e) {
        throw fsError(e, item.top ? "store path missing on disk:" : "cannot stat", shownOf());
      }
      const fileMode = st.mode & 0o7777;
      if (st.isSymbolicLink()) {
        let target: Buffer;
        try {
          target = readlinkSync(item.disk, { encoding: "buffer" });
        } catch (e) {
          throw fsError(e, "cannot read link", shownOf());
        }
        yield* add(entry(item.name, SYMTYPE, fileMode, 0, target));
      } else if (st.isDirectory()) {
        yield* add(entry(item.name, DIRTYPE, fileMode, 0));
        let names: Buffer[];
        try {
          names = readdirSync(item.disk, { encoding: "buffer" });
        } catch (e) {
          throw fsError(e, "cannot list directory", shownOf());
        }
        names.sort(comparePyNames);
        const base = typeof item.disk === "string" ? Buffer.from(item.disk, "utf8") : item.disk;
        for (let i = names.length - 1; i >= 0; i--) {
          stack.push({ name: Buffer.concat([item.name, SLASH, names[i]]), disk: Buffer.concat([base, SLASH, names[i]]), top: false });
        }
      } else if (st.isFile()) {
        const size = st.size;
        yield* add(entry(item.name, REGTYPE, fileMode, size));
        let fd: number;
        try {
          fd = openSync(item.disk, "r");
        } catch (e) {
          throw fsError(e, "cannot open", shownOf());
        }
        if (!withData) {
          closeSync(fd);
          offset += size + blockPadding(size);
          continue;
        }
        try {
          let left = size;
          while (left > 0) {
            const want = Math.min(left, CHUNK - used);
            let n: number;
            try {
              n = readSync(fd, batch, used, want, null);
            } catch (e) {
              throw fsError(e, "cannot read", shownOf());
            }
            if (n === 0) throw new BuildError("file-changed", `${shownOf()} shrank while being archived (expected ${size} bytes)`, shownOf());
            used += n;
            left -= n;
            offset += n;
            if (used === CHUNK) yield take();
          }
          if (fstatSync(fd).size !== size) throw new BuildError("file-changed", `${shownOf()} changed size while being archived`, shownOf());
        } finally {
          closeSync(fd);
        }
        yield* zeros(blockPadding(size));
      } else {
        throw new BuildError("special-file", `cannot archive ${shownOf()}: it is ${kindOf(st)}`, shownOf());
      }
    }
  }
  yield* zeros(tarEnd(offset).length);
  if (withData && used > 0) yield take();
  return offset;
}

/** A path for messages: UTF-8 where valid, \xNN for other bytes. */
export function pathText(b: Uint8Array): string {
  return pyCodePoints(b)
    .map((c) => (c >= 0xdc80 && c <= 0xdcff ? `\\x${(c - 0xdc00).toString(16)}` : String.fromCodePoint(c)))
    .join("");
}
