// Limits and "nothing lost": the Wasm backend refuses a closure that cannot fit
// in 4 GiB before allocating; a 1,000,000-deep chain and a 1,000,000-wide root
// plan end to end (no recursion, no quadratic step); paths with unicode,
// quotes, backslashes and control characters print as Python's json.dumps
// prints them; narSize beyond 2^53 is refused; `-o FILE` is atomic and an error
// writes nothing; a worker that dies rejects its pending promise.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CsrGraph } from "../src/graph/csr.js";
import { readClosureDocument, type ClosureEntry } from "../src/graph/document.js";
import { parseClosureBytes } from "../src/io/stream-json.js";
import { formatLayersCompact, formatLayersIndented } from "../src/format/python-json.js";
import { formatAutoLayerStdout } from "../src/strategies/auto-layer/index.js";
import { WasmKernels } from "../src/kernels/wasm/backend.js";
import { findStrategy, type Layers } from "../src/strategies/index.js";
import { createNodeWorker } from "../dist/worker/node.js";
import { repoRoot } from "./helpers/shared.js";
import { captureCli } from "./helpers/cli.js";

describe("limits: Wasm's 4 GiB", () => {
  it("a closure too large for wasm32 is refused before anything is allocated", () => {
    const k = new WasmKernels();
    const top = k.x.mark();
    const pages = k.x.memory.buffer.byteLength;
    // Only the sizes are read before the check, so no 2 GiB arrays are needed.
    const huge = { n: 2 ** 28, offsets: { length: 2 ** 28 + 1 }, targets: { length: 2 ** 28 } } as unknown as CsrGraph;
    expect(() => k.load(huge)).toThrow(
      expect.objectContaining({
        name: "WasmOutOfMemoryError",
        message: expect.stringMatching(/268435456 paths and 268435456 references needs \d+ bytes.*--backend ts/),
      }),
    );
    expect(k.x.mark()).toBe(top);
    expect(k.x.memory.buffer.byteLength).toBe(pages);
    // The backend still works afterwards.
    const ref = k.load({ n: 2, offsets: Uint32Array.of(0, 1, 1), targets: Uint32Array.of(1) });
    expect(k.popularity(ref)).toEqual([1n, 2n]);
  });
});

// --- a million paths deep and wide ----------------------------------------------

const N = 1_000_000;
const pathOf = (i: number) => `/nix/store/${i.toString(32).padStart(32, "0")}-p${i}`;

function chain(): ClosureEntry[] {
  const out: ClosureEntry[] = new Array(N);
  for (let i = 0; i < N; i++) out[i] = { path: pathOf(i), narSize: 1000 + (i % 7), references: i + 1 < N ? [pathOf(i + 1)] : [] };
  return out;
}

function wide(): ClosureEntry[] {
  const out: ClosureEntry[] = new Array(N);
  const refs: string[] = new Array(N - 1);
  for (let i = 1; i < N; i++) {
    out[i] = { path: pathOf(i), narSize: 1000 + (i % 7), references: [] };
    refs[i - 1] = out[i].path;
  }
  out[0] = { path: pathOf(0), narSize: 5, references: refs };
  return out;
}

/** Each of the N paths exactly once (a byte per path: a Set of a million strings costs too much). */
function expectAllOnce(layers: Layers, budget: number): void {
  expect(layers.length).toBeLessThanOrEqual(budget);
  const seen = new Uint8Array(N);
  let count = 0;
  const twice: string[] = [];
  for (const layer of layers) {
    expect(layer.length).toBeGreaterThan(0);
    // Plain loop, one expect at the end: a million expect() calls cost seconds.
    for (const p of layer) {
      const i = parseInt(p.slice(p.lastIndexOf("-p") + 2), 10);
      if (seen[i]) twice.push(p);
      seen[i] = 1;
      count++;
    }
  }
  expect(twice).toEqual([]);
  expect(count).toBe(N);
}

