// The streaming reader's own machinery: the interner sized from the input's
// length, and (below) the Wasm fast path against the TypeScript parser.
import { describe, expect, it } from "vitest";
import { Interner, internerSizes } from "../src/io/stream/interner.js";
import { ClosureStreamParser } from "../src/io/stream-json.js";
// @ts-expect-error plain ESM helper without types
import { generateClosure, closureJsonPieces } from "../bench/gen-closure.mjs";

function generated(n: number, seed: number, wrap = false): Uint8Array {
  const pieces: Uint8Array[] = [...closureJsonPieces(generateClosure(n, { seed }), { wrap, pieceBytes: 1 << 16 })];
  return new Uint8Array(Buffer.concat(pieces));
}

/** The interner a parser ended with (white-box: the rehash counter). */
function internerOf(p: ClosureStreamParser): Interner {
  return (p as unknown as { shape: { interner: Interner } }).shape.interner;
}

describe("interner sized from the input's length", () => {
  it("sizes grow with the input and keep the table at most half full for 400 bytes per path", () => {
    expect(internerSizes(0).slots).toBe(2048);
    for (const bytes of [1e5, 6.3e6, 6.1e7, 6.3e8]) {
      const z = internerSizes(bytes);
      expect(z.slots & (z.slots - 1)).toBe(0);
      expect(z.slots).toBeGreaterThanOrEqual((2 * bytes) / 400);
      expect(z.keys).toBeGreaterThanOrEqual(Math.min(bytes / 400, 1 << 26));
    }
  });

  for (const wrap of [false, true]) {
    it(`a generated 5000-path closure (${wrap ? "attrs document" : "list"}) never rehashes when the length is given, and does without it`, () => {
      const bytes = generated(5000, 3, wrap);
      const sized = new ClosureStreamParser({ expectedBytes: bytes.length });
      for (let at = 0; at < bytes.length; at += 65536) sized.push(bytes.subarray(at, at + 65536));
      const a = sized.end();
      expect(internerOf(sized).size).toBeGreaterThanOrEqual(5000);
      expect(internerOf(sized).rehashes).toBe(0);
      const unsized = new ClosureStreamParser();
      unsized.push(bytes);
      const b = unsized.end();
      expect(internerOf(unsized).rehashes).toBeGreaterThan(0);
      expect(a.entries).toStrictEqual(b.entries);
    });
  }
});
