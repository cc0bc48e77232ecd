// The one store-name module: names with and without version, and the two
// string orders (code point order of well-formed text = Go's bytewise order,
// and Python's exact str order, which differs only on lone surrogates).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { codeUnitOrderIsCodePointOrder, compareCodePoints, comparePythonStr, packageName, parseName, storeName } from "../src/graph/store-name.js";
import { compareBytewise } from "../src/strategies/nixery/index.js";
import { compareCodePoints as pipelineCompare, popularityTieKey } from "../src/pipeline/index.js";

const sign = (x: number) => Math.sign(x);
/** Python's order, from its definition: compare the code point sequences (lone surrogates are code points). */
function byPythonCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

describe("store names", () => {
  it("name, package name and version", () => {
    expect(storeName("/nix/store/abc-python3.11-minimal-3.11.2-6")).toBe("python3.11-minimal-3.11.2-6");
    expect(parseName("python3.11-minimal-3.11.2-6")).toEqual({ pname: "python3.11-minimal", version: "3.11.2-6" });
    expect(packageName("/nix/store/abc-hello")).toBe("hello");
    // nixpkgs' popularity tie key is another thing: name, version, then the hash prefix.
    expect(popularityTieKey("/nix/store/abc-acl-2.3")).toBe("acl-2.3-/nix/store/abc");
  });
});

describe("string orders", () => {
  it("one code point comparator: Nixery's bytewise order and the pipeline's are the same function", () => {
    expect(compareBytewise).toBe(compareCodePoints);
    expect(pipelineCompare).toBe(compareCodePoints);
  });

  it("compareCodePoints is bytewise UTF-8 order on well-formed strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        expect(sign(compareCodePoints(a, b))).toBe(sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2000 },
    );
  });

  it("comparePythonStr is Python's order, lone surrogates included", () => {
    const units = fc.string({ unit: "binary" }); // any UTF-16 code units, lone surrogates too
    fc.assert(
      fc.property(units, units, (a, b) => {
        expect(sign(comparePythonStr(a, b))).toBe(sign(byPythonCodePoints(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it("the two differ exactly on lone surrogates (Python: U+DC80 < U+E000; as UTF-8 halves: above)", () => {
    expect(comparePythonStr("\udc80", "\ue000")).toBeLessThan(0);
    expect(compareCodePoints("\udc80", "\ue000")).toBeGreaterThan(0);
    // A well-formed pair is one astral code point in both.
    expect(comparePythonStr("\ud83d\ude00", "\uffff")).toBeGreaterThan(0);
    expect(compareCodePoints("\ud83d\ude00", "\uffff")).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        expect(sign(comparePythonStr(a, b))).toBe(sign(compareCodePoints(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it("plain `<` is code point order when no string has a surrogate or higher unit", () => {
    expect(codeUnitOrderIsCodePointOrder(["/nix/store/abc-x", "é"])).toBe(true);
    expect(codeUnitOrderIsCodePointOrder(["\ud83d\ude00"])).toBe(false);
  });
});
