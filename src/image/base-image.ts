// nixpkgs' fromImage: a base docker-archive whose layers go first. As the
// script does with Python's tarfile: the base's manifest.json[0] names its
// config and layers, the config's rootfs.diff_ids are paired with the layers
// (the shorter list wins), each layer member is copied with its own header
// fields (name, mode, owner, mtime, PAX records) re-written in PAX format, its
// diff_id taken from the base config, and only Env is inherited (merged).
// Uncompressed and gzip-compressed bases are read (gzip is unpacked to a
// temporary file first, so members can be read by position).
import { closeSync, createReadStream, createWriteStream, openSync, readSync, rmSync, mkdtempSync, fstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { BuildError } from "../errors.js";
import { parsePyJson, type PyJsonValue } from "../format/python-json.js";
import type { ImageSpec } from "./spec.js";
import { BLOCK, blockPadding, pyCodePoints, pyEncode, type TarEntry } from "./tar.js";

/** One member of a tar archive as Python's tarfile reads it. */
export interface TarMember {
  name: Uint8Array;
  type: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: Uint8Array;
  uname: Uint8Array;
  gname: Uint8Array;
  pax: [string, Uint8Array][];
  /** byte offset of the member's data in the (uncompressed) archive */
  dataOffset: number;
}

export interface BaseLayer {
  member: TarMember;
  /** diff_id hex (the base config's, "sha256:" removed) */
  digest: string;
  /** the member name as text (history comment) */
  path: string;
}

export interface BaseImage {
  file: string;
  layers: BaseLayer[];
  /** the base config's "config" object */
  config: PyJsonValue;
  /** removes the temporary uncompressed copy, if any */
  close(): void;
  /** the fd of the uncompressed archive */
  fd: number;
}

const dec = new TextDecoder();

function cut(b: Uint8Array): Uint8Array {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}

/** tarfile's nti(): octal text (NUL/space terminated) or GNU base-256. */
function number(b: Uint8Array, where: string): number {
  if (b[0] === 0x80 || b[0] === 0xff) {
    let n = 0n;
    for (let i = 1; i < b.length; i++) n = (n << 8n) | BigInt(b[i]);
    if (b[0] === 0xff) n -= 1n << BigInt(8 * (b.length - 1));
    return Number(n);
  }
  const t = dec.decode(cut(b)).trim();
  if (t === "") return 0;
  if (!/^[0-7]+$/.test(t)) throw new BuildError("bad-base-image", `${where}: invalid number field ${JSON.stringify(t)}`, where);
  return parseInt(t, 8);
}

function stripTrailingSlashes(b: Uint8Array): Uint8Array {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0x2f) n--;
  return b.subarray(0, n);
}

