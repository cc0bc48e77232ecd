// The web side of the streaming reader (src/io/stream-web.ts: Blob, byte
// stream, bytes; gzip through DecompressionStream) and the worker service
// reading closures through it. Node 20 has Blob, ReadableStream and
// DecompressionStream, so this runs here; test/browser.test.ts runs the page
// and its worker in Chromium.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { Closure, columnsOf } from "../src/graph/closure.js";
import { parseJsonText, readClosureDocument, type ClosureDocument } from "../src/graph/document.js";
import { readClosureWeb, type WebClosureSource } from "../src/io/stream-web.js";
import { readClosureStream } from "../src/io/stream-node.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { StrataService } from "../src/worker/service.js";
// @ts-expect-error plain ESM helper without types
import { generateClosure, closureJsonPieces } from "../bench/gen-closure.mjs";
import { repoRoot } from "./helpers/shared.js";

const scipyGz = new Uint8Array(readFileSync(join(repoRoot, "examples/python-scipy.json.gz")));

function generated(n: number, seed: number): Uint8Array {
  const pieces: Uint8Array[] = [...closureJsonPieces(generateClosure(n, { seed }), { wrap: true, pieceBytes: 10_000 })];
  return new Uint8Array(Buffer.concat(pieces));
}

/** A byte stream that delivers the bytes in pieces of `size`, after `ones` pieces of one byte (as a fetch body might). */
function streamOf(bytes: Uint8Array, size: number, ones = 0): ReadableStream<Uint8Array> {
  let at = 0;
  let piece = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= bytes.length) c.close();
      else {
        const n = piece++ < ones ? 1 : size;
        c.enqueue(bytes.slice(at, at + n));
        at += n;
      }
    },
  });
}

function plain(doc: ClosureDocument) {
  return { format: doc.format, entries: doc.entries, pipeline: doc.pipeline, excludePaths: doc.excludePaths, roots: doc.roots };
}

