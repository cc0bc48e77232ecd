// SHA-1 (FIPS 180-4) in plain TypeScript. Nixery names each layer by
// hex(SHA-1(contents joined with ":")) and uses it as its build-cache key, so
// strata needs the same digest in Node and in browsers (where node:crypto is
// absent and WebCrypto is async-only). SHA-1 is used as an identifier here,
// not for security.
// Example: sha1Hex("abc") === "a9993e364706816aba3e25717850c26c9cd0d89d".

const utf8 = new TextEncoder();

/** Hex SHA-1 of a string's UTF-8 bytes (Go strings are UTF-8) or of raw bytes. */
export function sha1Hex(data: string | Uint8Array): string {
  const digest = sha1(typeof data === "string" ? utf8.encode(data) : data);
  let out = "";
  for (let i = 0; i < digest.length; i++) out += digest[i].toString(16).padStart(2, "0");
  return out;
}

// Message schedule, reused across calls (the functions are synchronous).
const W = new Int32Array(80);

/** The 20-byte SHA-1 digest of `bytes`. */
export function sha1(bytes: Uint8Array): Uint8Array {
  const len = bytes.length;
  const h = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0);
  // Whole 64-byte blocks straight from the input, then 1-2 padded tail blocks:
  // 0x80, zeros, and the bit length as a 64-bit big-endian number.
  const whole = len - (len % 64);
  for (let off = 0; off < whole; off += 64) compress(h, bytes, off);
  const tailLen = len - whole;
  const tail = new Uint8Array(tailLen + 9 > 64 ? 128 : 64);
  tail.set(bytes.subarray(whole));
  tail[tailLen] = 0x80;
  const view = new DataView(tail.buffer);
  // Bit length = len * 8, split so lengths above 2^32 bits stay exact.
  view.setUint32(tail.length - 8, Math.floor(len / 0x20000000) >>> 0);
  view.setUint32(tail.length - 4, (len << 3) >>> 0);
  for (let off = 0; off < tail.length; off += 64) compress(h, tail, off);
  const out = new Uint8Array(20);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 5; i++) ov.setInt32(i * 4, h[i]);
  return out;
}

function compress(h: Int32Array, b: Uint8Array, off: number): void {
  const w = W;
  for (let t = 0, i = off; t < 16; t++, i += 4) w[t] = (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
    w[t] = (x << 1) | (x >>> 31);
  }
  let a = h[0];
  let b1 = h[1];
  let c = h[2];
  let d = h[3];
  let e = h[4];
  for (let t = 0; t < 80; t++) {
    let f: number;
    let k: number;
    if (t < 20) {
      f = (b1 & c) | (~b1 & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b1 ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b1 & c) | (b1 & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b1 ^ c ^ d;
      k = 0xca62c1d6;
    }
    const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
    e = d;
    d = c;
    c = (b1 << 30) | (b1 >>> 2);
    b1 = a;
    a = temp;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b1) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
}
