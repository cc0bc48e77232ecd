// The docker-archive (Docker Image Specification v1.2) exactly as nixpkgs'
// stream_layered_image.py writes it: an uncompressed PAX tar holding each
// layer as `<diff_id>/layer.tar`, the config `<sha256>.json` and
// `manifest.json`, padded to 10240 bytes.
//
// Two passes, like the script: prepareImage tars every layer once into a
// sha256 (size and diff_id go into the outer header, the config and the
// manifest before any data), then dockerArchiveChunks tars them again into
// the output. Memory stays flat; every input error (missing path, special
// file, bad customisation layer, ...) surfaces in the first pass, before a
// single byte is written.
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { BuildError } from "../errors.js";
import { pyJsonDumps } from "../format/python-json.js";
import { directoryTarChunks } from "./gnu-tar.js";
import { layerTarChunks, layerTarChunksReused, layerTarSize } from "./layer-tar.js";
import { pyReprList } from "./python.js";
import { baseMemberChunks, baseMemberEntry, openBaseImage, withBaseEnv, type BaseImage } from "./base-image.js";
import { REGTYPE, blockPadding, pyEncode, tarEnd, tarHeader, type TarEntry } from "./tar.js";
import type { ImageSpec } from "./spec.js";

/** One layer of the image, its digest known. */
export interface PreparedLayer {
  kind: "base" | "store" | "customisation";
  /** sha256 hex of the uncompressed layer tar (the diff_id without "sha256:"). */
  digest: string;
  /** bytes of the layer tar */
  size: number;
  /** store paths (store layers) or the customisation layer's label */
  paths: string[];
  /** the outer tar member name, `<digest>/layer.tar` */
  member: string;
  /** the outer tar header fields of the member (besides name and size) */
  outer: Omit<TarEntry, "name" | "size">;
  /** the layer tar's bytes again (second pass) */
  chunks(): AsyncIterable<Uint8Array>;
  /** the whole outer header entry, when it is not made from member + outer (base layers keep their own) */
  entry?: TarEntry;
}

function outerEntry(l: PreparedLayer): TarEntry {
  return l.entry ?? { ...l.outer, name: pyEncode(l.member), size: l.size };
}

/** The base image's layers as prepared layers (their digests come from the base config). */
async function prepareBase(spec: ImageSpec): Promise<{ base?: BaseImage; layers: PreparedLayer[] }> {
  if (spec.fromImage === undefined) return { layers: [] };
  const base = await openBaseImage(spec.fromImage);
  const layers = base.layers.map((b): PreparedLayer => {
    const entry = baseMemberEntry(b.member);
    return {
      kind: "base",
      digest: b.digest,
      size: b.member.size,
      paths: [b.path],
      member: b.path,
      outer: entry,
      entry,
      chunks: () => baseMemberChunks(base, b.member),
    };
  });
  return { base, layers };
}

export interface PreparedImage {
  spec: ImageSpec;
  layers: PreparedLayer[];
  /** config JSON bytes and its sha256 hex (the image ID) */
  config: Uint8Array;
  configDigest: string;
  manifest: Uint8Array;
  /** releases the base image (call when done writing) */
  close(): void;
}

export interface PrepareHooks {
  /** called as each layer's digest is known */
  onLayer?(layer: PreparedLayer, index: number, total: number): void;
}

/** sha256 and size of a stream of chunks. */
export async function digestChunks(chunks: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  for await (const c of chunks) {
    h.update(c);
    size += c.length;
  }
  return { digest: h.digest("hex"), size };
}

/** uid -> name from /etc/passwd (and gid -> name from /etc/group), as Python's pwd/grp give them; "" when unknown. */
function lookupName(file: string, id: number): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return "";
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && f[2] === String(id) && !line.startsWith("#")) return f[0];
  }
  return "";
}

