// CPython's str hash under PYTHONHASHSEED=0 (CPython >= 3.11): SipHash-1-3
// with an all-zero key (reference doc A.3.1). auto-layer's tie order between
// layers of equal closureSize comes from it, so it must be bit-exact.
//
// Unsigned 64-bit values are kept as two u32 halves (hi, lo): no BigInt in
// the hot path (the fast path hashes every store path of a 100k closure).

/** An unsigned 64-bit value as two unsigned 32-bit halves. */
export interface U64 {
  hi: number;
  lo: number;
}

export function u64ToBigInt(x: U64): bigint {
  return (BigInt(x.hi >>> 0) << 32n) | BigInt(x.lo >>> 0);
}

export function u64FromBigInt(x: bigint): U64 {
  const v = BigInt.asUintN(64, x);
  return { hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) };
}

/** (a * b) mod 2^64 on halves; exact (16-bit limbs for the 32x32 -> 64 product). */
export function mul64(ah: number, al: number, bh: number, bl: number): U64 {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  const hi = (carry + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0;
  return { hi, lo };
}

// SipHash state: v0..v3 as hi/lo pairs in one Uint32 array (index 2k = hi, 2k+1 = lo).
const v = new Uint32Array(8);

function add(dst: number, src: number): void {
  const lo = v[dst + 1] + v[src + 1];
  v[dst] = v[dst] + v[src] + (lo > 0xffffffff ? 1 : 0);
  v[dst + 1] = lo;
}

function rotl(i: number, b: number): void {
  const hi = v[i];
  const lo = v[i + 1];
  if (b === 32) {
    v[i] = lo;
    v[i + 1] = hi;
  } else if (b < 32) {
    v[i] = (hi << b) | (lo >>> (32 - b));
    v[i + 1] = (lo << b) | (hi >>> (32 - b));
  } else {
    const c = b - 32;
    v[i] = (lo << c) | (hi >>> (32 - c));
    v[i + 1] = (hi << c) | (lo >>> (32 - c));
  }
}

function xor(dst: number, src: number): void {
  v[dst] ^= v[src];
  v[dst + 1] ^= v[src + 1];
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function sipRound(): void {
  add(V0, V1);
  rotl(V1, 13);
  xor(V1, V0);
  rotl(V0, 32);
  add(V2, V3);
  rotl(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotl(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotl(V1, 17);
  xor(V1, V2);
  rotl(V2, 32);
}

/** SipHash-1-3 with key (0, 0) of `bytes`. */
export function siphash13(bytes: Uint8Array): U64 {
  // k0 = k1 = 0, so the initial state is the bare constants.
  v[0] = 0x736f6d65;
  v[1] = 0x70736575;
  v[2] = 0x646f7261;
  v[3] = 0x6e646f6d;
  v[4] = 0x6c796765;
  v[5] = 0x6e657261;
  v[6] = 0x74656462;
  v[7] = 0x79746573;
  const len = bytes.length;
  const full = len - (len % 8);
  for (let off = 0; off < full; off += 8) {
    const mlo = (bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0;
    const mhi = (bytes[off + 4] | (bytes[off + 5] << 8) | (bytes[off + 6] << 16) | (bytes[off + 7] << 24)) >>> 0;
    v[6] ^= mhi;
    v[7] ^= mlo;
    sipRound();
    v[0] ^= mhi;
    v[1] ^= mlo;
  }
  // Last block: the remaining bytes little-endian, (len mod 256) in the top byte.
  let blo = 0;
  let bhi = (len & 0xff) << 24;
  for (let k = 0; full + k < len; k++) {
    const byte = bytes[full + k];
    if (k < 4) blo |= byte << (8 * k);
    else bhi |= byte << (8 * (k - 4));
  }
  blo >>>= 0;
  bhi >>>= 0;
  v[6] ^= bhi;
  v[7] ^= blo;
  sipRound();
  v[0] ^= bhi;
  v[1] ^= blo;
  v[5] ^= 0xff;
  sipRound();
  sipRound();
  sipRound();
  return { hi: (v[0] ^ v[2] ^ v[4] ^ v[6]) >>> 0, lo: (v[1] ^ v[3] ^ v[5] ^ v[7]) >>> 0 };
}

/**
 * The bytes CPython hashes for a str: its code points one byte each when all
 * are below 256 (Latin-1; store paths are ASCII), else its 2- or 4-byte
 * internal units, little-endian.
 */
export function cpythonStrBytes(s: string): Uint8Array {
  const cps: number[] = [];
  let max = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    cps.push(cp);
    if (cp > max) max = cp;
  }
  const width = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  const out = new Uint8Array(cps.length * width);
  for (let i = 0; i < cps.length; i++) {
    for (let k = 0; k < width; k++) out[i * width + k] = (cps[i] >>> (8 * k)) & 0xff;
  }
  return out;
}

const asciiBuffer = { bytes: new Uint8Array(256) };

/** hash(s) in CPython >= 3.11 with PYTHONHASHSEED=0, as an unsigned 64-bit value. */
export function cpythonStrHash(s: string): U64 {
  if (s.length === 0) return { hi: 0, lo: 0 };
  let bytes: Uint8Array | undefined;
  // Fast path for ASCII, which every store path is.
  if (s.length <= 4096) {
    if (asciiBuffer.bytes.length < s.length) asciiBuffer.bytes = new Uint8Array(s.length * 2);
    const buf = asciiBuffer.bytes;
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      buf[i] = c;
    }
    if (ascii) bytes = buf.subarray(0, s.length);
  }
  const h = siphash13(bytes ?? cpythonStrBytes(s));
  // -1 is CPython's error marker, so a hash of -1 becomes -2.
  if (h.hi === 0xffffffff && h.lo === 0xffffffff) h.lo = 0xfffffffe;
  return h;
}
