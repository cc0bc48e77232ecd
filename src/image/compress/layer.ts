// One compressed layer blob, streamed: the store paths' tar (layerTarChunks)
// flows through sha256 (the diff_id), the compressor, sha256 again (the blob
// digest) into a file. Only the current tar chunk and one compressor block are
// in memory at a time, whatever the layer's size.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { directoryTarChunks } from "../gnu-tar.js";
import { layerTarChunks, type StoreLocation, type TarSettings } from "../layer-tar.js";
import { createCompressor, type CompressionSpec } from "./index.js";

export interface LayerBlobRequest {
  /** Store paths in archive order. */
  readonly paths: readonly string[];
  /** A prebuilt tar to compress instead of the paths (e.g. nixpkgs' customisation layer). */
  readonly tarFile?: string;
  /** A directory tarred as nixpkgs tars its customisation layer, instead of the paths. */
  readonly tarDir?: string;
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
  let pending: Uint8Array[] = [];
  const compressor = await createCompressor(req.compression, (c) => {
    blobHash.update(c);
    size += c.length;
    // The encoder may reuse its output buffer: keep a copy until written.
    pending.push(c.slice());
  });
  const fh = await open(req.outFile, "wx");
  let unreported = 0;
  try {
    const flush = async () => {
      if (pending.length === 0) return;
      const parts = pending;
      pending = [];
      for (const part of parts) {
        let off = 0;
        while (off < part.length) off += (await fh.write(part, off, part.length - off)).bytesWritten;
      }
    };
    const source = req.tarFile !== undefined ? fileChunks(req.tarFile) : req.tarDir !== undefined ? directoryTarChunks(req.tarDir) : layerTarChunks(req.paths, req.settings, req.store);
    for await (const chunk of source) {
      tarHash.update(chunk);
      tarSize += chunk.length;
      compressor.push(chunk);
      await flush();
      unreported += chunk.length;
      if (onTarBytes !== undefined && unreported >= REPORT_EVERY) {
        onTarBytes(unreported);
        unreported = 0;
      }
    }
    compressor.end();
    await flush();
  } finally {
    await fh.close();
  }
  if (onTarBytes !== undefined && unreported > 0) onTarBytes(unreported);
  return { digest: `sha256:${blobHash.digest("hex")}`, size, diffId: `sha256:${tarHash.digest("hex")}`, tarSize };
}

async function* fileChunks(file: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}
