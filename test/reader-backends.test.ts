// The streaming reader's own machinery: the interner sized from the input's
// length, and (below) the Wasm fast path against the TypeScript parser.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InputError } from "../src/errors.js";
import { columnsOf } from "../src/graph/closure.js";
import { Interner, internerSizes } from "../src/io/stream/interner.js";
import { ClosureStreamParser, readClosureChunks } from "../src/io/stream-json.js";
import { readClosureWeb } from "../src/io/stream-web.js";
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
  it("sizes grow with the input and keep the table at most half full for 500 bytes per path", () => {
    expect(internerSizes(0).slots).toBe(2048);
    for (const bytes of [1e5, 6.3e6, 6.1e7, 6.3e8]) {
      const z = internerSizes(bytes);
      expect(z.slots & (z.slots - 1)).toBe(0);
      expect(z.slots).toBeGreaterThanOrEqual((2 * bytes) / 500);
      expect(z.keys).toBeGreaterThanOrEqual(Math.min(bytes / 500, 1 << 26));
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

// ---- the Wasm fast path against the TypeScript parser ----------------------------

type Backend = "ts" | "wasm" | "wasm-debug";
const backends: Backend[] = ["ts", "wasm", "wasm-debug"];
const enc = new TextEncoder();

type Read =
  | { ok: true; format: string; extra: unknown; strings: string[]; cols: number[][]; fast: number }
  | { ok: false; code: string; message: string; path?: string; fast: number };

/** Reads bytes cut at `cuts` with one backend: the document's columns (ids included) or its error. */
function read(bytes: Uint8Array, reader: Backend, cuts: number[] = [], options: { requireNarSize?: boolean } = {}): Read {
  const p = new ClosureStreamParser({ ...options, reader });
  try {
    let at = 0;
    for (const c of cuts) {
      p.push(bytes.subarray(at, c));
      at = c;
    }
    p.push(bytes.subarray(at));
    const doc = p.end();
    const c = columnsOf(doc)!;
    return {
      ok: true,
      format: doc.format,
      extra: { pipeline: doc.pipeline, excludePaths: doc.excludePaths, roots: doc.roots },
      strings: [...c.strings],
      cols: [[...c.pathId], [...c.narSize], [...c.closureSize], [...c.refOffsets], [...c.refIds]],
      fast: p.fastEntries,
    };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ok: false, code: e.code, message: e.message, path: e.path, fast: p.fastEntries };
  }
}

/** The outcome without the fast-path counter. */
function outcome(r: Read): unknown {
  const { fast: _fast, ...rest } = r;
  return rest;
}

const P = (n: number) => `/nix/store/${String(n).padStart(32, "a")}-p${n}`;

describe.each(backends)("%s reader: hand-worked documents", (reader) => {
  const list = `[{"path":"${P(1)}","narSize":10,"references":["${P(1)}","${P(2)}"]},
    {"narHash":"sha256:x","narSize":20,"path":"${P(2)}","references":[],"closureSize":30,"valid":true,"signatures":["a","b"],"registrationTime":1.5e9,"deriver":null},
    {"path":"${P(3)}","narSize":0,"references":["${P(2)}"]}]`;

  it("an exportReferencesGraph list: ids in first-seen order, sizes, references", () => {
    const r = read(enc.encode(list), reader);
    if (!r.ok) throw new Error(r.message);
    expect(r.format).toBe("references-graph");
    expect(r.strings).toEqual([P(1), P(2), P(3)]);
    expect(r.cols).toEqual([
      [0, 1, 2],
      [10, 20, 0],
      [NaN, 30, NaN],
      [0, 2, 2, 3],
      [0, 1, 1],
    ]);
    // Entry 0 is always the TypeScript parser's; the Wasm scanner reads the rest.
    expect(r.fast).toBe(reader === "ts" ? 0 : 2);
  });

  it("an attrs document with its graph, roots and exclude_paths", () => {
    const r = read(enc.encode(`{"roots":["${P(3)}"],"graph":${list},"exclude_paths":["${P(2)}"],"pipeline":[["popularity_contest"]]}`), reader);
    if (!r.ok) throw new Error(r.message);
    expect(r.format).toBe("attrs-document");
    expect(r.extra).toEqual({ pipeline: [["popularity_contest"]], excludePaths: [P(2)], roots: [P(3)] });
    expect(r.cols[4]).toEqual([0, 1, 1]);
    expect(r.fast).toBe(reader === "ts" ? 0 : 2);
  });

  it("nix path-info --json, list and object forms", () => {
    const entry = (n: number, refs: number[]) =>
      `"narHash":"sha256:h${n}","narSize":${n * 100},"references":[${refs.map((i) => `"${P(i)}"`).join(",")}],"valid":true`;
    const arr = read(enc.encode(`[{"path":"${P(1)}",${entry(1, [2])}},{"path":"${P(2)}",${entry(2, [])}}]`), reader);
    if (!arr.ok) throw new Error(arr.message);
    expect(arr.format).toBe("path-info-list");
    expect(arr.strings).toEqual([P(1), P(2)]);
    expect(arr.cols[1]).toEqual([100, 200]);
    const obj = read(enc.encode(`{"${P(1)}":{${entry(1, [2])}},"${P(2)}":{${entry(2, [])}}}`), reader);
    if (!obj.ok) throw new Error(obj.message);
    expect(obj.format).toBe("path-info-object");
    expect(obj.cols[3]).toEqual([0, 1, 1]);
  });

  it("nix path-info --json object form with many members: the members after the first six keys are scanned", () => {
    const members = Array.from({ length: 10 }, (_, i) => `"${P(i + 1)}":{"narHash":"sha256:h","narSize":${i},"references":["${P(1)}"],"signatures":[]}`);
    // A repeated key: JSON.parse keeps its first position and last value.
    members.push(`"${P(3)}":{"narSize":99,"references":[]}`);
    const r = read(enc.encode(`{${members.join(",")}}`), reader);
    if (!r.ok) throw new Error(r.message);
    expect(r.format).toBe("path-info-object");
    expect(r.strings).toEqual(Array.from({ length: 10 }, (_, i) => P(i + 1)));
    expect(r.cols[1]).toEqual([0, 1, 99, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.cols[3]).toEqual([0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.fast).toBe(reader === "ts" ? 0 : 5);
  });

  it("the entry the scanner stops at (an escape, a repeated key, a bad narSize) is read by the parser, with its message", () => {
    const doc = (second: string) => enc.encode(`[{"path":"/a","narSize":1},{"path":"/b","narSize":1},${second},{"path":"/d","narSize":1}]`);
    const escaped = read(doc(`{"path":"\\/c\\u00e9","narSize":2}`), reader);
    if (!escaped.ok) throw new Error(escaped.message);
    expect(escaped.strings).toEqual(["/a", "/b", "/cé", "/d"]);
    const repeated = read(doc(`{"path":"/x","path":"/c","narSize":2,"narSize":3}`), reader);
    if (!repeated.ok) throw new Error(repeated.message);
    expect(repeated.strings).toEqual(["/a", "/b", "/x", "/c", "/d"]);
    expect(repeated.cols[1]).toEqual([1, 1, 3, 1]);
    const bad = read(doc(`{"path":"/c","narSize":-1}`), reader);
    expect(bad.ok ? "ok" : [bad.code, bad.message]).toEqual(["bad-nar-size", '$[2].narSize ("/c") must not be negative, got -1']);
  });
});

describe("the fast path is taken for plain inputs", () => {
  it("through the readers the CLI and the browser worker use (chunks, Blob), with the same document as the TypeScript parser", async () => {
    const bytes = generated(2000, 6, true);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
    let fast = -1;
    const viaChunks = await readClosureChunks(pieces, { smallInputBytes: 0, onChunk: (p) => (fast = p.fastEntries) });
    expect(fast).toBeGreaterThan(1900);
    let webFast = -1;
    const viaWeb = await readClosureWeb(new Blob([bytes as Uint8Array<ArrayBuffer>]), { smallInputBytes: 0, onChunk: (p) => (webFast = p.fastEntries) });
    expect(webFast).toBeGreaterThan(1900);
    let tsFast = -1;
    const viaTs = await readClosureChunks(pieces, { smallInputBytes: 0, reader: "ts", onChunk: (p) => (tsFast = p.fastEntries) });
    expect(tsFast).toBe(0);
    expect(viaChunks.entries).toStrictEqual(viaTs.entries);
    expect(viaWeb.entries).toStrictEqual(viaTs.entries);
    expect(viaChunks.roots).toStrictEqual(viaTs.roots);
  });

  it("reads all but the first entry and one per chunk boundary of a generated closure, whole and in 4 KiB chunks", () => {
    const bytes = generated(3000, 5);
    const cuts = Array.from({ length: Math.floor(bytes.length / 4096) }, (_, i) => (i + 1) * 4096);
    for (const c of [[], cuts]) {
      const w = read(bytes, "wasm", c);
      const t = read(bytes, "ts", c);
      expect(outcome(w)).toStrictEqual(outcome(t));
      expect(t.fast).toBe(0);
      expect(w.fast).toBeGreaterThanOrEqual(3000 - 1 - c.length);
      expect(w.fast).toBeLessThan(3000);
    }
  });
});

describe("random closure documents: the Wasm fast path gives exactly the TypeScript parser's result or error", () => {
  // Mostly plain entries (what the scanner reads), with every kind of thing it must leave to the parser.
  const ws = fc.constantFrom("", "", "", " ", "\n", "\t", "\r\n  ");
  const pathText = fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 1, max: 12 }).map((n) => P(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).map((n) => P(n).replace(/\//g, "\\/")) },
    { weight: 1, arbitrary: fc.constantFrom("/nix/store/\\u00e9", "/nix/store/é", "/x\\ud83d\\ude00", "", "/a\\\\b", '/a\\"b', "/a\\u0000") },
  );
  const str = pathText.map((s) => `"${s}"`);
  const uint = fc.oneof(
    fc.nat({ max: 10_000_000 }).map(String),
    fc.constantFrom("0", "123456789012345", "1234567890123456", "9007199254740993", "-1", "-0", "1.5", "1e3", "1E+2", "01", "0.0", '"12"', "null", "[1]"),
  );
  const scalar = fc.oneof(str, uint, fc.constantFrom("true", "false", "null", '"sha256:abc"', '"a\\nb"', "-2.5e-3", "1.", "tru", '"\u00ff"'));
  const other = fc.oneof(
    { weight: 4, arbitrary: scalar },
    { weight: 2, arbitrary: fc.array(scalar, { maxLength: 3 }).map((a) => `[${a.join(",")}]`) },
    { weight: 1, arbitrary: fc.constantFrom('{"a":[1,{"b":2}]}', "[[1],[]]", "{}", "[ ]") },
  );
  const refs = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.array(str, { maxLength: 5 }), ws).map(([a, w]) => `[${w}${a.join(`${w},${w}`)}${w}]`) },
    { weight: 1, arbitrary: fc.constantFrom("null", '"x"', "[1]", '["/a",[]]', "{}", "[,]") },
  );
  const field = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constant("path"), str) },
    { weight: 3, arbitrary: fc.tuple(fc.constant("narSize"), uint) },
    { weight: 3, arbitrary: fc.tuple(fc.constant("references"), refs) },
    { weight: 1, arbitrary: fc.tuple(fc.constant("closureSize"), uint) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom("narHash", "valid", "signatures", "deriver", "x", "pat\\u0068", "nar\u00e9", "path "), other) },
  );
  const plainSize = fc.oneof(
    { weight: 8, arbitrary: fc.nat({ max: 99999 }).map(String) },
    { weight: 1, arbitrary: fc.constantFrom("0", "123456789012345", "1234567890123456", "9007199254740991", "9007199254740993", "12345678901234567890") },
  );
  const plainEntry = fc
    .tuple(fc.integer({ min: 1, max: 12 }), plainSize, fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 4 }), fc.boolean(), fc.option(plainSize))
    .map(
      ([n, size, rs, hash, closure]) =>
        `{${hash ? `"narHash":"sha256:h${n}",` : ""}"narSize":${size},"path":"${P(n)}","references":[${rs.map((r) => `"${P(r)}"`).join(",")}]${closure !== null ? `,"closureSize":${closure}` : ""}}`,
    );
  // A path-info object member's value: no "path" (the key is the path).
  const plainMember = fc
    .tuple(plainSize, fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 4 }), fc.boolean())
    .map(
      ([size, rs, sig]) =>
        `{"narHash":"sha256:x","narSize":${size},"references":[${rs.map((r) => `"${P(r)}"`).join(",")}]${sig ? ',"signatures":["k:v"],"ultimate":false,"deriver":null' : ""}}`,
    );
  const oddEntry = fc
    .tuple(fc.array(fc.tuple(field, ws, ws), { maxLength: 6 }), ws)
    .map(([fs, w]) => `{${w}${fs.map(([[k, v], a, b]) => `"${k}"${a}:${b}${v}`).join(`${w},${w}`)}${w}}`);
  const entries = fc.array(fc.oneof({ weight: 6, arbitrary: plainEntry }, { weight: 3, arbitrary: oddEntry }, { weight: 1, arbitrary: other }), {
    maxLength: 8,
  });
  const listText = fc.tuple(entries, ws).map(([es, w]) => `[${w}${es.join(`${w},${w}`)}${w}]`);
  const doc = fc.oneof(
    { weight: 4, arbitrary: listText },
    {
      weight: 2,
      arbitrary: fc.tuple(listText, fc.option(fc.array(str, { maxLength: 2 })), fc.boolean()).map(([g, roots, first]) => {
        const parts = [`"graph":${g}`, `"pipeline":[["x",1]]`];
        if (roots) parts.push(`"roots":[${roots.join(",")}]`);
        if (first) parts.reverse();
        return `{${parts.join(",")}}`;
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.array(
            fc.tuple(
              fc.oneof({ weight: 8, arbitrary: pathText }, { weight: 1, arbitrary: fc.constantFrom("k", "1", "", "graph", "pipeline") }),
              fc.oneof(
                { weight: 6, arbitrary: plainMember },
                { weight: 1, arbitrary: oddEntry },
                { weight: 1, arbitrary: plainEntry },
                { weight: 1, arbitrary: other },
              ),
            ),
            { maxLength: 12 },
          ),
          ws,
        )
        .map(([kv, w]) => `{${w}${kv.map(([k, v]) => `"${k}"${w}:${w}${v}`).join(`${w},${w}`)}${w}}`),
    },
  );
  // Now and then broken: a byte dropped, repeated or replaced, or the text cut short.
  const text = fc
    .tuple(doc, fc.integer({ min: 0, max: 11 }), fc.nat(), fc.constantFrom('"', "\\", ",", "}", "]", "{", ":", "\u0001", "é", " "))
    .map(([t, mode, at, c]) => {
      if (mode > 3 || t.length === 0) return t;
      const i = at % t.length;
      if (mode === 0) return t.slice(0, i) + t.slice(i + 1);
      if (mode === 1) return t.slice(0, i) + t[i] + t.slice(i);
      if (mode === 2) return t.slice(0, i) + c + t.slice(i + 1);
      return t.slice(0, i);
    });
  const bytesOf = (t: string, bad: number): Uint8Array => {
    const b = enc.encode(t);
    // Now and then an invalid UTF-8 byte.
    if (bad > 0 && b.length > 0) b[bad % b.length] = 0xff;
    return b;
  };

  it("whole and cut at arbitrary positions, with and without narSize required", () => {
    let fastSeen = 0;
    fc.assert(
      fc.property(
        text,
        fc.nat(),
        fc.integer({ min: 0, max: 15 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (t, badAt, badMode, cuts, requireNarSize) => {
          const bytes = bytesOf(t, badMode === 0 ? badAt + 1 : 0);
          const sorted = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          const opts = { requireNarSize };
          const want = outcome(read(bytes, "ts", [], opts));
          for (const reader of ["wasm", "wasm-debug"] as const) {
            const whole = read(bytes, reader, [], opts);
            expect(outcome(whole), t).toStrictEqual(want);
            fastSeen += whole.fast;
            expect(outcome(read(bytes, reader, sorted, opts)), `${t} cut at ${sorted.join(",")}`).toStrictEqual(want);
          }
        },
      ),
      { numRuns: 1500, seed: 17 },
    );
    // The documents were plain enough for the fast path to run (not a vacuous comparison).
    expect(fastSeen).toBeGreaterThan(1000);
  });

  it("a generated closure with one entry made odd at a random place reads the same in random chunks", () => {
    const base = new TextDecoder().decode(generated(300, 9));
    const odd = ['"path":"\\/nix', '"narSize":1.0,', '"references":[],"references":[],', '"deriver":{"a":1},', ' "x" : [ 1 , "\\u00e9" ] ,'];
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...odd), fc.array(fc.nat(), { maxLength: 5 }), (at, what, cuts) => {
        // Insert at the start of a random entry, after its "{".
        let i = base.indexOf('{"', at % base.length);
        if (i < 0) i = base.indexOf('{"');
        const t = what.startsWith('"path"')
          ? base.slice(0, i + 1) + base.slice(i + 1).replace('"path":"/nix', what)
          : base.slice(0, i + 1) + what + base.slice(i + 1);
        const bytes = enc.encode(t);
        const sorted = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
        const want = outcome(read(bytes, "ts", sorted));
        const got = read(bytes, "wasm", sorted);
        expect(outcome(got)).toStrictEqual(want);
        if (got.ok) expect(got.fast).toBeGreaterThan(200);
      }),
      { numRuns: 150, seed: 23 },
    );
  });
});