async function failure(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe("readClosureWeb", () => {
  it("reads bytes, gzip, Blobs and byte streams into the document JSON.parse gives, as columns", async () => {
    const text = generated(2000, 11) as Uint8Array<ArrayBuffer>;
    const want = readClosureDocument(JSON.parse(new TextDecoder().decode(text)));
    const gz = new Uint8Array(gzipSync(text));
    const sources: [string, () => WebClosureSource][] = [
      ["bytes", () => text],
      ["ArrayBuffer", () => text.slice().buffer],
      ["gzip bytes", () => gz],
      ["Blob", () => new Blob([text])],
      ["gzip Blob", () => new Blob([gz])],
      ["gzip stream, 1-byte pieces first", () => streamOf(gz, 4096, 2)],
      ["stream, 4 KiB pieces", () => streamOf(text, 4096)],
    ];
    for (const [name, source] of sources) {
      const doc = await readClosureWeb(source(), { what: name });
      expect(plain(doc), name).toStrictEqual(plain(want));
      expect(columnsOf(doc), name).toBeDefined();
    }
    const a = Closure.fromDocument(want);
    const b = Closure.fromDocument(await readClosureWeb(new Blob([gz])));
    expect(b.paths).toEqual(a.paths);
    expect(b.targets).toEqual(a.targets);
  });

  it("small inputs keep V8's JSON wording; with smallInputBytes 0 the message names a byte offset", async () => {
    const bad = new TextEncoder().encode('[{"path": "/nix/store/a", "narSize": 1, "references": [}]');
    let v8 = "";
    try {
      parseJsonText(new TextDecoder().decode(bad), "bad.json");
    } catch (e) {
      v8 = (e as Error).message;
    }
    expect(v8).toMatch(/^bad\.json is not valid JSON: /);
    expect((await failure(readClosureWeb(new Blob([gzipSync(bad)]), { what: "bad.json" }))).message).toBe(v8);
    const streamed = await failure(readClosureWeb(bad, { what: "bad.json", smallInputBytes: 0 }));
    expect(streamed.code).toBe("invalid-json");
    expect(streamed.message).toBe('bad.json is not valid JSON: Unexpected token "}" at byte offset 55');
  });

  it("corrupt gzip and invalid UTF-8 are InputErrors naming the input", async () => {
    const gz = gzipSync(generated(50, 2));
    const cut = await failure(readClosureWeb(new Blob([gz.subarray(0, gz.length - 20)]), { what: "cut.json.gz" }));
    expect(cut.code).toBe("invalid-json");
    expect(cut.message).toMatch(/^cut\.json\.gz looks gzip-compressed but does not decompress: /);
    const utf8 = await failure(readClosureWeb(new Uint8Array([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]), { what: "x.json" }));
    expect(utf8.message).toBe("x.json is not valid UTF-8 text");
  });
});

describe("the worker service reads closures through the streaming reader", () => {
  it("bytes and a Blob (File) give the same closure, layers and columns", async () => {
    const service = new StrataService();
    const fromBytes = await service.load(scipyGz.slice(), "scipy");
    const fromBlob = await service.load(new Blob([scipyGz]), "scipy");
    expect({ ...fromBlob, id: 0, loadMs: 0 }).toStrictEqual({ ...fromBytes, id: 0, loadMs: 0 });
    expect(fromBytes.paths).toBe(112);
    expect(service.layer(fromBlob.id).text).toBe(service.layer(fromBytes.id).text);
    // The kept document is the streaming reader's (columns), not JSON.parse's entry objects.
    const kept = (service as unknown as { loaded: Map<number, { doc: ClosureDocument }> }).loaded.get(fromBlob.id)!.doc;
    expect(columnsOf(kept)).toBeDefined();
  });

  it("a bad closure fails to load with the reader's message", async () => {
    const service = new StrataService();
    const err = await failure(service.load(new Blob(['{"graph": [{"path": "/nix/store/a"}]}']), "bad.json"));
    expect(err.code).toBe("bad-nar-size");
    expect(err.message).toBe('$.graph[0] ("/nix/store/a") has no narSize');
  });
});

describe("the reading policy (readClosureChunks) through the Node driver", () => {
  const dir = mkdtempSync(join(tmpdir(), "strata-policy-"));
  const bad = '[{"path": "/nix/store/a", "narSize": 1, "references": [}]';
  /** JSON.parse's message for the text, after "<name>". */
  const v8Of = (text: string): string => {
    try {
      parseJsonText(text, "X");
    } catch (e) {
      return (e as Error).message.slice("X".length);
    }
    throw new Error("fixture parses");
  };
  const v8 = v8Of(bad);

  it("a small file with an error is read again and reported in V8's wording, plain or gzipped", async () => {
    for (const [name, data] of [
      ["bad.json", bad],
      ["bad.json.gz", gzipSync(bad)],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, data);
      expect((await failure(readClosureStream(file))).message).toBe(file + v8);
      // Not read again when streaming-only: the byte offset.
      expect((await failure(readClosureStream(file, { smallInputBytes: 0 }))).message).toBe(
        `${file} is not valid JSON: Unexpected token "}" at byte offset 55`,
      );
    }
  });

  it("an input larger than the small-input size keeps the streaming error, even when the error comes early", async () => {
    const file = join(dir, "big-bad.json");
    const text = bad + " ".repeat(5000);
    writeFileSync(file, text);
    const err = await failure(readClosureStream(file, { smallInputBytes: 1000, chunkBytes: 64 }));
    expect(err.message).toBe(`${file} is not valid JSON: Unexpected token "}" at byte offset 55`);
    // Within the small-input size: V8's wording again.
    expect((await failure(readClosureStream(file, { smallInputBytes: 10_000, chunkBytes: 64 }))).message).toBe(file + v8Of(text));
  });

  it("validation errors are the same either way", async () => {
    const file = join(dir, "no-size.json");
    writeFileSync(file, '[{"path": "/nix/store/a", "references": []}]');
    for (const smallInputBytes of [0, 1 << 20]) {
      expect((await failure(readClosureStream(file, { smallInputBytes }))).message).toBe('$[0] ("/nix/store/a") has no narSize');
    }
  });
});
