// Seeded generator of Nix-like closures (exportReferencesGraph JSON) for
// scale tests: the model of ../shared/tools/gen-nix-graph.py (levels, Pareto
// target weights, glibc/gcc-lib/bash referenced by most paths, log-normal
// sizes with ties, name ties, ~70% self references, sorted like Nix) in typed
// arrays, written as a stream of ~1 MB pieces, so 1M paths take seconds and
// never exist as one string.
//
//   node bench/gen-closure.mjs N [--seed S] [--levels L] [--avg-refs R] [--wrap] -o FILE[.gz]
//
// Defaults: 25 levels (Nix closures are 15-40 deep), 7 references per path.
import { createWriteStream } from "node:fs";
import { createGzip } from "node:zlib";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";
const PNAMES = (
  "acl attr bash bzip2 coreutils curl dbus expat ffmpeg fontconfig freetype gcc " +
  "gdbm glib gmp gnugrep gnused gnutls harfbuzz icu jq kmod krb5 libcap libffi " +
  "libidn2 libjpeg libpng libselinux libssh libunistring libxml2 libxslt lz4 ncurses " +
  "nettle nghttp2 openssl pcre2 perl python3 readline sqlite systemd tzdata " +
  "util-linux xz zlib zstd gtk3 pango cairo pixman mesa llvm rustc nodejs go " +
  "openjdk boost protobuf grpc abseil re2 snappy leveldb rocksdb lmdb"
).split(" ");
const SUFFIXES = ["", "", "", "", "-lib", "-dev", "-bin", "-man", "-doc", "-out"];
// glibc, gcc-lib and bash: the share of paths referencing each directly.
const FOUNDATION = [0.85, 0.4, 0.25];
const TINY = [120, 128, 136, 152, 168, 200, 256, 312, 424, 512];