async function* fileChunks(path: string, size: number): AsyncGenerator<Uint8Array> {
  const fd = openSync(path, "r");
  try {
    let left = size;
    while (left > 0) {
      const want = Math.min(left, 1 << 20);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, null);
        if (n === 0) throw new BuildError("file-changed", `${path} shrank while being copied`, path);
        got += n;
      }
      yield buf;
      left -= want;
    }
  } finally {
    closeSync(fd);
  }
}

const OUTER_DEFAULT = (mtime: number): Omit<TarEntry, "name" | "size"> => ({
  type: REGTYPE,
  mode: 0o644,
  uid: 0,
  gid: 0,
  uname: new Uint8Array(0),
  gname: new Uint8Array(0),
  mtime,
});

async function prepareCustomisation(spec: ImageSpec): Promise<PreparedLayer | undefined> {
  const c = spec.customisation;
  if (c === undefined) return undefined;
  const label = c.label ?? c.dir;
  if (c.kind === "nixpkgs") {
    const checksumPath = join(c.dir, "checksum");
    const layerPath = join(c.dir, "layer.tar");
    let checksum: string;
    try {
      checksum = readFileSync(checksumPath, "utf8").trim();
    } catch (e) {
      throw new BuildError(
        "bad-customisation-layer",
        `customisation layer ${label}: cannot read ${checksumPath}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
        checksumPath,
      );
    }
    if ([...checksum].length !== 64)
      throw new BuildError(
        "bad-customisation-layer",
        `customisation layer ${label}: ${checksumPath} does not hold a sha256 (64 characters), got ${JSON.stringify(checksum.slice(0, 80))}`,
        checksumPath,
      );
    let st;
    try {
      st = lstatSync(layerPath);
    } catch (e) {
      throw new BuildError(
        "bad-customisation-layer",
        `customisation layer ${label}: cannot read ${layerPath}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
        layerPath,
      );
    }
    if (!st.isFile()) throw new BuildError("bad-customisation-layer", `customisation layer ${label}: ${layerPath} is not a regular file`, layerPath);
    try {
      closeSync(openSync(layerPath, "r"));
    } catch (e) {
      throw new BuildError("unreadable", `customisation layer ${label}: cannot read ${layerPath}: ${(e as Error).message}`, layerPath);
    }
    const size = st.size;
    return {
      kind: "customisation",
      digest: checksum,
      size,
      paths: [label],
      member: `${checksum}/layer.tar`,
      outer: {
        type: REGTYPE,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        uname: pyEncode(lookupName("/etc/passwd", st.uid)),
        gname: pyEncode(lookupName("/etc/group", st.gid)),
        mtime: spec.tar.mtime,
      },
      chunks: () => fileChunks(layerPath, size),
    };
  }
  const { digest, size } = await digestChunks(directoryTarChunks(c.dir));
  // As nixpkgs would store it: a read-only file in a root-owned store.
  return {
    kind: "customisation",
    digest,
    size,
    paths: [label],
    member: `${digest}/layer.tar`,
    outer: { ...OUTER_DEFAULT(spec.tar.mtime), mode: 0o444, uname: pyEncode("root"), gname: pyEncode("root") },
    chunks: () => directoryTarChunks(c.dir),
  };
}

/**
 * The image config bytes as the script writes them, for layers given by
 * their diff_id hex and store paths (also the OCI layout's config).
 */
export function imageConfigBytes(spec: ImageSpec, layers: readonly { readonly digest: string; readonly paths: readonly string[] }[]): Uint8Array {
  const configObj = new Map<string, unknown>([
    ["created", spec.created],
    ["architecture", spec.architecture],
    ["os", "linux"],
    ["config", spec.config],
    [
      "rootfs",
      new Map<string, unknown>([
        ["diff_ids", layers.map((l) => `sha256:${l.digest}`)],
        ["type", "layers"],
      ]),
    ],
    [
      "history",
      layers.map(
        (l) =>
          new Map([
            ["created", spec.created],
            ["comment", `store paths: ${pyReprList(l.paths)}`],
          ]),
      ),
    ],
  ]);
  return Buffer.from(pyJsonDumps(configObj, 4), "utf8");
}

