// The streaming closure reader against JSON.parse + readClosureDocument: same
// documents, same closures, same InputErrors (code and message; for
// invalid-json only the code, as V8's wording is not reproduced).
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InputError } from "../src/errors.js";
import { Closure, columnsOf } from "../src/graph/closure.js";
import { parseJsonText, readClosureDocument, type ClosureDocument } from "../src/graph/document.js";
import { ClosureStreamParser, parseClosureBytes, type StreamReadOptions } from "../src/io/stream-json.js";
import { readClosureStream } from "../src/io/stream-node.js";
import { readClosureInput } from "../src/io/node.js";
import { requireShared, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();
// @ts-expect-error plain ESM helper without types
import { generateClosure, closureJsonPieces } from "../bench/gen-closure.mjs";

const enc = new TextEncoder();

type Outcome = { ok: true; doc: ClosureDocument } | { ok: false; code: string; message: string; path?: string };

/** What readClosureInput did before streaming: UTF-8 decode (drops a BOM), JSON.parse, readClosureDocument. */
function reference(text: string, options: StreamReadOptions = {}): Outcome {
  text = new TextDecoder().decode(enc.encode(text));
  try {
    return { ok: true, doc: readClosureDocument(parseJsonText(text, options.what ?? "input"), options) };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ok: false, code: e.code, message: e.message, path: e.path };
  }
}

function streamed(bytes: Uint8Array, chunks: number[] = [], options: StreamReadOptions = {}): Outcome {
  try {
    const p = new ClosureStreamParser(options);
    let at = 0;
    for (const c of chunks) {
      p.push(bytes.subarray(at, c));
      at = c;
    }
    p.push(bytes.subarray(at));
    return { ok: true, doc: p.end() };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ok: false, code: e.code, message: e.message, path: e.path };
  }
}

function plain(doc: ClosureDocument) {
  return { format: doc.format, entries: doc.entries, pipeline: doc.pipeline, excludePaths: doc.excludePaths, roots: doc.roots };
}

function expectSame(text: string, s: Outcome, r: Outcome = reference(text)): void {
  if (r.ok) {
    if (!s.ok) throw new Error(`stream failed (${s.code}: ${s.message}) where JSON.parse read ${text.slice(0, 200)}`);
    expect(plain(s.doc)).toStrictEqual(plain(r.doc));
    return;
  }
  expect(s.ok, `stream accepted what JSON.parse rejected (${r.message}): ${text.slice(0, 200)}`).toBe(false);
  if (s.ok) return;
  expect(s.code).toBe(r.code);
  if (r.code !== "invalid-json") {
    expect(s.message).toBe(r.message);
    expect(s.path).toBe(r.path);
  }
}

function check(text: string, options: StreamReadOptions = {}): Outcome {
  const r = reference(text, options);
  const s = streamed(enc.encode(text), [], options);
  expectSame(text, s, r);
  return r;
}

function closureOf(doc: ClosureDocument, exclude?: string[]): Closure | string {
  try {
    return Closure.fromDocument(doc, { exclude: exclude ?? doc.excludePaths });
  } catch (e) {
    return e instanceof InputError ? `${e.code}: ${e.message}` : String(e);
  }
}

function sameClosure(a: Closure | string, b: Closure | string): void {
  if (typeof a === "string" || typeof b === "string") {
    expect(b).toStrictEqual(a);
    return;
  }
  expect(b.paths).toStrictEqual(a.paths);
  expect(b.narSize).toStrictEqual(a.narSize);
  expect(b.givenClosureSize).toStrictEqual(a.givenClosureSize);
  expect(b.inputIndex).toStrictEqual(a.inputIndex);
  expect(b.offsets).toStrictEqual(a.offsets);
  expect(b.targets).toStrictEqual(a.targets);
  expect(b.topo).toStrictEqual(a.topo);
  for (const p of a.paths.slice(0, 50)) expect(b.indexOf(p)).toBe(a.indexOf(p));
}

function dataFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith(".json") || f.endsWith(".json.gz")) out.push(p);
    }
  };
  walk(sharedPath("data"));
  return out;
}