/** sfc32: small, fast, seedable (Math.random is not). */
function rng(seed) {
  let a = 0x9e3779b9 ^ seed,
    b = 0x243f6a88,
    c = 0xb7e15162 ^ (seed * 31),
    d = 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

const NIX32_CODES = Array.from(NIX32, (c) => c.charCodeAt(0));
const hashCodes = new Array(64);

function hash(r, len) {
  hashCodes.length = len;
  for (let i = 0; i < len; i++) hashCodes[i] = NIX32_CODES[(r() * 32) | 0];
  return String.fromCharCode.apply(null, hashCodes);
}

function normal(r) {
  // Box-Muller
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function poisson(r, lam) {
  const limit = Math.exp(-lam);
  let k = 0,
    p = 1;
  for (;;) {
    p *= r();
    if (p <= limit) return k;
    k++;
  }
}

/**
 * The closure as columns: paths (sorted, like Nix writes them), narSize,
 * references as offsets/targets into the sorted order (self references
 * included for ~70% of paths), plus the level of each path.
 */
export function generateClosure(n, { seed = 1, levels = 25, avgRefs = 7 } = {}) {
  const r = rng(seed);
  levels = Math.max(2, Math.min(levels, n));
  // ---- names
  const bases = new Array(n);
  const names = new Array(n);
  for (let i = 0; i < n; i++) {
    let base;
    if (i > 0 && r() < 0.05)
      base = bases[(r() * i) | 0]; // name tie, new hash
    else {
      const v = [(r() * 13) | 0, (r() * 41) | 0];
      if (r() < 0.5) v.push((r() * 21) | 0);
      const digit = r() < 1 / 3 ? String(2 + ((r() * 8) | 0)) : "";
      base = `${PNAMES[(r() * PNAMES.length) | 0]}${digit}-${v.join(".")}${SUFFIXES[(r() * SUFFIXES.length) | 0]}`;
    }
    bases[i] = base;
    names[i] = `/nix/store/${hash(r, 32)}-${base}`;
  }
  const special = ["glibc-2.40-66", "gcc-14.2.0-lib", "bash-5.2p37"];
  for (let i = 0; i < Math.min(3, n); i++) names[i] = `/nix/store/${hash(r, 32)}-${special[i]}`;
  // ---- levels: 0 = foundation, the top level holds the roots
  let nRoots = n > 3 ? Math.max(3, Math.floor(n / 2000)) : 1;
  nRoots = Math.min(nRoots, Math.max(1, n - (levels - 1)));
  const body = n - nRoots;
  const level = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (i < Math.min(3, n)) level[i] = 0;
    else if (i >= body) level[i] = levels - 1;
    else level[i] = Math.min(levels - 2, Math.floor(r() ** 1.3 * (levels - 1)));
  }
  for (let lv = 0; lv < Math.min(levels - 1, body); lv++) {
    const i = Math.min(3, n) + lv < body ? Math.min(3, n) + lv : lv;
    level[i] = lv;
  }
  // order: by (level, index), a counting sort
  const count = new Uint32Array(levels + 1);
  for (let i = 0; i < n; i++) count[level[i] + 1]++;
  for (let lv = 0; lv < levels; lv++) count[lv + 1] += count[lv];
  const levelStart = count.slice(0, levels);
  const levelEnd = count.slice(1, levels + 1);
  const order = new Uint32Array(n);
  const fill = levelStart.slice();
  for (let i = 0; i < n; i++) order[fill[level[i]]++] = i;
  // ---- Pareto(1.2) target weights, heavier low down
  const cum = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    acc += (1 / (1 - r()) ** (1 / 1.2)) * 0.75 ** level[order[k]];
    cum[k] = acc;
  }
  const drawBelow = (limit) => {
    const x = r() * cum[limit - 1];
    let lo = 0,
      hi = limit - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return order[lo];
  };
  // ---- references (unsorted lists per path)
  const refs = new Array(n);
  const referenced = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const v = order[k];
    const lv = level[v];
    const list = [];
    refs[v] = list;
    if (lv === 0) {
      if (v !== 0 && r() < 0.85) list.push(0);
    } else {
      const below = levelStart[lv];
      const want = Math.min(1 + poisson(r, Math.max(0, avgRefs - 1)), below);
      list.push(order[levelStart[lv - 1] + Math.floor(r() * (levelEnd[lv - 1] - levelStart[lv - 1]))]);
      for (let sp = 0; sp < 3; sp++) {
        if (sp < n && sp !== v && r() < FOUNDATION[sp] && !list.includes(sp)) list.push(sp);
      }
      while (list.length < want) {
        const w = drawBelow(below);
        if (!list.includes(w)) list.push(w);
      }
    }
    for (const w of list) referenced[w] = 1;
  }
  // attach unreferenced non-roots to a random path above them
  for (let k = 0; k < n; k++) {
    const v = order[k];
    if (referenced[v] || level[v] === levels - 1) continue;
    const lo = levelEnd[level[v]];
    if (lo >= n) continue;
    const u = order[lo + Math.floor(r() * (n - lo))];
    refs[u].push(v);
    referenced[v] = 1;
  }
  // ---- sizes: log-normal around 100 KiB, plus tiny paths with tied sizes
  const size = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (r() < 0.1) size[i] = TINY[(r() * TINY.length) | 0];
    else {
      const s = Math.floor(Math.exp(Math.log(100 * 1024) + 2 * normal(r)));
      size[i] = Math.floor(Math.max(8, Math.min(s, 8 * 1024 ** 3)) / 8) * 8;
    }
  }
  [31_000_000, 7_000_000, 1_600_000].slice(0, Math.min(3, n)).forEach((s, i) => (size[i] = s));
  // ---- sort by path (Nix order) and renumber
  // Native string sort (no comparator) of "path\x01index": \x01 sorts below every path character.
  const keyed = names.map((s, i) => `${s}\x01${i}`).sort();
  const byPath = keyed.map((k) => Number(k.slice(k.lastIndexOf("\x01") + 1)));
  const rank = new Uint32Array(n);
  byPath.forEach((v, k) => (rank[v] = k));
  const paths = byPath.map((v) => names[v]);
  const narSize = Float64Array.from(byPath, (v) => size[v]);
  const offsets = new Uint32Array(n + 1);
  for (let k = 0; k < n; k++) offsets[k + 1] = offsets[k] + refs[byPath[k]].length + 1;
  const targets = new Uint32Array(offsets[n]);
  const levelOf = new Uint8Array(n);
  let e = 0;
  for (let k = 0; k < n; k++) {
    const v = byPath[k];
    levelOf[k] = level[v];
    const start = e;
    for (const w of refs[v]) targets[e++] = rank[w];
    if (r() < 0.7) targets[e++] = k; // Nix lists most paths as referencing themselves
    targets.subarray(start, e).sort();
    offsets[k + 1] = e;
  }
  return { n, paths, narSize, offsets: offsets.slice(0, n + 1), targets: targets.slice(0, e), level: levelOf, seed };
}

