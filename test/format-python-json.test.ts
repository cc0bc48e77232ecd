// formatLayersIndented / formatLayersCompact write whole layers with one
// native join when every path is plain printable ASCII (one test over the
// concatenation) and escape string by string otherwise. Both must give the
// bytes of the string-by-string writer, which is the oracle here.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatLayersCompact, formatLayersIndented, pyJsonString } from "../src/format/python-json.js";

const oracleIndented = (layers: string[][]): string =>
  layers.length === 0
    ? "[]\n"
    : "[\n" + layers.map((l) => (l.length === 0 ? "  []" : "  [\n" + l.map((p) => "    " + pyJsonString(p)).join(",\n") + "\n  ]")).join(",\n") + "\n]\n";
const oracleCompact = (layers: string[][]): string => "[" + layers.map((l) => "[" + l.map(pyJsonString).join(", ") + "]").join(", ") + "]\n";

// Mostly store-path-like characters, sometimes one that needs escaping.
const char = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(..."abcxyz019-./_+ ~") },
  { weight: 1, arbitrary: fc.constantFrom('"', "\\", "\n", "\t", "\u0001", "\u007f", "é", "\u2028", "\ud83d\ude00", "\ud800") },
);
const path = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(""));
const layersArb = fc.array(fc.array(path, { maxLength: 6 }), { maxLength: 5 });

describe("python-json layer formatting", () => {
  it("equals the string-by-string writer on random layers (fixed seed)", () => {
    fc.assert(
      fc.property(layersArb, (layers) => {
        expect(formatLayersIndented(layers)).toBe(oracleIndented(layers));
        expect(formatLayersCompact(layers)).toBe(oracleCompact(layers));
      }),
      { seed: 1717, numRuns: 2000 },
    );
  });

  it("escapes a layer in which one path among plain ones needs it", () => {
    const layers = [["/nix/store/a-x", '/nix/store/b-"q"', "/nix/store/c-\u00e9"], ["/nix/store/d-y"]];
    expect(formatLayersIndented(layers)).toBe(
      '[\n  [\n    "/nix/store/a-x",\n    "/nix/store/b-\\"q\\"",\n    "/nix/store/c-\\u00e9"\n  ],\n  [\n    "/nix/store/d-y"\n  ]\n]\n',
    );
    expect(formatLayersCompact(layers)).toBe('[["/nix/store/a-x", "/nix/store/b-\\"q\\"", "/nix/store/c-\\u00e9"], ["/nix/store/d-y"]]\n');
  });
});
