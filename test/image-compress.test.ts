// Layer compression: deterministic whatever the input chunking, decodable by
// the real gzip and zstd tools, encoder versions pinned exactly.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  compressBytes,
  createCompressor,
  encoderInfo,
  FFLATE_VERSION,
  parseCompression,
  ZSTD_WASM_VERSION,
  ZSTD_FRAME,
  type CompressionSpec,
} from "../src/image/compress/index.js";
import { BuildError } from "../src/errors.js";
import { repoRoot } from "./helpers/shared.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Pseudo-random but compressible bytes (fixed seed). */
function sample(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 7 === 0 ? (x >>> 24) & 0xff : (i >> 9) & 0x3f;
  }
  return out;
}

async function compressChunked(spec: CompressionSpec, data: Uint8Array, cuts: number[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const c = await createCompressor(spec, (p) => parts.push(p.slice()));
  let off = 0;
  for (const cut of cuts) {
    const end = Math.min(data.length, off + cut);
    c.push(data.subarray(off, end));
    off = end;
  }
  c.push(data.subarray(off));
  c.end();
  return Buffer.concat(parts);
}

function tool(cmd: string, args: string[], input: Uint8Array): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 28 });
  if (r.error !== undefined) throw r.error;
  expect(r.status, `${cmd} ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describe("compression", () => {
  it("pins the encoders at the exact versions package.json installs", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.fflate).toBe(FFLATE_VERSION);
    expect(pkg.dependencies["@bokuweb/zstd-wasm"]).toBe(ZSTD_WASM_VERSION);
    const installed = (name: string) => (JSON.parse(readFileSync(join(repoRoot, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
    expect(installed("fflate")).toBe(FFLATE_VERSION);
    expect(installed("@bokuweb/zstd-wasm")).toBe(ZSTD_WASM_VERSION);
    expect(encoderInfo({ algorithm: "gzip", level: 6 }).id).toBe(`fflate@${FFLATE_VERSION} gzip level=6 block=1048576`);
    expect(encoderInfo({ algorithm: "zstd", level: 3 }).id).toBe(`@bokuweb/zstd-wasm@${ZSTD_WASM_VERSION} zstd level=3 frame=4194304`);
  });

  it("parses --compression and rejects bad values with a BuildError naming the option", () => {
    expect(parseCompression("gzip")).toEqual({ algorithm: "gzip", level: 6 });
    expect(parseCompression("gzip:9")).toEqual({ algorithm: "gzip", level: 9 });
    expect(parseCompression("zstd")).toEqual({ algorithm: "zstd", level: 3 });
    expect(parseCompression("zstd:19")).toEqual({ algorithm: "zstd", level: 19 });
    for (const bad of ["", "xz", "gzip:10", "zstd:0", "zstd:22", "gzip:x", "gzip:", "zstd:-1"]) {
      expect(() => parseCompression(bad), bad).toThrow(BuildError);
      expect(() => parseCompression(bad), bad).toThrow(/--compression/);
    }
  });

  // Whatever chunks the tar writer yields, the compressed bytes are the same.
  for (const spec of [
    { algorithm: "gzip", level: 6 },
    { algorithm: "gzip", level: 1 },
    { algorithm: "zstd", level: 3 },
  ] as const) {
    it(`${spec.algorithm}:${spec.level} output does not depend on input chunking (fixed seed)`, async () => {
      const data = sample(ZSTD_FRAME + 3_000_000, 7);
      const whole = await compressBytes(spec, data);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 3_000_000 }), { minLength: 1, maxLength: 6 }), async (cuts) => {
          expect(sha(await compressChunked(spec, data, cuts))).toBe(sha(whole));
        }),
        { seed: 1405, numRuns: 4 },
      );
    });
  }

  it("gzip output decodes with the real gzip tool, has a fixed header, and is stable (golden digest)", async () => {
    const data = sample(2_500_000, 3);
    const gz = await compressBytes({ algorithm: "gzip", level: 6 }, data);
    expect(Buffer.from(gz.subarray(0, 10)).toString("hex")).toBe("1f8b0800000000000003");
    expect(sha(tool("gzip", ["-dc"], gz))).toBe(sha(data));
    // Golden value: changes only if the encoder (or its pinned version) changes.
    expect(sha(gz)).toMatchInlineSnapshot(`"ceafc2f8fd780ad58842d385a7f77cce889bf0c95a5fe5594c0011b67bc44e9d"`);
  });

  it("zstd output decodes with the real zstd tool, frames of 4 MiB, and is stable (golden digest)", async () => {
    const data = sample(2 * ZSTD_FRAME + 1000, 5);
    const z = await compressBytes({ algorithm: "zstd", level: 3 }, data);
    expect(sha(tool("zstd", ["-dc"], z))).toBe(sha(data));
    // Three frames (two full, one of 1000 bytes), each starting with the zstd magic number.
    const magic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
    let frames = 0;
    for (let i = Buffer.from(z).indexOf(magic); i >= 0; i = Buffer.from(z).indexOf(magic, i + 1)) frames++;
    expect(frames).toBe(3);
    expect(sha(z)).toMatchInlineSnapshot(`"378683e92052c7277c7573fa33fed245ffea26dd00726a8d18fb313b6c44f772"`);
  });

  it("empty input gives a valid empty gzip member and one empty zstd frame", async () => {
    const gz = await compressBytes({ algorithm: "gzip", level: 6 }, new Uint8Array(0));
    expect(tool("gzip", ["-dc"], gz).length).toBe(0);
    const z = await compressBytes({ algorithm: "zstd", level: 3 }, new Uint8Array(0));
    expect(tool("zstd", ["-dc"], z).length).toBe(0);
  });
});