/** The JSON bytes in pieces of about `pieceBytes`; one entry per line, like the Debian files. */
export function* closureJsonPieces(g, { wrap = false, pieceBytes = 1 << 20, seed = g.seed } = {}) {
  const r = rng(seed ^ 0x5eed);
  let buf = Buffer.allocUnsafe(pieceBytes + 65536);
  let pos = 0;
  const put = (s) => {
    if (pos + s.length > buf.length) buf = grow(buf, pos, s.length);
    // latin1Write: Node's fast one-byte writer (Buffer#write with "latin1" does the same, slower).
    pos += /** @type {any} */ (buf).latin1Write(s, pos);
  };
  put(wrap ? '{"graph":[\n' : "[\n");
  for (let k = 0; k < g.n; k++) {
    put(`{"narHash":"sha256:${hash(r, 52)}","narSize":${g.narSize[k]},"path":"${g.paths[k]}","references":[`);
    for (let e = g.offsets[k]; e < g.offsets[k + 1]; e++) {
      put(e === g.offsets[k] ? '"' : ',"');
      put(g.paths[g.targets[e]]);
      put('"');
    }
    put(k + 1 < g.n ? "]},\n" : "]}\n");
    if (pos >= pieceBytes) {
      yield buf.subarray(0, pos);
      buf = Buffer.allocUnsafe(pieceBytes + 65536);
      pos = 0;
    }
  }
  put(wrap ? "]}\n" : "]\n");
  yield buf.subarray(0, pos);
}

function grow(buf, pos, need) {
  const b = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + need));
  buf.copy(b, 0, 0, pos);
  return b;
}

/** Writes the closure to FILE (gzip when it ends in .gz), streaming; resolves to the bytes of JSON written. */
export async function writeClosureFile(file, g, options = {}) {
  const fileStream = createWriteStream(file);
  const gz = file.endsWith(".gz") ? createGzip({ level: 6 }) : null;
  if (gz) gz.pipe(fileStream);
  const sink = gz ?? fileStream;
  let bytes = 0;
  for (const piece of closureJsonPieces(g, options)) {
    bytes += piece.length;
    if (!sink.write(piece)) await once(sink, "drain");
  }
  sink.end();
  await once(fileStream, "close");
  return bytes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const n = Number(args[0]);
  const out = opt("-o", opt("--output"));
  if (!Number.isInteger(n) || n < 1 || !out) {
    console.error("usage: node bench/gen-closure.mjs N [--seed S] [--levels L] [--avg-refs R] [--wrap] -o FILE[.gz]");
    process.exit(2);
  }
  const t0 = performance.now();
  const g = generateClosure(n, { seed: Number(opt("--seed", 1)), levels: Number(opt("--levels", 25)), avgRefs: Number(opt("--avg-refs", 7)) });
  const t1 = performance.now();
  const bytes = await writeClosureFile(out, g, { wrap: args.includes("--wrap") });
  const t2 = performance.now();
  console.error(
    `gen-closure: ${n} paths, ${g.targets.length} references, ${(bytes / 1e6).toFixed(1)} MB JSON -> ${out} (generate ${((t1 - t0) / 1000).toFixed(1)} s, write ${((t2 - t1) / 1000).toFixed(1)} s)`,
  );
}