/** Python's round() (half to even). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function readAt(fd: number, position: number, length: number, file: string): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) throw new BuildError("bad-base-image", `${file}: unexpected end of the archive`, file);
    got += n;
  }
  return buf;
}

/** Every member of an uncompressed tar, as tarfile lists them (PAX, GNU long names, ustar prefix). */
export function readTarIndex(fd: number, file: string): TarMember[] {
  const size = fstatSync(fd).size;
  const members: TarMember[] = [];
  let pos = 0;
  let pendingPax: [string, Uint8Array][] | undefined;
  let longName: Uint8Array | undefined;
  let longLink: Uint8Array | undefined;
  const global: [string, Uint8Array][] = [];
  while (pos + BLOCK <= size) {
    const h = readAt(fd, pos, BLOCK, file);
    if (h.every((x) => x === 0)) break;
    const where = `${file} (member at byte ${pos})`;
    let type = h[156];
    let name: Uint8Array = cut(h.subarray(0, 100));
    const prefix = cut(h.subarray(345, 500));
    const dataSize = number(h.subarray(124, 136), where);
    const dataOffset = pos + BLOCK;
    const next = dataOffset + dataSize + blockPadding(dataSize);
    if (type === 0x78 || type === 0x67) {
      // PAX extended ('x') or global ('g') header
      const data = readAt(fd, dataOffset, dataSize, file);
      const records: [string, Uint8Array][] = [];
      let i = 0;
      while (i < data.length && data[i] !== 0) {
        const sp = data.indexOf(0x20, i);
        const len = Number(dec.decode(data.subarray(i, sp)));
        if (!Number.isInteger(len) || len <= 0) throw new BuildError("bad-base-image", `${where}: malformed PAX record`, file);
        const rec = data.subarray(sp + 1, i + len - 1);
        const eq = rec.indexOf(0x3d);
        const key = dec.decode(rec.subarray(0, eq));
        const value = rec.subarray(eq + 1);
        const at = records.findIndex(([k]) => k === key);
        if (at >= 0) records[at] = [key, value];
        else records.push([key, value]);
        i += len;
      }
      if (type === 0x67) {
        for (const r of records) {
          const at = global.findIndex(([k]) => k === r[0]);
          if (at >= 0) global[at] = r;
          else global.push(r);
        }
      } else {
        const merged: [string, Uint8Array][] = global.map(([k, v]) => [k, v]);
        for (const r of records) {
          const at = merged.findIndex(([k]) => k === r[0]);
          if (at >= 0) merged[at] = r;
          else merged.push(r);
        }
        pendingPax = merged;
      }
      pos = next;
      continue;
    }
    if (type === 0x4c || type === 0x4b) {
      const v = cut(readAt(fd, dataOffset, dataSize, file));
      if (type === 0x4c) longName = v;
      else longLink = v;
      pos = next;
      continue;
    }
    if (type === 0x53) throw new BuildError("bad-base-image", `${where}: GNU sparse members are not supported`, file);
    if (type === 0 && name.length > 0 && name[name.length - 1] === 0x2f) type = 0x35;
    if (prefix.length > 0 && type !== 0x4c && type !== 0x4b) name = Buffer.concat([prefix, Uint8Array.of(0x2f), name]);
    const m: TarMember = {
      name,
      type,
      mode: number(h.subarray(100, 108), where),
      uid: number(h.subarray(108, 116), where),
      gid: number(h.subarray(116, 124), where),
      size: dataSize,
      mtime: number(h.subarray(136, 148), where),
      linkname: cut(h.subarray(157, 257)),
      uname: cut(h.subarray(265, 297)),
      gname: cut(h.subarray(297, 329)),
      pax: [],
      dataOffset,
    };
    if (longName !== undefined) m.name = longName;
    if (longLink !== undefined) m.linkname = longLink;
    longName = longLink = undefined;
    const pax = pendingPax ?? (global.length > 0 ? global.map(([k, v]) => [k, v] as [string, Uint8Array]) : undefined);
    pendingPax = undefined;
    if (pax !== undefined) {
      for (const [k, v] of pax) {
        const text = dec.decode(v);
        if (k === "path") m.name = stripTrailingSlashes(v);
        else if (k === "linkpath") m.linkname = v;
        else if (k === "uname") m.uname = v;
        else if (k === "gname") m.gname = v;
        else if (k === "size" || k === "uid" || k === "gid") {
          const n = /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : 0;
          m[k] = n;
        } else if (k === "mtime") {
          const f = Number(text);
          m.mtime = Number.isFinite(f) ? roundHalfEven(f) : 0;
        }
      }
      m.pax = pax;
    }
    if (m.type === 0x35) m.name = stripTrailingSlashes(m.name);
    members.push(m);
    pos = dataOffset + m.size + blockPadding(m.size);
  }
  return members;
}

function asText(b: Uint8Array): string {
  return pyCodePoints(b)
    .map((c) => String.fromCodePoint(c))
    .join("");
}

function memberBytes(fd: number, m: TarMember, file: string): Buffer {
  return readAt(fd, m.dataOffset, m.size, file);
}

function get(v: PyJsonValue | undefined, key: string | number, what: string, file: string): PyJsonValue {
  const r = typeof key === "number" ? (Array.isArray(v) ? v[key] : undefined) : v instanceof Map ? v.get(key) : undefined;
  if (r === undefined) throw new BuildError("bad-base-image", `base image ${file}: ${what} is missing`, file);
  return r;
}