describe("every closure in shared/data", () => {
  for (const file of dataFiles()) {
    it(file.slice(sharedPath("data").length + 1), async () => {
      const viaStream = await readClosureStream(file, { smallInputBytes: 0, chunkBytes: 4099 }).then(
        (doc) => ({ ok: true as const, doc }),
        (e: InputError) => ({ ok: false as const, code: e.code, message: e.message, path: e.path }),
      );
      const { readFileSync } = await import("node:fs");
      const { gunzipSync } = await import("node:zlib");
      let bytes: Uint8Array = readFileSync(file);
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      const text = new TextDecoder().decode(bytes);
      const r = reference(text, { what: file });
      expectSame(text, viaStream, r);
      if (r.ok && viaStream.ok) {
        expect(columnsOf(viaStream.doc)).toBeDefined();
        sameClosure(closureOf(r.doc), closureOf(viaStream.doc));
      }
    });
  }
});

const P = (s: string) => `/nix/store/${s.padEnd(32, "0").slice(0, 32)}-${s}`;

const small: string[] = [
  JSON.stringify([
    { path: P("a"), narSize: 5, references: [P("a"), P("b")], closureSize: 9, narHash: "sha256:x" },
    { path: P("b"), narSize: 4, references: [] },
  ]),
  JSON.stringify({
    graph: [{ path: P("a"), narSize: 1, references: [] }],
    pipeline: [["popularity_contest"], ["limit_layers", 3]],
    exclude_paths: [P("z")],
    roots: [P("a")],
    _meta: { x: [1, { y: null }] },
  }),
  JSON.stringify({ [P("a")]: { narSize: 5, references: [P("b")], narHash: "h", valid: true }, [P("b")]: { narSize: 7, references: [] } }),
  JSON.stringify([{ path: P("a"), narSize: 5, references: [], narHash: "h", valid: true }]),
  // escapes and non-ASCII in paths: the escaped and plain spellings are one path
  '[{"path":"\\/nix\\/store\\/caf\\u00e9-x","narSize":1,"references":["/nix/store/café-x","/nix/store/\\ud83d\\ude00-y"]},{"path":"/nix/store/😀-y","narSize":2,"references":["\\ud800"]},{"path":"\\ud800","narSize":0e0,"references":[]}]',
  ' \r\n\t{"exportReferencesGraph":{"graph":["/r"]},"graph":[{"narSize":1.0e2,"path":"/r","references":null,"closureSize":-1}]} ',
  '\ufeff[{"path":"/a","narSize":-0,"references":["/a"]}]',
  "[]",
  "{}",
];

describe("small inputs", () => {
  it("match JSON.parse + readClosureDocument, and build the same closure", () => {
    for (const text of small) {
      const r = check(text);
      const s = streamed(enc.encode(text));
      if (r.ok && s.ok) sameClosure(closureOf(r.doc), closureOf(s.doc));
    }
  });

  it("give the same result split at every byte position, and byte by byte", () => {
    for (const text of small) {
      const bytes = enc.encode(text);
      const r = reference(text);
      for (let cut = 0; cut <= bytes.length; cut++) expectSame(text, streamed(bytes, [cut]), r);
      expectSame(
        text,
        streamed(
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i),
        ),
        r,
      );
    }
  });
});

