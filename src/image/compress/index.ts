// Deterministic layer compression: the same input bytes, algorithm and level
// give the same compressed bytes on every machine and Node version.
//
// Node's own zlib is not used: it is Chromium's fork of zlib, bundled with
// Node and updated with it, and its output may change between Node releases
// (and its match finder has had CPU-dependent variants); Node 20 has no zstd at
// all. Instead both encoders are npm packages pinned to an exact version in
// package.json, whose code is the same everywhere:
//   gzip: fflate (pure JavaScript deflate), measured 1.1-1.4x the CPU time
//         of pigz -6 per core, faster than pako and a Wasm miniz_oxide;
//   zstd: @bokuweb/zstd-wasm (the reference zstd library compiled to Wasm),
//         ~1.5x native `zstd -3`; it only offers one-shot compression, so a
//         layer is written as a sequence of independent zstd frames of 4 MiB of
//         input each (valid zstd: a stream may hold several frames; the
//         frames cost ~0.5% of size at level 3, whose window is 2 MiB anyway,
//         and keep each worker's Wasm memory small).
// Both encoders' output depends on how the input is cut into calls, so the
// input is re-cut into fixed-size blocks first (1 MiB for gzip, 4 MiB for zstd)
// whatever the chunks the tar writer yields. Encoder, version, level and block
// size form the encoder id recorded in each layer's annotation and in the
// layer cache key.
import { createRequire } from "node:module";
import { Gzip } from "fflate";
import { BuildError } from "../../errors.js";

export type CompressionAlgorithm = "gzip" | "zstd";

export interface CompressionSpec {
  readonly algorithm: CompressionAlgorithm;
  readonly level: number;
}

/** Exact versions of the pinned encoders (checked against package.json by the tests). */
export const FFLATE_VERSION = "0.8.3";
export const ZSTD_WASM_VERSION = "0.0.27";

export const DEFAULT_GZIP_LEVEL = 6;
export const DEFAULT_ZSTD_LEVEL = 3;
export const GZIP_BLOCK = 1 << 20;
export const ZSTD_FRAME = 4 << 20;

export const defaultCompression: CompressionSpec = { algorithm: "gzip", level: DEFAULT_GZIP_LEVEL };

const levels: Record<CompressionAlgorithm, readonly [number, number, number]> = {
  gzip: [0, 9, DEFAULT_GZIP_LEVEL],
  zstd: [1, 19, DEFAULT_ZSTD_LEVEL],
};

/** What `--compression` accepts, for help texts. */
export const compressionSyntax = "gzip|zstd[:LEVEL] (gzip 0-9, default 6; zstd 1-19, default 3)";

/** Parses `gzip`, `gzip:9`, `zstd`, `zstd:19`. */
export function parseCompression(text: string, option = "--compression"): CompressionSpec {
  const m = /^(gzip|zstd)(?::(-?\d+))?$/.exec(text.trim());
  if (m === null) throw new BuildError("bad-option", `${option}: expected ${compressionSyntax}, got ${JSON.stringify(text)}`);
  const algorithm = m[1] as CompressionAlgorithm;
  const [lo, hi, def] = levels[algorithm];
  const level = m[2] === undefined ? def : Number(m[2]);
  if (!Number.isInteger(level) || level < lo || level > hi) {
    throw new BuildError("bad-option", `${option}: ${algorithm} level must be ${lo}-${hi}, got ${m[2]}`);
  }
  return { algorithm, level };
}

/** Checks a spec given through the library API. */
export function checkCompression(spec: CompressionSpec): CompressionSpec {
  const range = levels[spec?.algorithm as CompressionAlgorithm];
  if (range === undefined) throw new BuildError("bad-option", `compression: unknown algorithm ${JSON.stringify(spec?.algorithm)} (gzip or zstd)`);
  return parseCompression(`${spec.algorithm}:${spec.level ?? range[2]}`, "compression");
}

export interface EncoderInfo extends CompressionSpec {
  /** npm package of the encoder. */
  readonly encoder: string;
  readonly encoderVersion: string;
  /** Input block (gzip) or frame (zstd) size the encoder is fed with. */
  readonly block: number;
  /** OCI media type of a layer compressed this way. */
  readonly mediaType: string;
  /** One string naming all of the above: `fflate@0.8.3 gzip level=6 block=1048576`. */
  readonly id: string;
}

export function encoderInfo(spec: CompressionSpec): EncoderInfo {
  const s = checkCompression(spec);
  const [encoder, encoderVersion, block] =
    s.algorithm === "gzip" ? ["fflate", FFLATE_VERSION, GZIP_BLOCK] : ["@bokuweb/zstd-wasm", ZSTD_WASM_VERSION, ZSTD_FRAME];
  return {
    algorithm: s.algorithm,
    level: s.level,
    encoder,
    encoderVersion,
    block,
    mediaType: `application/vnd.oci.image.layer.v1.tar+${s.algorithm}`,
    id: `${encoder}@${encoderVersion} ${s.algorithm} level=${s.level} ${s.algorithm === "gzip" ? "block" : "frame"}=${block}`,
  };
}