describe("limits: a million paths", () => {
  for (const [shape, make] of [
    ["1,000,000-deep chain", chain],
    ["1,000,000-wide root", wide],
  ] as const) {
    it(`${shape}: popularity and auto-layer plan every path`, () => {
      const doc = readClosureDocument(make());
      expectAllOnce(findStrategy("popularity")!.plan(doc, { maxLayers: 100 }).layers, 99);
      expectAllOnce(findStrategy("auto-layer")!.plan(doc, { maxLayers: 100 }).layers, 99);
    }, 240_000);
  }
});

// --- output escaping -------------------------------------------------------------

// Printed by CPython 3 from the same list: json.dumps(layers, indent=2,
// sort_keys=True, separators=(",", ": ")) and json.dumps(layers).
const ODD: Layers = [
  ["/nix/store/aaaa-caf\u00e9", '/nix/store/bbbb-q"uote', "/nix/store/cccc-back\\slash", "/nix/store/dddd-\u{1f600}"],
  ["/nix/store/eeee-tab\tnl\ncr\r", "/nix/store/ffff-\u0000\u001f\u007f", "/nix/store/gggg-\u2028\ufeff", "/nix/store/hhhh-\u65e5\u672c"],
];
const PY_INDENTED = String.raw`[
  [
    "/nix/store/aaaa-caf\u00e9",
    "/nix/store/bbbb-q\"uote",
    "/nix/store/cccc-back\\slash",
    "/nix/store/dddd-\ud83d\ude00"
  ],
  [
    "/nix/store/eeee-tab\tnl\ncr\r",
    "/nix/store/ffff-\u0000\u001f\u007f",
    "/nix/store/gggg-\u2028\ufeff",
    "/nix/store/hhhh-\u65e5\u672c"
  ]
]
`;
const PY_COMPACT = String.raw`[["/nix/store/aaaa-caf\u00e9", "/nix/store/bbbb-q\"uote", "/nix/store/cccc-back\\slash", "/nix/store/dddd-\ud83d\ude00"], ["/nix/store/eeee-tab\tnl\ncr\r", "/nix/store/ffff-\u0000\u001f\u007f", "/nix/store/gggg-\u2028\ufeff", "/nix/store/hhhh-\u65e5\u672c"]]
`;

describe("limits: unicode, quotes and backslashes in paths", () => {
  it("print exactly as Python's json.dumps (indented and compact)", () => {
    expect(formatLayersIndented(ODD)).toBe(PY_INDENTED);
    expect(formatLayersCompact(ODD)).toBe(PY_COMPACT);
    expect(formatAutoLayerStdout(ODD)).toBe(PY_COMPACT);
  });

  it("match a live CPython when one is installed, on every code unit class", () => {
    const python = spawnSync("python3", ["-c", "import json,sys; print(json.dumps(json.load(sys.stdin), indent=2, sort_keys=True, separators=(',', ': ')))"], {
      input: JSON.stringify([ODD[0], ODD[1], [Array.from({ length: 0x800 }, (_, c) => String.fromCharCode(c)).join("") + "\ud800x\udfff"]]),
      encoding: "utf8",
    });
    // The golden strings above are the contract; CPython, when present, re-checks a wider range.
    if (python.status !== 0) return;
    expect(formatLayersIndented([ODD[0], ODD[1], [Array.from({ length: 0x800 }, (_, c) => String.fromCharCode(c)).join("") + "\ud800x\udfff"]])).toBe(
      python.stdout,
    );
  });

  it("survive the round trip through both readers and the CLI", async () => {
    const entries = ODD.flat().map((path, i, all) => ({ path, narSize: 10 + i, references: all.slice(i + 1, i + 2) }));
    const text = JSON.stringify(entries);
    const a = readClosureDocument(JSON.parse(text));
    const b = parseClosureBytes(new TextEncoder().encode(text));
    expect(b.entries.map((e) => e.path)).toEqual(a.entries.map((e) => e.path));
    const dir = mkdtempSync(join(tmpdir(), "strata-limits-"));
    const file = join(dir, "odd.json");
    writeFileSync(file, text);
    const r = await cli(["layer", file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).flat().sort()).toEqual(ODD.flat().sort());
  });
});