describe("errors", () => {
  const entry = (fields: string) => `[{"path":"/a","narSize":1,"references":[]},{${fields}}]`;
  const cases: [string, string][] = [
    // invalid-json
    ["", "invalid-json"],
    ["  ", "invalid-json"],
    ["[", "invalid-json"],
    ["[1,]", "invalid-json"],
    ['{"a":1,}', "invalid-json"],
    ["[01]", "invalid-json"],
    ["[1.]", "invalid-json"],
    ["[-]", "invalid-json"],
    ["[.5]", "invalid-json"],
    ["[1e]", "invalid-json"],
    ["[tru]", "invalid-json"],
    ["[nul]", "invalid-json"],
    ['["a\u0001"]', "invalid-json"],
    ['["\\x"]', "invalid-json"],
    ['["\\u12g4"]', "invalid-json"],
    ['["abc', "invalid-json"],
    ["[] []", "invalid-json"],
    ["[]x", "invalid-json"],
    ['{"a" 1}', "invalid-json"],
    ["{1:2}", "invalid-json"],
    ["[\u00a0]", "invalid-json"],
    // a validation error followed by a syntax error: JSON.parse fails first
    ['[{"path":3}, }', "invalid-json"],
    // unsupported-shape
    ['"text"', "unsupported-shape"],
    ["42", "unsupported-shape"],
    ["null", "unsupported-shape"],
    ['{"foo":1}', "unsupported-shape"],
    ['{"b":1,"2":1,"1":1,"a":2,"c":3,"d":4,"e":5}', "unsupported-shape"],
    ['{"/a":{"narSize":1},"x":1}', "unsupported-shape"],
    ['{"graph":{"a":1}}', "unsupported-shape"],
    ['{"graph":[],"exclude_paths":"x"}', "unsupported-shape"],
    ['{"graph":[],"roots":{}}', "unsupported-shape"],
    // bad-entry
    ["[1]", "bad-entry"],
    ['[{"path":"/a","narSize":1},[1,2]]', "bad-entry"],
    ['{"graph":[null]}', "bad-entry"],
    ['{"/a":null}', "bad-entry"],
    ['{"/a":[1]}', "bad-entry"],
    ['{"/a":"x"}', "bad-entry"],
    // bad-path
    [entry('"narSize":1'), "bad-path"],
    [entry('"path":"","narSize":1'), "bad-path"],
    [entry('"path":["/x"],"narSize":1'), "bad-path"],
    [entry('"path":{"a":1},"narSize":1'), "bad-path"],
    ['{"graph":[],"roots":["/a",3]}', "bad-path"],
    ['{"graph":[],"exportReferencesGraph":{"graph":[null]}}', "bad-path"],
    // bad-nar-size
    [entry('"path":"/b"'), "bad-nar-size"],
    [entry('"path":"/b","narSize":-1'), "bad-nar-size"],
    [entry('"path":"/b","narSize":1.5'), "bad-nar-size"],
    [entry('"path":"/b","narSize":"12"'), "bad-nar-size"],
    [entry('"path":"/b","narSize":null'), "bad-nar-size"],
    [entry('"path":"/b","narSize":9007199254740994'), "bad-nar-size"],
    [entry('"path":"/b","narSize":1e400'), "bad-nar-size"],
    [entry('"path":"/b","narSize":[1]'), "bad-nar-size"],
    // bad-references
    [entry('"path":"/b","narSize":1,"references":"/a"'), "bad-references"],
    [entry('"path":"/b","narSize":1,"references":{"a":1}'), "bad-references"],
    [entry('"path":"/b","narSize":1,"references":["/a",7]'), "bad-references"],
    [entry('"path":"/b","narSize":1,"references":["/a",""]'), "bad-references"],
    [entry('"path":"/b","narSize":1,"references":[["/a"]]'), "bad-references"],
    ['{"/a":{"narSize":1,"references":[null]}}', "bad-references"],
  ];
  it("have the reference's codes, messages and paths", () => {
    for (const [text, code] of cases) {
      const r = check(text);
      expect(r.ok ? "ok" : r.code, text).toBe(code);
    }
  });

  it("holds validation errors in document order (first bad entry; graph before exclude_paths before roots)", () => {
    const r = check('{"roots":7,"exclude_paths":3,"graph":[{"path":"/a","narSize":1},{"path":"/b","narSize":-2},{"path":5}]}');
    expect(r.ok ? "" : r.message).toContain("$.graph[1].narSize");
    const r2 = check('{"roots":7,"exclude_paths":3,"graph":[]}');
    expect(r2.ok ? "" : r2.message).toContain("$.exclude_paths");
  });

  it("take JSON.parse's last value for repeated keys", () => {
    for (const text of [
      '[{"path":"/x","path":"/a","narSize":"no","narSize":2,"references":[1],"references":["/a"],"closureSize":3,"closureSize":"x"}]',
      '{"graph":[{"path":5}],"graph":[{"path":"/a","narSize":1}]}',
      '{"graph":[{"path":"/a","narSize":1}],"graph":7}',
      '{"/a":{"narSize":-1},"/b":{"narSize":2},"/a":{"narSize":3,"references":["/b"]}}',
      '{"/a":{"narSize":1},"graph":[{"path":"/b","narSize":2}],"/c":null}',
    ]) {
      check(text);
    }
  });

  it("report cycles, duplicates and dangling references from the columns like fromEntries", () => {
    const docs = [
      '[{"path":"/a","narSize":1,"references":["/b"]},{"path":"/b","narSize":1,"references":["/a"]}]',
      '[{"path":"/a","narSize":1},{"path":"/a","narSize":2}]',
      '[{"path":"/a","narSize":1,"references":["/zz"]}]',
      '{"graph":[{"path":"/a","narSize":1,"references":["/x","/a"]},{"path":"/x","narSize":1}],"exclude_paths":["/x"]}',
    ];
    const seen = new Set<string>();
    for (const text of docs) {
      const r = reference(text);
      const s = streamed(enc.encode(text));
      if (!r.ok || !s.ok) throw new Error("expected documents");
      const a = closureOf(r.doc);
      sameClosure(a, closureOf(s.doc));
      if (typeof a === "string") seen.add(a.split(":")[0]);
    }
    expect([...seen].sort()).toEqual(["cycle", "dangling-reference", "duplicate-path"]);
  });

  it("gives too-large for a token beyond maxTokenBytes, instead of buffering it", () => {
    const text = `[{"path":"/${"x".repeat(5000)}","narSize":1}]`;
    const bytes = enc.encode(text);
    const s = streamed(
      bytes,
      Array.from({ length: Math.floor(bytes.length / 1000) }, (_, i) => (i + 1) * 1000),
      { maxTokenBytes: 4096 },
    );
    expect(s.ok ? "ok" : s.code).toBe("too-large");
  });
});