/** Opens a base docker-archive (plain or gzip) and reads its manifest, config and layer members. */
export async function openBaseImage(file: string): Promise<BaseImage> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new BuildError(
      "bad-base-image",
      `base image ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
      file,
    );
  }
  let tmpDir: string | undefined;
  const magic = Buffer.alloc(6);
  readSync(fd, magic, 0, 6, 0);
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    closeSync(fd);
    tmpDir = mkdtempSync(join(tmpdir(), "strata-base-"));
    const plain = join(tmpDir, "base.tar");
    try {
      await pipeline(createReadStream(file), createGunzip(), createWriteStream(plain));
    } catch (e) {
      rmSync(tmpDir, { recursive: true, force: true });
      throw new BuildError("bad-base-image", `base image ${file}: cannot gunzip: ${(e as Error).message}`, file);
    }
    fd = openSync(plain, "r");
  } else if ((magic[0] === 0x42 && magic[1] === 0x5a && magic[2] === 0x68) || (magic[0] === 0xfd && magic.subarray(1, 6).toString("latin1") === "7zXZ\0")) {
    closeSync(fd);
    throw new BuildError("bad-base-image", `base image ${file}: bzip2/xz-compressed archives are not supported (decompress it, or use gzip)`, file);
  }
  const close = (): void => {
    closeSync(fd);
    if (tmpDir !== undefined) rmSync(tmpDir, { recursive: true, force: true });
  };
  try {
    const members = readTarIndex(fd, file);
    const find = (name: string): TarMember => {
      const want = Buffer.from(pyEncode(name.replace(/\/+$/, "")));
      for (let i = members.length - 1; i >= 0; i--) if (want.equals(members[i].name)) return members[i];
      throw new BuildError("bad-base-image", `base image ${file}: no member ${JSON.stringify(name)}`, file);
    };
    const json = (m: TarMember, what: string): PyJsonValue => {
      try {
        return parsePyJson(memberBytes(fd, m, file).toString("utf8"));
      } catch (e) {
        throw new BuildError("bad-base-image", `base image ${file}: ${what} is not JSON: ${(e as Error).message}`, file);
      }
    };
    const manifest = json(find("manifest.json"), "manifest.json");
    const first = get(manifest, 0, "manifest.json[0]", file);
    const configName = get(first, "Config", "manifest.json[0].Config", file);
    const layerNames = get(first, "Layers", "manifest.json[0].Layers", file);
    if (typeof configName !== "string" || !Array.isArray(layerNames) || !layerNames.every((l) => typeof l === "string")) {
      throw new BuildError("bad-base-image", `base image ${file}: manifest.json[0] needs a Config name and a Layers list`, file);
    }
    const config = json(find(configName), configName);
    const diffIds = get(get(config, "rootfs", "config rootfs", file), "diff_ids", "config rootfs.diff_ids", file);
    if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === "string"))
      throw new BuildError("bad-base-image", `base image ${file}: rootfs.diff_ids must be a list of strings`, file);
    const layers: BaseLayer[] = [];
    const n = Math.min(layerNames.length, diffIds.length);
    for (let i = 0; i < n; i++) {
      const m = find(layerNames[i] as string);
      if (m.type !== 0x30 && m.type !== 0)
        throw new BuildError("bad-base-image", `base image ${file}: layer member ${layerNames[i] as string} is not a regular file (a link); unsupported`, file);
      layers.push({ member: m, digest: (diffIds[i] as string).replace(/^sha256:/, ""), path: asText(m.name) });
    }
    return { file, layers, config: get(config, "config", "config.config", file), close, fd };
  } catch (e) {
    close();
    throw e;
  }
}

/** The outer tar header fields of a copied base layer member (its own, as tarfile re-writes them). */
export function baseMemberEntry(m: TarMember): TarEntry {
  return {
    name: m.name,
    type: m.type,
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    uname: m.uname,
    gname: m.gname,
    size: m.size,
    mtime: m.mtime,
    linkname: m.linkname,
    pax: m.pax,
  };
}

/** A base layer member's data, streamed. */
export async function* baseMemberChunks(base: BaseImage, m: TarMember): AsyncGenerator<Uint8Array> {
  let left = m.size;
  let pos = m.dataOffset;
  while (left > 0) {
    const n = Math.min(left, 1 << 20);
    yield readAt(base.fd, pos, n, base.file);
    pos += n;
    left -= n;
  }
}

/** `spec` as its image config describes it on `base`: the config's Env merged over the base's (the script's merge). */
export function withBaseEnv(spec: ImageSpec, base: BaseImage | undefined): ImageSpec {
  return base === undefined ? spec : { ...spec, config: mergeEnv(base.config, spec.config, base.file) };
}

/** The script's Env merge: base Env + own Env, one entry per name (first position, last value). */
function mergeEnv(baseConfig: PyJsonValue, config: PyJsonValue, file: string): PyJsonValue {
  if (!(baseConfig instanceof Map)) throw new BuildError("bad-base-image", `base image ${file}: its config.config is not an object`, file);
  if (!(config instanceof Map)) return config;
  const baseEnv = baseConfig.get("Env") ?? [];
  const ownEnv = config.get("Env") ?? [];
  if (!Array.isArray(baseEnv) || !Array.isArray(ownEnv)) throw new BuildError("bad-base-image", `Env must be a list (base image ${file})`, file);
  const all = [...baseEnv, ...ownEnv];
  if (all.length === 0) return config;
  const byName = new Map<string, PyJsonValue>();
  for (const e of all) {
    if (typeof e !== "string") throw new BuildError("bad-base-image", `Env entries must be strings (base image ${file})`, file);
    const i = e.indexOf("=");
    byName.set(i < 0 ? e : e.slice(0, i), e);
  }
  const out = new Map(config);
  out.set("Env", [...byName.values()]);
  return out;
}
