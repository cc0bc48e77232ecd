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
import { layerTarChunks } from "./layer-tar.js";
import { pyReprList } from "./python.js";
import { REGTYPE, blockPadding, pyEncode, tarEnd, tarHeader, type TarEntry } from "./tar.js";
import type { ImageSpec } from "./spec.js";

/** One layer of the image, its digest known. */
export interface PreparedLayer {
  kind: "store" | "customisation";
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
}

export interface PreparedImage {
  spec: ImageSpec;
  layers: PreparedLayer[];
  /** config JSON bytes and its sha256 hex (the image ID) */
  config: Uint8Array;
  configDigest: string;
  manifest: Uint8Array;
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
      throw new BuildError("bad-customisation-layer", `customisation layer ${label}: cannot read ${checksumPath}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, checksumPath);
    }
    if ([...checksum].length !== 64) throw new BuildError("bad-customisation-layer", `customisation layer ${label}: ${checksumPath} does not hold a sha256 (64 characters), got ${JSON.stringify(checksum.slice(0, 80))}`, checksumPath);
    let st;
    try {
      st = lstatSync(layerPath);
    } catch (e) {
      throw new BuildError("bad-customisation-layer", `customisation layer ${label}: cannot read ${layerPath}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, layerPath);
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

/** First pass: every layer's size and digest, the config and the manifest. */
export async function prepareImage(spec: ImageSpec, hooks: PrepareHooks = {}): Promise<PreparedImage> {
  if (spec.fromImage !== undefined) {
    throw new BuildError("bad-base-image", `from_image ${spec.fromImage}: base images are not supported yet by strata build (build without fromImage, or with nixpkgs' script)`, spec.fromImage);
  }
  const layers: PreparedLayer[] = [];
  const total = spec.storeLayers.length + (spec.customisation === undefined ? 0 : 1);
  for (const paths of spec.storeLayers) {
    const chunks = () => layerTarChunks(paths, spec.tar, spec.store);
    const { digest, size } = await digestChunks(chunks());
    const layer: PreparedLayer = { kind: "store", digest, size, paths: [...paths], member: `${digest}/layer.tar`, outer: OUTER_DEFAULT(spec.tar.mtime), chunks };
    layers.push(layer);
    hooks.onLayer?.(layer, layers.length - 1, total);
  }
  const custom = await prepareCustomisation(spec);
  if (custom !== undefined) {
    layers.push(custom);
    hooks.onLayer?.(custom, layers.length - 1, total);
  }
  const configObj = new Map<string, unknown>([
    ["created", spec.created],
    ["architecture", spec.architecture],
    ["os", "linux"],
    ["config", spec.config],
    ["rootfs", new Map<string, unknown>([["diff_ids", layers.map((l) => `sha256:${l.digest}`)], ["type", "layers"]])],
    ["history", layers.map((l) => new Map([["created", spec.created], ["comment", `store paths: ${pyReprList(l.paths)}`]]))],
  ]);
  const config = Buffer.from(pyJsonDumps(configObj, 4), "utf8");
  const configDigest = createHash("sha256").update(config).digest("hex");
  const manifestObj = [new Map<string, unknown>([["Config", `${configDigest}.json`], ["RepoTags", [spec.repoTag]], ["Layers", layers.map((l) => l.member)]])];
  const manifest = Buffer.from(pyJsonDumps(manifestObj, 4), "utf8");
  return { spec, layers, config, configDigest, manifest };
}

/**
 * Second pass: the docker-archive's bytes. Each layer is re-read and checked
 * against its first-pass size (a store is immutable; a change between the
 * passes is an error, never a corrupt archive with a wrong header).
 */
export async function* dockerArchiveChunks(image: PreparedImage, hooks: { onBytes?(n: number): void } = {}): AsyncGenerator<Uint8Array> {
  let offset = 0;
  const emit = (b: Uint8Array): Uint8Array => {
    offset += b.length;
    hooks.onBytes?.(b.length);
    return b;
  };
  for (const layer of image.layers) {
    yield emit(tarHeader({ ...layer.outer, name: pyEncode(layer.member), size: layer.size }));
    const h = layer.kind === "store" ? createHash("sha256") : undefined;
    let n = 0;
    for await (const c of layer.chunks()) {
      n += c.length;
      if (n > layer.size) break;
      h?.update(c);
      yield emit(c);
    }
    if (n !== layer.size || (h !== undefined && h.digest("hex") !== layer.digest)) {
      throw new BuildError("file-changed", `layer ${layer.member} changed between the two passes (files under ${layer.paths[0]} were modified while building)`, layer.paths[0]);
    }
    const pad = blockPadding(layer.size);
    if (pad > 0) yield emit(new Uint8Array(pad));
  }
  const meta = OUTER_DEFAULT(image.spec.tar.mtime);
  for (const [name, data] of [[`${image.configDigest}.json`, image.config], ["manifest.json", image.manifest]] as const) {
    yield emit(tarHeader({ ...meta, name: pyEncode(name), size: data.length }));
    yield emit(data);
    const pad = blockPadding(data.length);
    if (pad > 0) yield emit(new Uint8Array(pad));
  }
  yield emit(tarEnd(offset));
}
