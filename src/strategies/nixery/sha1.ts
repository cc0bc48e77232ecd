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

/** The 20-byte SHA-1 digest of `bytes`. */
export function sha1(bytes: Uint8Array): Uint8Array {
  const len = bytes.length;
  // Padding: 0x80, zeros, then the bit length as a 64-bit big-endian number,
  // so that the total is a multiple of 64 bytes.
  const total = Math.ceil((len + 9) / 64) * 64;
  const block = new Uint8Array(total);
  block.set(bytes);
  block[len] = 0x80;
  const view = new DataView(block.buffer);
  // Bit length = len * 8; split so lengths above 2^32 bits stay exact.
  view.setUint32(total - 8, Math.floor(len / 0x20000000) >>> 0);
  view.setUint32(total - 4, (len << 3) >>> 0);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Int32Array(80);
  for (let off = 0; off < total; off += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(off + t * 4);
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  const ov = new DataView(out.buffer);
  ov.setInt32(0, h0);
  ov.setInt32(4, h1);
  ov.setInt32(8, h2);
  ov.setInt32(12, h3);
  ov.setInt32(16, h4);
  return out;
}
