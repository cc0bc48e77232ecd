// The layer cache: compressed layer blobs, content-addressed, keyed by
// everything that decides a layer's bytes (its identity, layerKey below).
//
// Layout of a cache directory (one format version per subdirectory):
//   v1/blobs/sha256/<hex>    compressed blobs, named by their digest
//   v1/entries/<key>.json    key -> {digest, size, diffId, tarSize, mediaType, encoder, paths}
//   v1/tmp/                  blobs being written (unique names per process)
//
// Safety rules, which make two processes sharing one cache and a crash at
// any point harmless:
//   * a blob is written under a unique temporary name, its digest computed
//     while writing, then renamed to blobs/sha256/<digest> (an atomic
//     replace; two processes writing the same layer rename identical bytes);
//   * the entry is written after its blob, also by temporary name + rename;
//   * a hit is served only through copyVerified, which re-hashes the blob
//     before linking (or copying) it out: a wrong size or digest (a
//     truncated or altered file) deletes the entry and reports a miss, so
//     the layer is rebuilt;
//   * temporary files older than a day, or of a process that no longer runs
//     (killed mid-write), are removed when a cache is opened.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { BuildError } from "../../errors.js";
import { processAlive, writeFileAtomic } from "../../io/node.js";
import type { EncoderInfo } from "../compress/index.js";
import { digestChunks } from "../docker-archive.js";
import type { TarSettings } from "../layer-tar.js";

/** Everything that decides a layer blob's bytes. */
export interface LayerIdentity {
  /** Store paths in archive order. */
  readonly paths: readonly string[];
  /** narHash of each path where the closure gives one (null where not). */
  readonly narHashes: readonly (string | null)[];
  readonly storeDir: string;
  readonly settings: TarSettings;
  readonly encoder: EncoderInfo;
  /** For layers that are not store paths (a prebuilt tar such as the customisation layer): its sha256. */
  readonly source?: string;
}

/** Bump when the tar writer's output changes for the same inputs. */
const TAR_FORMAT = "stream_layered_image.py-pax-v1";