describe("random documents (differential)", () => {
  const str = fc.oneof(
    fc.constantFrom("/a", "/b", "/c", "", "\\u00e9", "/\\ud83d\\ude00"),
    fc.string({ maxLength: 4 }).map((s) => JSON.stringify(s).slice(1, -1)),
  );
  const scalar = fc.oneof(
    str.map((s) => `"${s}"`),
    fc.constantFrom("0", "-0", "1", "12", "1.5", "-3", "1e3", "9007199254740993", "true", "false", "null"),
  );
  const value = fc.oneof(
    scalar,
    fc.array(scalar, { maxLength: 3 }).map((a) => `[${a.join(",")}]`),
  );
  const field = fc.oneof(
    fc.tuple(fc.constantFrom("path", "narSize", "references", "closureSize", "narHash", "valid", "x"), value),
    fc.tuple(
      fc.constant("references"),
      fc
        .array(
          str.map((s) => `"${s}"`),
          { maxLength: 3 },
        )
        .map((a) => `[${a.join(",")}]`),
    ),
    fc.tuple(fc.constant("path"), fc.constantFrom('"/a"', '"/b"', '"/c"')),
    fc.tuple(fc.constant("narSize"), fc.constantFrom("1", "2", "7")),
  );
  const entry = fc.array(field, { maxLength: 5 }).map((fs) => `{${fs.map(([k, v]) => `"${k}":${v}`).join(",")}}`);
  const list = fc.array(fc.oneof({ weight: 5, arbitrary: entry }, { weight: 1, arbitrary: value }), { maxLength: 4 }).map((es) => `[${es.join(",")}]`);
  const doc = fc.oneof(
    list,
    fc
      .tuple(list, fc.option(value), fc.option(value))
      .map(([g, r, x]) => `{${[`"graph":${g}`, r ? `"roots":${r}` : "", x ? `"exclude_paths":${x}` : ""].filter(Boolean).join(",")}}`),
    fc
      .array(fc.tuple(fc.constantFrom("/a", "/b", "/c", "k", "1"), fc.oneof(entry, value)), { maxLength: 3 })
      .map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(",")}}`),
  );
  // Occasionally broken text: a byte dropped or repeated.
  const text = fc.tuple(doc, fc.integer({ min: 0, max: 9 }), fc.nat()).map(([t, mode, at]) => {
    if (mode > 1 || t.length === 0) return t;
    const i = at % t.length;
    return mode === 0 ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + t[i] + t.slice(i);
  });

  it("agree with JSON.parse + readClosureDocument, whole and in random chunks", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 4 }), (t, cuts) => {
        const bytes = enc.encode(t);
        const r = reference(t);
        expectSame(t, streamed(bytes), r);
        const sorted = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
        expectSame(t, streamed(bytes, sorted), r);
        if (r.ok) {
          const s = streamed(bytes);
          if (s.ok) sameClosure(closureOf(r.doc), closureOf(s.doc));
        }
      }),
      { numRuns: 1500, seed: 7 },
    );
  });
});

describe("files, gzip and size", () => {
  const dir = mkdtempSync(join(tmpdir(), "strata-stream-"));

  it("reads plain and gzipped files and stdin-like chunking the same, small and streamed", async () => {
    const text = small[0];
    writeFileSync(join(dir, "a.json"), text);
    writeFileSync(join(dir, "a.json.gz"), gzipSync(text));
    const ref = reference(text);
    if (!ref.ok) throw new Error("fixture");
    for (const f of ["a.json", "a.json.gz"]) {
      for (const smallInputBytes of [0, 1 << 20]) {
        const doc = await readClosureStream(join(dir, f), { smallInputBytes, chunkBytes: 7 });
        expect(plain(doc)).toStrictEqual(plain(ref.doc));
      }
      expect(plain(await readClosureInput(join(dir, f)))).toStrictEqual(plain(ref.doc));
    }
  });

  it("reports corrupt gzip, invalid UTF-8 and missing files as InputErrors", async () => {
    const gz = gzipSync(small[0]);
    writeFileSync(join(dir, "bad.json.gz"), gz.subarray(0, gz.length - 12));
    writeFileSync(join(dir, "bad-utf8.json"), Buffer.concat([Buffer.from('[{"path":"/a\xff'.slice(0, 12)), Buffer.from([0xff, 0x22, 0x5d])]));
    for (const [f, code] of [
      ["bad.json.gz", "invalid-json"],
      ["bad-utf8.json", "invalid-json"],
      ["missing.json", "unsupported-shape"],
    ] as const) {
      for (const smallInputBytes of [0, 1 << 20]) {
        const err = await readClosureStream(join(dir, f), { smallInputBytes }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, f).toBeInstanceOf(InputError);
        expect((err as InputError).code, f).toBe(code);
      }
    }
  });

  it("streams a generated closure much larger than its token limit (no whole-text string)", async () => {
    const g = generateClosure(3000, { seed: 3 });
    const pieces: Uint8Array[] = [...closureJsonPieces(g, { wrap: true, pieceBytes: 50_000 })];
    const total = pieces.reduce((a, p) => a + p.length, 0);
    const limit = 4096;
    expect(total).toBeGreaterThan(100 * limit);
    const p = new ClosureStreamParser({ maxTokenBytes: limit });
    for (const piece of pieces) for (let i = 0; i < piece.length; i += 1000) p.push(piece.subarray(i, i + 1000));
    const doc = p.end();
    expect(doc.entries.length).toBe(3000);
    const whole = new Uint8Array(total);
    let at = 0;
    for (const piece of pieces) {
      whole.set(piece, at);
      at += piece.length;
    }
    const text = new TextDecoder().decode(whole);
    const r = reference(text);
    expectSame(text, { ok: true, doc }, r);
    if (r.ok) sameClosure(closureOf(r.doc), closureOf(doc));
    // The same through a file, gzipped, in 64 KiB chunks.
    writeFileSync(join(dir, "gen.json.gz"), gzipSync(whole));
    const viaFile = await readClosureStream(join(dir, "gen.json.gz"), { smallInputBytes: 0, chunkBytes: 65536, maxTokenBytes: limit });
    expect(plain(viaFile)).toStrictEqual(plain(doc));
  });

  it("calls onProgress with growing byte and entry counts, ending in done", async () => {
    const g = generateClosure(500, { seed: 5 });
    const file = join(dir, "p.json");
    writeFileSync(file, Buffer.concat([...closureJsonPieces(g)]));
    const seen: { stage: string; bytes: number; entries: number }[] = [];
    await readClosureStream(file, { smallInputBytes: 0, chunkBytes: 8192, onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[seen.length - 1].stage).toBe("done");
    expect(seen[seen.length - 1].entries).toBe(500);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].bytes).toBeGreaterThanOrEqual(seen[i - 1].bytes);
      expect(seen[i].entries).toBeGreaterThanOrEqual(seen[i - 1].entries);
    }
  });
});

it("parseClosureBytes equals feeding one chunk", () => {
  const text = small[1];
  const a = parseClosureBytes(enc.encode(text));
  expect(plain(a)).toStrictEqual(plain((reference(text) as { doc: ClosureDocument }).doc));
});