/** First pass: every layer's size and digest, the config and the manifest. */
export async function prepareImage(spec: ImageSpec, hooks: PrepareHooks = {}): Promise<PreparedImage> {
  const { base, layers } = await prepareBase(spec);
  try {
    const total = layers.length + spec.storeLayers.length + (spec.customisation === undefined ? 0 : 1);
    for (const paths of spec.storeLayers) {
      const chunks = () => layerTarChunks(paths, spec.tar, spec.store);
      const { digest, size } = await digestChunks(layerTarChunksReused(paths, spec.tar, spec.store));
      const layer: PreparedLayer = {
        kind: "store",
        digest,
        size,
        paths: [...paths],
        member: `${digest}/layer.tar`,
        outer: OUTER_DEFAULT(spec.tar.mtime),
        chunks,
      };
      layers.push(layer);
      hooks.onLayer?.(layer, layers.length - 1, total);
    }
    const custom = await prepareCustomisation(spec);
    if (custom !== undefined) {
      layers.push(custom);
      hooks.onLayer?.(custom, layers.length - 1, total);
    }
    return finishImage(spec, layers, base);
  } catch (e) {
    base?.close();
    throw e;
  }
}

/** The config and manifest once every layer's digest is known. */
export function finishImage(spec: ImageSpec, layers: PreparedLayer[], base?: BaseImage): PreparedImage {
  const config = imageConfigBytes(withBaseEnv(spec, base), layers);
  const configDigest = createHash("sha256").update(config).digest("hex");
  const manifestObj = [
    new Map<string, unknown>([
      ["Config", `${configDigest}.json`],
      ["RepoTags", [spec.repoTag]],
      ["Layers", layers.map((l) => l.member)],
    ]),
  ];
  const manifest = Buffer.from(pyJsonDumps(manifestObj, 4), "utf8");
  return { spec, layers, config, configDigest, manifest, close: () => base?.close() };
}

/** Where the single-pass writer puts bytes: a positional write (a file). */
export interface PositionalSink {
  write(data: Uint8Array, position: number): Promise<void>;
}

/**
 * One pass over the store, for seekable output: each layer's size comes from
 * file metadata first (which also finds missing, special and unreadable files
 * before anything is written), its data is streamed and hashed at once, and
 * its header (whose name holds the digest) is written into the space kept for
 * it afterwards. The bytes equal dockerArchiveChunks'.
 */
