// The streaming closure reader's speed, by CPU time: warm (in this process,
// after a warm-up, as bench/speed.bench.mjs always measured it) and cold (the
// first parse in a fresh process, which is what a one-shot CLI run pays: the
// parser's code is not yet optimised, the Wasm module not yet tiered up).
// Each figure is for parseClosureBytes over the file's bytes (already read),
// with the Wasm fast path (the default) and with the TypeScript parser alone
// (reader "ts"), against a previous build's reader when given.
//
// Used by bench/speed.bench.mjs ("The streaming reader"); also runs alone:
//   npm run build && node --expose-gc bench/reader-speed.mjs [previous-checkout]
// (inputs: gen-nix-graph.py 10000 / 100000 --seed 1, cached as the other benches do).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { median, syntheticClosure } from "./lib.mjs";

/** A fresh Node process that parses `file` once with the reader of checkout `root`: its CPU and wall ms for that parse. */
function coldOnce(root, file, reader) {
  const script = `
    const { readFileSync } = await import("node:fs");
    const { gunzipSync } = await import("node:zlib");
    const { parseClosureBytes } = await import(${JSON.stringify(pathToFileURL(join(root, "dist", "io", "stream-json.js")).href)});
    let raw = readFileSync(${JSON.stringify(file)});
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
    const bytes = new Uint8Array(raw);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const doc = parseClosureBytes(bytes, ${reader ? JSON.stringify({ reader }) : "{}"});
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (doc.entries.length === 0) throw new Error("no entries");
    console.log(JSON.stringify({ wall, cpu: (c.user + c.system) / 1000 }));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`cold read of ${file} failed: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

/** Medians of `runs` cold reads per variant, taken in turn. */
function cold(variants, file, runs) {
  const samples = variants.map(() => []);
  for (let i = 0; i < runs; i++) variants.forEach(([root, reader], k) => samples[k].push(coldOnce(root, file, reader)));
  return samples.map((s) => ({ ms: median(s.map((x) => x.wall)), cpuMs: median(s.map((x) => x.cpu)) }));
}

/** Median wall and CPU ms of fn over `reps` runs after one warm-up. */
function warm(fn, reps = 5) {
  const wall = [];
  const cpu = [];
  fn();
  for (let i = 0; i < reps; i++) {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(wall), cpuMs: median(cpu) };
}

/**
 * Reader rows for `inputs` ({ name, file }): raw read, JSON.parse, this
 * build's reader (Wasm fast path and TypeScript alone), the previous build's
 * reader when `baseRoot` is given; warm, and cold over `coldRuns` processes.
 */
export async function measureReader(root, baseRoot, inputs, coldRuns = 7) {
  const { parseClosureBytes } = await import(pathToFileURL(join(root, "dist", "io", "stream-json.js")).href);
  const baseReader = baseRoot ? (await import(pathToFileURL(join(baseRoot, "dist", "io", "stream-json.js")).href)).parseClosureBytes : undefined;
  const rows = [];
  for (const input of inputs) {
    let raw = readFileSync(input.file);
    if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
    const bytes = new Uint8Array(raw);
    const row = { input: input.name, mb: bytes.length / 1e6 };
    row.read = warm(() => readFileSync(input.file).length);
    row.jsonParse = warm(() => JSON.parse(new TextDecoder().decode(bytes)).length);
    row.stream = warm(() => parseClosureBytes(bytes).format);
    row.streamTs = warm(() => parseClosureBytes(bytes, { reader: "ts" }).format);
    if (baseReader) row.baseStream = warm(() => baseReader(bytes).format);
    const variants = [
      [root, undefined],
      [root, "ts"],
    ];
    if (baseRoot) variants.push([baseRoot, undefined]);
    const [c, cTs, cBase] = cold(variants, input.file, coldRuns);
    row.cold = c;
    row.coldTs = cTs;
    if (cBase) row.baseCold = cBase;
    rows.push(row);
  }
  return rows;
}

const f = (x, d = 0) => (x === undefined ? "-" : x.toFixed(d));

/** The reader table (markdown lines) of measureReader's rows. */
export function readerTable(rows, hasBase) {
  const speedUp = (base, now) => (base === undefined || now === undefined ? "-" : `${f(base.cpuMs / now.cpuMs, 1)}x`);
  const cpu = (x) => f(x?.cpuMs);
  return [
    `| input | MB of JSON | raw read ms CPU | JSON.parse ms CPU (MB/s) | reader, warm: ms CPU (MB/s) | TS parser alone, warm | ${hasBase ? "previous reader, warm | speed-up warm | " : ""}reader, cold: ms CPU | TS parser alone, cold | ${hasBase ? "previous reader, cold | speed-up cold |" : ""}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ${hasBase ? "---: | ---: | " : ""}---: | ---: | ${hasBase ? "---: | ---: |" : ""}`,
    ...rows.map(
      (r) =>
        `| ${r.input} | ${f(r.mb, 1)} | ${f(r.read.cpuMs, 1)} | ${f(r.jsonParse.cpuMs)} (${f((r.mb / r.jsonParse.cpuMs) * 1000)}) | ${f(r.stream.cpuMs)} (${f((r.mb / r.stream.cpuMs) * 1000)}) | ${cpu(r.streamTs)} | ${hasBase ? `${cpu(r.baseStream)} | ${speedUp(r.baseStream, r.stream)} | ` : ""}${cpu(r.cold)} | ${cpu(r.coldTs)} | ${hasBase ? `${cpu(r.baseCold)} | ${speedUp(r.baseCold, r.cold)} |` : ""}`,
    ),
    "",
    'reader = parseClosureBytes (a validated document in columns, as the CLI reads every input): the Wasm fast path with the TypeScript parser for what it leaves; TS parser alone = the same with `reader: "ts"`. Warm: medians of 5 in this process after a warm-up. Cold: the first parse in a fresh process (the bytes already read), medians over processes taken in turn. JSON.parse = UTF-8 decode + JSON.parse of the same bytes (objects only, no validation).',
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const baseRoot = process.argv[2] ?? process.env.STRATA_BASELINE;
  const inputs = [10000, 100000].map((n) => ({ name: `syn-${n}`, file: syntheticClosure(n) }));
  const rows = await measureReader(root, baseRoot, inputs, Number(process.env.RUNS ?? 7));
  console.log(readerTable(rows, Boolean(baseRoot)).join("\n"));
}
