// package_name and the popularity tie order: Python compares str by code point.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compareCodePoints, nameKeys, packageName, sortByPopularity, tieKeyNameKeysInto } from "../src/pipeline/package-name.js";

/** Independent: compare arrays of code points. */
function byCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

const sign = (n: number) => Math.sign(n);
// Strings that stress the key packing: shared prefixes, DEL, BMP above surrogates, astral.
const alphabet = fc.constantFrom("a", "b", "-", "/", "\x7f", "\x00", "é", "\uffff", "\ue000", "😀", "𝔸");
const str = fc.array(alphabet, { maxLength: 18 }).map((cs) => cs.join(""));

describe("package_name", () => {
  it("moves the first dash-separated piece to the end", () => {
    expect(packageName("/nix/store/abc-acl-2.3")).toBe("acl-2.3-/nix/store/abc");
    expect(packageName("/nix/store/abc-python3-3.12.8-env")).toBe("python3-3.12.8-env-/nix/store/abc");
    expect(packageName("nodash")).toBe("nodash");
    expect(packageName("-x")).toBe("x-");
  });
});

describe("code point order", () => {
  it("compareCodePoints agrees with an array-of-code-points comparison", () => {
    fc.assert(fc.property(str, str, (a, b) => sign(compareCodePoints(a, b)) === sign(byCodePoints(a, b))));
  });

  it("differs from JavaScript's UTF-16 order where it must", () => {
    expect("\uffff" < "😀").toBe(false); // UTF-16: surrogate 0xD83D < 0xFFFF
    expect(compareCodePoints("\uffff", "😀")).toBeLessThan(0); // code points: U+FFFF < U+1F600
  });

  it("name keys never contradict the full order", () => {
    fc.assert(
      fc.property(str, str, (a, b) => {
        const [a1, a2] = nameKeys(a);
        const [b1, b2] = nameKeys(b);
        const k = a1 - b1 || a2 - b2;
        return k === 0 || sign(k) === sign(byCodePoints(a, b));
      }),
    );
  });

  it("name keys read from a path in place equal those of its tie key", () => {
    const check = (path: string) => {
      const out = [NaN, NaN];
      tieKeyNameKeysInto(path, out, 0);
      expect(out, JSON.stringify(path)).toEqual(nameKeys(packageName(path)));
    };
    fc.assert(fc.property(str, (path) => check(path)));
    for (const path of ["", "-", "a-", "-a", "nodash", "/nix/store/abc-acl-2.3", "/nix/store/0123456789abcdef-x", "ab-" + "c".repeat(20)]) check(path);
  });

  it("sortByPopularity: popularity descending, then names in code point order", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(str, fc.integer({ min: 0, max: 3 })), { maxLength: 30 }), (rows) => {
        const names = rows.map(([s], i) => `${s}#${i}`); // distinct, like package names
        const pop = Float64Array.from(rows, ([, p]) => p);
        const got = Array.from(sortByPopularity(rows.length, pop, (i) => names[i]));
        const want = rows.map((_, i) => i).sort((a, b) => pop[b] - pop[a] || byCodePoints(names[a], names[b]));
        expect(got).toEqual(want);
        const big = rows.map(([, p]) => BigInt(p) * 2n ** 70n);
        expect(Array.from(sortByPopularity(rows.length, big, (i) => names[i]))).toEqual(want);
        // BigInts below 2^53 take the doubles' path (counting sort by value, then names per run).
        const small = rows.map(([, p]) => BigInt(p) * 2n ** 40n);
        expect(Array.from(sortByPopularity(rows.length, small, (i) => names[i]))).toEqual(want);
      }),
    );
  });

  it("sortByPopularity keeps the input order of equal names among equal values (a stable sort)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "é", "😀"), fc.integer({ min: 0, max: 2 })), { maxLength: 40 }), (rows) => {
        const names = rows.map(([s]) => s);
        const pop = Float64Array.from(rows, ([, p]) => p);
        const want = rows.map((_, i) => i).sort((a, b) => pop[b] - pop[a] || byCodePoints(names[a], names[b]));
        expect(Array.from(sortByPopularity(rows.length, pop, (i) => names[i]))).toEqual(want);
      }),
    );
  });
});