/** The cache key of a layer: sha256 of a canonical JSON of its identity. */
export function layerKey(id: LayerIdentity): string {
  const canonical = JSON.stringify([
    "strata-layer-v1",
    TAR_FORMAT,
    id.storeDir,
    id.paths,
    id.narHashes,
    [id.settings.mtime, id.settings.uid, id.settings.gid, id.settings.uname, id.settings.gname],
    id.encoder.id,
    id.source ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

export interface CacheEntry {
  readonly key: string;
  readonly digest: string;
  readonly size: number;
  readonly diffId: string;
  readonly tarSize: number;
  readonly mediaType: string;
  readonly encoder: string;
  readonly paths: readonly string[];
}

/** $XDG_CACHE_HOME/strata/layers, else ~/.cache/strata/layers. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : join(env.HOME ?? homedir(), ".cache");
  return join(base, "strata", "layers");
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;
const STALE_TMP_MS = 24 * 3600 * 1000;

export class LayerCache {
  /** Lookups served / not found in this process (copyVerified failures count as misses). */
  hits = 0;
  misses = 0;
  /** Entries found corrupt and removed. */
  evicted = 0;

  private constructor(readonly dir: string) {}

  private get root(): string {
    return join(this.dir, "v1");
  }

  /** Opens (creating) a cache directory. */
  static async open(dir: string): Promise<LayerCache> {
    const cache = new LayerCache(dir);
    try {
      for (const d of ["blobs/sha256", "entries", "tmp"]) await mkdir(join(cache.root, d), { recursive: true });
    } catch (e) {
      throw new BuildError("output", `cannot use the layer cache ${dir}: ${(e as Error).message}`, dir);
    }
    await cache.removeStaleTemps();
    return cache;
  }

  blobPath(digest: string): string {
    const m = DIGEST.exec(digest);
    if (m === null) throw new Error(`not a sha256 digest: ${digest}`);
    return join(this.root, "blobs", "sha256", m[1]);
  }

  private entryPath(key: string): string {
    return join(this.root, "entries", `${key}.json`);
  }

  /** A fresh temporary file name inside the cache (same file system as the blobs). */
  tempFile(): string {
    return join(this.root, "tmp", `${process.pid}-${randomBytes(8).toString("hex")}.part`);
  }

  /**
   * The entry for a key, if there is one whose blob exists with the recorded
   * size (the digest is checked when the blob is copied out). Does not count
   * hits or misses.
   */
  async peek(key: string): Promise<CacheEntry | undefined> {
    let entry: CacheEntry;
    try {
      entry = JSON.parse(await readFile(this.entryPath(key), "utf8")) as CacheEntry;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      await this.evict(key); // unreadable or truncated JSON
      return undefined;
    }
    if (
      entry === null ||
      typeof entry !== "object" ||
      entry.key !== key ||
      typeof entry.digest !== "string" ||
      !DIGEST.test(entry.digest) ||
      !Number.isSafeInteger(entry.size) ||
      typeof entry.diffId !== "string" ||
      !DIGEST.test(entry.diffId)
    ) {
      await this.evict(key);
      return undefined;
    }
    try {
      const st = await stat(this.blobPath(entry.digest));
      if (st.size !== entry.size) throw new Error("size");
    } catch {
      await this.evict(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Places a blob at `dest` (which must not exist) after checking its size
   * and digest: a hard link to the cache's file (blobs are never modified
   * in place, only replaced by rename), or a copy across file systems. On a
   * mismatch the entry and blob are removed and false is returned: the
   * caller rebuilds the layer.
   */
  async copyVerified(entry: CacheEntry, dest: string): Promise<boolean> {
    const file = this.blobPath(entry.digest);
    let found: { digest: string; size: number } | undefined;
    try {
      found = await digestChunks(createReadStream(file, { highWaterMark: 1 << 20 }));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (found === undefined || found.size !== entry.size || `sha256:${found.digest}` !== entry.digest) {
      await this.evict(entry.key, entry.digest);
      return false;
    }
    try {
      await placeFile(file, dest);
    } catch (e) {
      // Evicted by another process between the check and the link: the caller rebuilds it.
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
    return true;
  }

  /**
   * Moves a finished blob (written to a tempFile(), its digest computed while
   * writing) into the cache and records the entry.
   */
  async commit(
    key: string,
    tmpFile: string,
    blob: { digest: string; size: number; diffId: string; tarSize: number },
    encoder: EncoderInfo,
    paths: readonly string[],
  ): Promise<CacheEntry> {
    const st = await stat(tmpFile);
    if (st.size !== blob.size) throw new Error(`layer blob ${tmpFile}: ${st.size} bytes written, ${blob.size} expected`);
    await rename(tmpFile, this.blobPath(blob.digest));
    const entry: CacheEntry = {
      key,
      digest: blob.digest,
      size: blob.size,
      diffId: blob.diffId,
      tarSize: blob.tarSize,
      mediaType: encoder.mediaType,
      encoder: encoder.id,
      paths: [...paths],
    };
    await writeFileAtomic(this.entryPath(key), `${JSON.stringify(entry)}\n`);
    return entry;
  }

  /** Removes an entry (and its blob, when given). */
  async evict(key: string, digest?: string): Promise<void> {
    this.evicted++;
    await unlink(this.entryPath(key)).catch(() => undefined);
    if (digest !== undefined) await unlink(this.blobPath(digest)).catch(() => undefined);
  }

  private async removeStaleTemps(): Promise<void> {
    const dir = join(this.root, "tmp");
    const now = Date.now();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const p = join(dir, name);
      const pid = Number(/^(\d+)-/.exec(name)?.[1] ?? NaN);
      const st = await stat(p).catch(() => undefined);
      if (st === undefined) continue;
      if (now - st.mtimeMs > STALE_TMP_MS || (Number.isSafeInteger(pid) && !processAlive(pid)))
        await rm(p, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** A hard link to `file` at `dest`, or a copy where linking is impossible (another file system). */
export async function placeFile(file: string, dest: string): Promise<void> {
  try {
    await link(file, dest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP") throw e;
    await copyFile(file, dest);
  }
}
