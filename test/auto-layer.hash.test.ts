// CPython's str and frozenset hashes under PYTHONHASHSEED=0 and its set
// iteration order (reference doc A.3.1): test vectors, the worked example, and
// the paired-u32 arithmetic against a BigInt transcription.
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cpythonSetOrder, frozensetHash } from "../src/strategies/auto-layer/cpython-set-order.js";
import { cpythonStrBytes, cpythonStrHash, mul64, u64FromBigInt, u64ToBigInt } from "../src/strategies/auto-layer/siphash.js";

const hex = (x: { hi: number; lo: number }) => "0x" + u64ToBigInt(x).toString(16);

// Straight BigInt transcription of the doc's SipHash-1-3, as an oracle.
const M = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M;
function sipBig(bytes: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n,
    v1 = 0x646f72616e646f6dn,
    v2 = 0x6c7967656e657261n,
    v3 = 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & M;
    v1 = rotl(v1, 13n);
    v1 ^= v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M;
    v3 = rotl(v3, 16n);
    v3 ^= v2;
    v0 = (v0 + v3) & M;
    v3 = rotl(v3, 21n);
    v3 ^= v0;
    v2 = (v2 + v1) & M;
    v1 = rotl(v1, 17n);
    v1 ^= v2;
    v2 = rotl(v2, 32n);
  };
  const full = bytes.length - (bytes.length % 8);
  for (let off = 0; off < full; off += 8) {
    let m = 0n;
    for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(bytes[off + k]);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  let b = BigInt(bytes.length & 0xff) << 56n;
  for (let k = 0; full + k < bytes.length; k++) b |= BigInt(bytes[full + k]) << BigInt(8 * k);
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  const h = v0 ^ v1 ^ v2 ^ v3;
  return h === M ? M - 1n : h;
}

describe("CPython str hash (SipHash-1-3, zero key)", () => {
  const vectors: [string, string][] = [
    ["", "0x0"],
    ["a", "0x407448d2b89b1813"],
    ["/nix/store/abc-hello", "0xc023ed0a14acde05"],
    ["/nix/store/7z2yhq3vk6pyq7wh2r3pdcz8hy8vr7x5-hello-2.12.1", "0xbc252aa30dcb9f6d"],
  ];
  for (const [s, h] of vectors) {
    it(`hash(${JSON.stringify(s)}) = ${h}`, () => {
      expect(hex(cpythonStrHash(s))).toBe(h);
    });
  }

  it("matches a BigInt transcription on random strings of every length", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 12 }), (ascii, wide) => {
        for (const s of [ascii, wide, "/nix/store/" + ascii]) {
          if (s === "") continue;
          expect(hex(cpythonStrHash(s))).toBe("0x" + sipBig(cpythonStrBytes(s)).toString(16));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("uses Latin-1 bytes, then 2- and 4-byte little-endian units", () => {
    expect(Array.from(cpythonStrBytes("aé"))).toEqual([0x61, 0xe9]);
    expect(Array.from(cpythonStrBytes("a€"))).toEqual([0x61, 0, 0xac, 0x20]);
    expect(Array.from(cpythonStrBytes("a😀"))).toEqual([0x61, 0, 0, 0, 0x00, 0xf6, 0x01, 0]);
  });

  it("mul64 is multiplication mod 2^64", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: M }), fc.bigInt({ min: 0n, max: M }), (a, b) => {
        const x = u64FromBigInt(a),
          y = u64FromBigInt(b);
        expect(u64ToBigInt(mul64(x.hi, x.lo, y.hi, y.lo))).toBe((a * b) & M);
      }),
      { numRuns: 500 },
    );
  });
});