// --- narSize beyond 2^53 -------------------------------------------------------------

describe("limits: narSize beyond 2^53", () => {
  it("is refused by both readers with bad-nar-size; 2^53-1 is accepted", () => {
    for (const size of ["9007199254740992", "9007199254740993", "18446744073709551616", "1e300"]) {
      const text = `[{"path": "/nix/store/a", "narSize": ${size}, "references": []}]`;
      expect(() => readClosureDocument(JSON.parse(text))).toThrow(
        expect.objectContaining({ code: "bad-nar-size", message: expect.stringMatching(/above 2\^53-1 bytes/) }),
      );
      expect(() => parseClosureBytes(new TextEncoder().encode(text))).toThrow(
        expect.objectContaining({ code: "bad-nar-size", message: expect.stringMatching(/above 2\^53-1 bytes/) }),
      );
    }
    const ok = `[{"path": "/nix/store/a", "narSize": 9007199254740991, "references": []}]`;
    expect(readClosureDocument(JSON.parse(ok)).entries[0].narSize).toBe(2 ** 53 - 1);
    expect(parseClosureBytes(new TextEncoder().encode(ok)).entries[0].narSize).toBe(2 ** 53 - 1);
  });
});

// --- nothing lost -------------------------------------------------------------------

const cli = captureCli;

describe("nothing lost", () => {
  const good = JSON.stringify([
    { path: "/nix/store/a-x", narSize: 3, references: ["/nix/store/b-y"] },
    { path: "/nix/store/b-y", narSize: 2, references: [] },
  ]);

  it("-o FILE gets exactly what stdout would, through a temporary file that does not linger", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-out-"));
    writeFileSync(join(dir, "in.json"), good);
    const plain = await cli(["layer", join(dir, "in.json")]);
    expect(plain.code).toBe(0);
    writeFileSync(join(dir, "out.json"), "previous contents");
    const r = await cli(["layer", join(dir, "in.json"), "-o", join(dir, "out.json")]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    expect(readFileSync(join(dir, "out.json"), "utf8")).toBe(plain.out);
    expect(readdirSync(dir).sort()).toEqual(["in.json", "out.json"]);
  });

  it("on an error, -o FILE keeps its old contents (or is not created) and stdout stays empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-out-"));
    writeFileSync(join(dir, "bad.json"), good.replace('"narSize":2', '"narSize":-2'));
    writeFileSync(join(dir, "out.json"), "previous contents");
    for (const args of [
      ["layer", join(dir, "bad.json"), "-o", join(dir, "out.json")],
      ["layer", join(dir, "bad.json"), "-o", join(dir, "new.json")],
      ["layer", join(dir, "bad.json"), "--pipeline", '[["popularity_contest"], ["limit_layers", 0]]', "-o", join(dir, "out.json")],
      ["layer", join(dir, "missing.json"), "-o", join(dir, "out.json")],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^strata: /);
    }
    expect(readFileSync(join(dir, "out.json"), "utf8")).toBe("previous contents");
    expect(existsSync(join(dir, "new.json"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["bad.json", "out.json"]);
  });

  it("a worker that dies during a layer call rejects that call and every later one", async () => {
    const worker = await createNodeWorker();
    const bytes = new Uint8Array(readFileSync(join(repoRoot, "examples/python-scipy.json.gz")));
    const info = await worker.load(bytes, "scipy");
    const pending = worker.layer(info.id, { strategy: "min-pull" });
    // Killed from outside (as a crash would), not through worker.terminate().
    void (worker as unknown as { host: { thread: { terminate(): Promise<number> } } }).host.thread.terminate();
    await expect(pending).rejects.toMatchObject({ name: "WorkerCrashedError" });
    await expect(worker.layer(info.id)).rejects.toMatchObject({ name: "WorkerCrashedError" });
  });
});
