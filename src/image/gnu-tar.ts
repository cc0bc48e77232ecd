// A directory tarred the way nixpkgs tars its customisation layer:
//   tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0
//       --mtime=@315532800 --hard-dereference -C DIR -cf layer.tar .
// (GNU tar's default format, owner 0 as under fakeroot, names "./", "./bin/",
// ..., children in byte order, hard links as regular files). Long names and
// link targets use GNU's ././@LongLink entries. Streamed like the store layers.
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from "node:fs";
import { BuildError } from "../errors.js";
import { pathText } from "./layer-tar.js";
import { BLOCK, DIRTYPE, REGTYPE, SYMTYPE, blockPadding, putChecksum, tarEnd } from "./tar.js";

/** nixpkgs stdenv's SOURCE_DATE_EPOCH (1980-01-01), the mtime of every customisation-layer entry. */
export const CUSTOMISATION_MTIME = 315532800;

const CHUNK = 1 << 20;
const GNU_MAGIC = Uint8Array.from([0x75, 0x73, 0x74, 0x61, 0x72, 0x20, 0x20, 0x00]); // "ustar  \0"

function putNumber(h: Uint8Array, off: number, n: number, width: number): void {
  if (n >= 0 && n < 8 ** (width - 1)) {
    const s = n.toString(8).padStart(width - 1, "0");
    for (let i = 0; i < s.length; i++) h[off + i] = s.charCodeAt(i);
    h[off + width - 1] = 0;
    return;
  }
  // GNU base-256: high bit set, big-endian two's complement in the remaining bytes
  let v = BigInt(n);
  for (let i = width - 1; i >= 1; i--) {
    h[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  h[off] = n < 0 ? 0xff : 0x80;
}

function gnuHeader(name: Uint8Array, type: number, mode: number, size: number, mtime: number, linkname: Uint8Array): Uint8Array {
  const h = new Uint8Array(BLOCK);
  h.set(name.subarray(0, 100), 0);
  putNumber(h, 100, mode, 8);
  putNumber(h, 108, 0, 8);
  putNumber(h, 116, 0, 8);
  putNumber(h, 124, size, 12);
  putNumber(h, 136, mtime, 12);
  h.fill(0x20, 148, 156);
  h[156] = type;
  h.set(linkname.subarray(0, 100), 157);
  h.set(GNU_MAGIC, 257);
  return putChecksum(h);
}

const LONGLINK = new TextEncoder().encode("././@LongLink");

/** A GNU long-name ('L') or long-link ('K') entry carrying `value` + NUL. */
function longEntry(type: number, value: Uint8Array): Uint8Array {
  const size = value.length + 1;
  const out = new Uint8Array(BLOCK + size + blockPadding(size));
  out.set(gnuHeader(LONGLINK, type, 0o644, size, 0, new Uint8Array(0)), 0);
  out.set(value, BLOCK);
  return out;
}

/** Header bytes of one entry of a GNU-format archive (long-name entries first when needed). */
export function gnuEntry(name: Uint8Array, type: number, mode: number, size: number, mtime: number, linkname: Uint8Array = new Uint8Array(0)): Uint8Array {
  const parts: Uint8Array[] = [];
  if (linkname.length > 100) parts.push(longEntry(0x4b, linkname));
  if (name.length > 100) parts.push(longEntry(0x4c, name));
  parts.push(gnuHeader(name, type, mode & 0o7777, size, mtime, linkname));
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The GNU tar of a directory's contents as nixpkgs makes a customisation layer, streamed. */
export async function* directoryTarChunks(dir: string, mtime = CUSTOMISATION_MTIME): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let offset = 0;
  const push = (b: Uint8Array): void => {
    pending.push(b);
    pendingBytes += b.length;
    offset += b.length;
  };
  const take = (): Uint8Array => {
    const out = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return out;
  };
  const slash = Uint8Array.of(0x2f);
  const stack: { name: Buffer; disk: Buffer }[] = [{ name: Buffer.from("."), disk: Buffer.from(dir) }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const shown = pathText(item.disk);
    let st: Stats;
    try {
      st = lstatSync(item.disk);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BuildError(code === "ENOENT" ? "missing-path" : "unreadable", `cannot read ${shown}: ${(e as Error).message}`, shown);
    }
    if (st.isSymbolicLink()) {
      push(gnuEntry(item.name, SYMTYPE, st.mode, 0, mtime, readlinkSync(item.disk, { encoding: "buffer" })));
    } else if (st.isDirectory()) {
      push(gnuEntry(Buffer.concat([item.name, slash]), DIRTYPE, st.mode, 0, mtime));
      let names: Buffer[];
      try {
        names = readdirSync(item.disk, { encoding: "buffer" });
      } catch (e) {
        throw new BuildError("unreadable", `cannot list ${shown}: ${(e as Error).message}`, shown);
      }
      names.sort(compareBytes);
      for (let i = names.length - 1; i >= 0; i--)
        stack.push({ name: Buffer.concat([item.name, slash, names[i]]), disk: Buffer.concat([item.disk, slash, names[i]]) });
    } else if (st.isFile()) {
      const size = st.size;
      push(gnuEntry(item.name, REGTYPE, st.mode, size, mtime));
      let fd: number;
      try {
        fd = openSync(item.disk, "r");
      } catch (e) {
        throw new BuildError("unreadable", `cannot read ${shown}: ${(e as Error).message}`, shown);
      }
      try {
        let left = size;
        while (left > 0) {
          if (pendingBytes >= CHUNK) yield take();
          const want = Math.min(left, CHUNK);
          const buf = Buffer.allocUnsafe(want);
          let got = 0;
          while (got < want) {
            const n = readSync(fd, buf, got, want - got, null);
            if (n === 0) throw new BuildError("file-changed", `${shown} shrank while being archived`, shown);
            got += n;
          }
          push(buf);
          left -= want;
        }
        if (fstatSync(fd).size !== size) throw new BuildError("file-changed", `${shown} changed size while being archived`, shown);
      } finally {
        closeSync(fd);
      }
      const pad = blockPadding(size);
      if (pad > 0) push(new Uint8Array(pad));
    } else {
      throw new BuildError("special-file", `cannot put ${shown} into the customisation layer: it is not a regular file, directory or symlink`, shown);
    }
    if (pendingBytes >= CHUNK) yield take();
  }
  push(tarEnd(offset));
  yield take();
}