describe("CPython frozenset hash", () => {
  const vectors: [string[], string][] = [
    [[], "0x7918a246f6f8"],
    [["a"], "0x92f380f43863185f"],
    [["/nix/store/abc-hello"], "0xc2b86fd16683b95f"],
    [["a", "/nix/store/abc-hello"], "0x267646ffe1c6ef4d"],
    [["/nix/store/abc-hello", "a"], "0x267646ffe1c6ef4d"],
  ];
  for (const [members, h] of vectors) {
    it(`hash(frozenset(${JSON.stringify(members)})) = ${h}`, () => {
      expect(hex(frozensetHash(members))).toBe(h);
    });
  }
});

describe("CPython set iteration order", () => {
  const singles = ["aaaa-p0", "bbbb-p1", "cccc-p2", "dddd-p3", "eeee-p4", "ffff-p5", "gggg-p6", "hhhh-p7"].map((s) => ["/nix/store/" + s]);
  const labels = [[], ...singles];

  it("computes the frozenset hashes of the worked example", () => {
    expect(singles.map((l) => hex(frozensetHash(l)))).toEqual([
      "0xcc1bc931cc6c9689",
      "0x2403255eb21043a8",
      "0x669ea00ea88f7747",
      "0xd5f07f025d6471d2",
      "0x5ba9bc83f8ff0a67",
      "0x8c9937c725d3f0db",
      "0x7fba9d66dda1ad0c",
      "0x4c5d908d47452796",
    ]);
  });

  it("gives the worked example's order L3, L2, L1, L5, L7, L4, L8, L0, L6", () => {
    expect(cpythonSetOrder(labels.map(frozensetHash))).toEqual([3, 2, 1, 5, 7, 4, 8, 0, 6]);
  });

  it("probes with perturbation on a collision (ints hash to themselves: list(set([5, 0, 8])) == [0, 8, 5])", () => {
    expect(cpythonSetOrder([5, 0, 8].map((lo) => ({ hi: 0, lo })))).toEqual([1, 2, 0]);
  });

  it("keeps every item exactly once through many resizes", () => {
    const hashes = Array.from({ length: 3000 }, (_, i) => cpythonStrHash(`/nix/store/${i}-x`));
    const order = cpythonSetOrder(hashes);
    expect(order.length).toBe(3000);
    expect(new Set(order).size).toBe(3000);
    // Small ints hash to themselves in CPython: a set of 0..n-1 iterates in order.
    expect(cpythonSetOrder(Array.from({ length: 100 }, (_, i) => ({ hi: 0, lo: i })))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

// When a CPython >= 3.11 is at hand, compare random sets of frozensets with it directly.
const python = spawnSync("python3", ["-c", "import sys; print(sys.version_info >= (3, 11))"], { encoding: "utf8" });
const havePython = python.status === 0 && python.stdout.trim() === "True";

describe.skipIf(!havePython)("against the local CPython (>= 3.11, PYTHONHASHSEED=0)", () => {
  it("orders random sets of frozensets of store paths like CPython", () => {
    const cases = fc
      .sample(fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 4 }), { minLength: 1, maxLength: 120 }), { numRuns: 40, seed: 42 })
      .map((labels) => {
        const seen = new Set<string>();
        const distinct: string[][] = [];
        for (const l of labels) {
          const members = l.map((i) => `/nix/store/${i.toString(36).padStart(4, "x")}-p${i}`);
          const key = [...members].sort().join(" ");
          if (!seen.has(key)) (seen.add(key), distinct.push(members));
        }
        return distinct;
      });
    const script = [
      "import json, sys",
      "cases = json.load(sys.stdin)",
      "out = []",
      "for labels in cases:",
      "    fs = [frozenset(l) for l in labels]",
      "    s = set(fs)",
      "    out.append([fs.index(x) for x in s])",
      "print(json.dumps(out))",
    ].join("\n");
    const r = spawnSync("python3", ["-c", script], { input: JSON.stringify(cases), encoding: "utf8", env: { ...process.env, PYTHONHASHSEED: "0" } });
    expect(r.status).toBe(0);
    const expected = JSON.parse(r.stdout) as number[][];
    expect(cases.map((labels) => cpythonSetOrder(labels.map((l) => frozensetHash(l))))).toEqual(expected);
  });
});
