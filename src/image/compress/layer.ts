// One compressed layer blob, streamed: the store paths' tar (layerTarChunks)
// flows through sha256 (the diff_id), the compressor, sha256 again (the blob
// digest) into a file. Only the current tar chunk and one compressor block are
// in memory at a time, whatever the layer's size.
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync, writeSync } from "node:fs";
import { BuildError } from "../../errors.js";
import { directoryTarChunks } from "../gnu-tar.js";
import { layerTarChunksReused, type StoreLocation, type TarSettings } from "../layer-tar.js";
import { createCompressor, type CompressionSpec } from "./index.js";

export interface LayerBlobRequest {
  /** Store paths in archive order. */
  readonly paths: readonly string[];
  /** A prebuilt tar to compress instead of the paths (e.g. nixpkgs' customisation layer). */
  readonly tarFile?: string;
  /** A directory tarred as nixpkgs tars its customisation layer, instead of the paths. */
  readonly tarDir?: string;
  /** A byte range of an open file holding a whole layer tar (a base image's member; fds are shared by threads). */
  readonly fdRange?: { readonly fd: number; readonly offset: number; readonly length: number };
  readonly settings: TarSettings;
  readonly store: StoreLocation;
  readonly compression: CompressionSpec;
  /** File to create (must not exist). */
  readonly outFile: string;
}

export interface LayerBlobResult {
  /** `sha256:<hex>` of the compressed blob. */
  readonly digest: string;
  /** Compressed size in bytes. */
  readonly size: number;
  /** `sha256:<hex>` of the uncompressed tar. */
  readonly diffId: string;
  /** Uncompressed tar size in bytes. */
  readonly tarSize: number;
}

/** Progress granularity: report after at least this many tar bytes. */
const REPORT_EVERY = 4 << 20;

export async function writeLayerBlob(req: LayerBlobRequest, onTarBytes?: (bytes: number) => void): Promise<LayerBlobResult> {
  const tarHash = createHash("sha256");
  const blobHash = createHash("sha256");
  let tarSize = 0;
  let size = 0;
  let fd: number;
  try {
    fd = openSync(req.outFile, "wx");
  } catch (e) {
    throw new BuildError("output", `cannot write the layer blob ${req.outFile}: ${(e as Error).message}`, req.outFile);
  }
  // Compressed bytes are written as the encoder hands them over (synchronously:
  // this runs in a layer worker), so none is kept or copied.
  const compressor = await createCompressor(req.compression, (c) => {
    blobHash.update(c);
    size += c.length;
    let off = 0;
    while (off < c.length) off += writeSync(fd, c, off, c.length - off);
  });
  let unreported = 0;
  try {
    const source =
      req.tarFile !== undefined
        ? fileChunks(req.tarFile)
        : req.tarDir !== undefined
          ? directoryTarChunks(req.tarDir)
          : req.fdRange !== undefined
            ? rangeChunks(req.fdRange.fd, req.fdRange.offset, req.fdRange.length)
            : layerTarChunksReused(req.paths, req.settings, req.store);
    for await (const chunk of source) {
      tarHash.update(chunk);
      tarSize += chunk.length;
      compressor.push(chunk);
      unreported += chunk.length;
      if (onTarBytes !== undefined && unreported >= REPORT_EVERY) {
        onTarBytes(unreported);
        unreported = 0;
      }
    }
    compressor.end();
  } finally {
    closeSync(fd);
  }
  if (onTarBytes !== undefined && unreported > 0) onTarBytes(unreported);
  return { digest: `sha256:${blobHash.digest("hex")}`, size, diffId: `sha256:${tarHash.digest("hex")}`, tarSize };
}

async function* fileChunks(file: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}

async function* rangeChunks(fd: number, offset: number, length: number): AsyncGenerator<Uint8Array> {
  const buf = Buffer.allocUnsafe(Math.min(length, 1 << 20));
  let pos = offset;
  let left = length;
  while (left > 0) {
    const n = readSync(fd, buf, 0, Math.min(left, buf.length), pos);
    if (n === 0) throw new BuildError("bad-base-image", `base image layer ended early (${left} bytes missing)`);
    pos += n;
    left -= n;
    yield buf.subarray(0, n);
  }
}