/** A streaming compressor: push input, compressed bytes go to the sink given at creation (a view valid only during the call: copy to keep). */
export interface Compressor {
  push(chunk: Uint8Array): void;
  /** Flushes the last block and the trailer. */
  end(): void;
}

type Sink = (compressed: Uint8Array) => void;

/**
 * Re-cuts the input into blocks of exactly `size` bytes (the last one
 * shorter), so the encoder's output does not depend on the caller's chunking.
 */
class Blocker {
  private buf: Uint8Array;
  private fill = 0;
  constructor(
    private readonly size: number,
    private readonly emit: (block: Uint8Array, last: boolean) => void,
  ) {
    this.buf = new Uint8Array(size);
  }
  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.fill === 0 && chunk.length - off >= this.size) {
        // A whole block straight from the input, no copy.
        this.emit(chunk.subarray(off, off + this.size), false);
        off += this.size;
        continue;
      }
      const n = Math.min(this.size - this.fill, chunk.length - off);
      this.buf.set(chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === this.size) {
        // Both encoders copy a block before returning (fflate into its
        // window, zstd-wasm into Wasm memory), so the buffer is reused.
        this.emit(this.buf, false);
        this.fill = 0;
      }
    }
  }
  end(): void {
    this.emit(this.buf.subarray(0, this.fill), true);
  }
}

function gzipCompressor(level: number, sink: Sink): Compressor {
  // mtime 0 and no file name: the 10-byte header is fixed (1f8b 0800 00000000 00 03).
  const gz = new Gzip({ level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9, mtime: 0 }, (data) => sink(data));
  const blocks = new Blocker(GZIP_BLOCK, (block, last) => gz.push(block, last));
  return { push: (c) => blocks.push(c), end: () => blocks.end() };
}

/** The parts of zstd-wasm's Emscripten module used here (its own `compress` allocates a fresh output per call). */
interface ZstdWasm {
  _malloc(n: number): number;
  _ZSTD_compress(dst: number, dstCapacity: number, src: number, srcSize: number, level: number): number;
  _ZSTD_compressBound(n: number): number;
  _ZSTD_isError(code: number): number;
  /** Re-created by Emscripten when memory grows: read it on every use. */
  HEAPU8: Uint8Array;
}

interface ZstdState {
  readonly mod: ZstdWasm;
  /** Input and output buffers in Wasm memory, shared by every compressor of this thread: each frame is compressed in one synchronous call. */
  readonly src: number;
  readonly dst: number;
  readonly bound: number;
}

let zstd: Promise<ZstdState> | undefined;

async function loadZstd(): Promise<ZstdState> {
  zstd ??= (async () => {
    const m = (await import("@bokuweb/zstd-wasm")) as unknown as { init?: () => Promise<void>; default?: { init(): Promise<void> } };
    await (m.init ?? m.default!.init)();
    // The package exports only one-shot helpers; its Emscripten module (the
    // same instance, loaded by path) gives the C API, so the input and output
    // buffers are allocated once per worker and reused for every frame.
    // (createRequire anchored at the package's main file, so the specifier is a literal.)
    const fromPackage = createRequire(createRequire(import.meta.url).resolve("@bokuweb/zstd-wasm"));
    const mod = (fromPackage("./module.js") as { Module: ZstdWasm }).Module;
    const bound = mod._ZSTD_compressBound(ZSTD_FRAME);
    const src = mod._malloc(ZSTD_FRAME);
    const dst = mod._malloc(bound);
    if (src === 0 || dst === 0) throw new Error("zstd-wasm: out of memory for the frame buffers");
    return { mod, src, dst, bound };
  })();
  return zstd;
}

function zstdCompressor({ mod, src, dst, bound }: ZstdState, level: number, sink: Sink): Compressor {
  let frames = 0;
  const blocks = new Blocker(ZSTD_FRAME, (block, last) => {
    // An empty input still gets one (empty) frame; no empty trailing frame otherwise.
    if (block.length === 0 && (!last || frames > 0)) return;
    frames++;
    mod.HEAPU8.set(block, src);
    const n = mod._ZSTD_compress(dst, bound, src, block.length, level);
    if (mod._ZSTD_isError(n)) throw new Error(`zstd-wasm: ZSTD_compress failed (code ${n})`);
    sink(mod.HEAPU8.subarray(dst, dst + n));
  });
  return { push: (c) => blocks.push(c), end: () => blocks.end() };
}

/** A compressor for `spec` writing to `sink`. */
export async function createCompressor(spec: CompressionSpec, sink: Sink): Promise<Compressor> {
  const s = checkCompression(spec);
  if (s.algorithm === "gzip") return gzipCompressor(s.level, sink);
  return zstdCompressor(await loadZstd(), s.level, sink);
}

/** Compresses a whole buffer (tests, small blobs). */
export async function compressBytes(spec: CompressionSpec, data: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const c = await createCompressor(spec, (p) => parts.push(p.slice()));
  c.push(data);
  c.end();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