export async function writeDockerArchiveSinglePass(
  spec: ImageSpec,
  sink: PositionalSink,
  hooks: PrepareHooks & { onBytes?(n: number): void } = {},
): Promise<{ image: PreparedImage; size: number }> {
  const sizes = spec.storeLayers.map((paths) => layerTarSize(paths, spec.tar, spec.store));
  const custom = await prepareCustomisation(spec);
  const { base, layers } = await prepareBase(spec);
  try {
    const total = layers.length + spec.storeLayers.length + (custom === undefined ? 0 : 1);
    let offset = 0;
    const put = async (b: Uint8Array): Promise<void> => {
      await sink.write(b, offset);
      offset += b.length;
      hooks.onBytes?.(b.length);
    };
    for (const [i, l] of layers.entries()) {
      await put(tarHeader(outerEntry(l)));
      for await (const c of l.chunks()) await put(c);
      const pad = blockPadding(l.size);
      if (pad > 0) await put(new Uint8Array(pad));
      hooks.onLayer?.(l, i, total);
    }
    const placeholder = "0".repeat(64);
    for (let i = 0; i < spec.storeLayers.length; i++) {
      const paths = spec.storeLayers[i];
      const size = sizes[i];
      const outer = OUTER_DEFAULT(spec.tar.mtime);
      const headerLength = tarHeader({ ...outer, name: pyEncode(`${placeholder}/layer.tar`), size }).length;
      const headerAt = offset;
      offset += headerLength;
      const h = createHash("sha256");
      let n = 0;
      for await (const c of layerTarChunksReused(paths, spec.tar, spec.store)) {
        n += c.length;
        if (n > size) break;
        h.update(c);
        await put(c);
      }
      if (n !== size)
        throw new BuildError("file-changed", `files under ${paths[0]} changed while the layer was built (expected ${size} bytes, got ${n})`, paths[0]);
      const digest = h.digest("hex");
      const member = `${digest}/layer.tar`;
      const header = tarHeader({ ...outer, name: pyEncode(member), size });
      await sink.write(header, headerAt);
      hooks.onBytes?.(header.length);
      const pad = blockPadding(size);
      if (pad > 0) await put(new Uint8Array(pad));
      const layer: PreparedLayer = { kind: "store", digest, size, paths: [...paths], member, outer, chunks: () => layerTarChunks(paths, spec.tar, spec.store) };
      layers.push(layer);
      hooks.onLayer?.(layer, layers.length - 1, total);
    }
    if (custom !== undefined) {
      layers.push(custom);
      await put(tarHeader({ ...custom.outer, name: pyEncode(custom.member), size: custom.size }));
      let n = 0;
      for await (const c of custom.chunks()) {
        n += c.length;
        await put(c);
      }
      if (n !== custom.size) throw new BuildError("file-changed", `customisation layer ${custom.paths[0]} changed while being copied`, custom.paths[0]);
      const pad = blockPadding(custom.size);
      if (pad > 0) await put(new Uint8Array(pad));
      hooks.onLayer?.(custom, layers.length - 1, total);
    }
    const image = finishImage(spec, layers, base);
    const meta = OUTER_DEFAULT(spec.tar.mtime);
    for (const [name, data] of [
      [`${image.configDigest}.json`, image.config],
      ["manifest.json", image.manifest],
    ] as const) {
      await put(tarHeader({ ...meta, name: pyEncode(name), size: data.length }));
      await put(data);
      const pad = blockPadding(data.length);
      if (pad > 0) await put(new Uint8Array(pad));
    }
    await put(tarEnd(offset));
    return { image, size: offset };
  } finally {
    base?.close();
  }
}

/**
 * Second pass: the docker-archive's bytes. Each layer is re-read and checked
 * against its first-pass size. (A Nix store is immutable; should a file
 * change its contents but not its size between the passes, the layer no
 * longer matches the digest in its name and every loader rejects it.)
 */
export async function* dockerArchiveChunks(image: PreparedImage, hooks: { onBytes?(n: number): void } = {}): AsyncGenerator<Uint8Array> {
  let offset = 0;
  const emit = (b: Uint8Array): Uint8Array => {
    offset += b.length;
    hooks.onBytes?.(b.length);
    return b;
  };
  for (const layer of image.layers) {
    yield emit(tarHeader(outerEntry(layer)));
    let n = 0;
    for await (const c of layer.chunks()) {
      n += c.length;
      if (n > layer.size) break;
      yield emit(c);
    }
    if (n !== layer.size) {
      throw new BuildError(
        "file-changed",
        `layer ${layer.member} changed between the two passes (files under ${layer.paths[0]} were modified while building)`,
        layer.paths[0],
      );
    }
    const pad = blockPadding(layer.size);
    if (pad > 0) yield emit(new Uint8Array(pad));
  }
  const meta = OUTER_DEFAULT(image.spec.tar.mtime);
  for (const [name, data] of [
    [`${image.configDigest}.json`, image.config],
    ["manifest.json", image.manifest],
  ] as const) {
    yield emit(tarHeader({ ...meta, name: pyEncode(name), size: data.length }));
    yield emit(data);
    const pad = blockPadding(data.length);
    if (pad > 0) yield emit(new Uint8Array(pad));
  }
  yield emit(tarEnd(offset));
}
