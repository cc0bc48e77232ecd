// Nixery layering (strategy "nixery") on large closures, against Nixery's own
// timings (reference doc section D, 2-core EPYC, go1.19.8):
//
//   input         paths    Go program wall 20 / 94 / 125   GroupLayers alone
//   archive-all   63,667   2.20 / 2.39 / 2.33 s            1.07-1.20 s
//   syn-100000   100,000   4.23 / 3.86 / 3.67 s            1.75-1.97 s
//
// Inputs: the Debian archive closure with data/popularity's map, and
// `tools/gen-nix-graph.py 100000 --seed 1 --closure-size-limit 200000` (Nixery
// needs closureSize; the generator takes about 5 minutes, so the file is made
// once in the OS temp dir; STRATA_SYN100K_CS names an existing one), with
// popularity = popcount over the graph itself (the strategy's default).
// Measures, per input: load (JSON.parse + readClosureDocument), build
// (Closure.fromEntries), and nixeryLayers (closure build + dominator tree +
// grouping + hashes of the output layers) at budgets 20 / 94 / 125 on the
// Wasm kernel and at 94 on the TS kernel.
// Run: npm run build && node --expose-gc bench/nixery.bench.mjs
// Writes bench/results/nixery.md (a section of bench/README.md, see run.mjs) and .json.
import { readFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tmpdir, cpus } from "node:os";
import { spawnSync } from "node:child_process";
import { readClosureDocument } from "../dist/graph/document.js";
import { Closure } from "../dist/graph/closure.js";
import { nixeryLayers } from "../dist/strategies/nixery/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");

// Reference doc section D: Go program wall seconds per budget, GroupLayers alone (range).
const REFERENCE = {
  "archive-all": { wall: { 20: 2.2, 94: 2.39, 125: 2.33 }, alone: "1.07-1.20" },
  "syn-100000": { wall: { 20: 4.23, 94: 3.86, 125: 3.67 }, alone: "1.75-1.97" },
};

function readJson(path) {
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString("utf8"));
}

function syn100k() {
  const given = process.env.STRATA_SYN100K_CS;
  if (given && existsSync(given)) return given;
  const dir = join(tmpdir(), "strata-bench");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, "syn100000-seed1-closuresize.json");
  if (!existsSync(out)) {
    console.error("nixery bench: generating the 100k graph with closureSize (about 5 minutes, once)");
    const args = [join(shared, "tools", "gen-nix-graph.py"), "100000", "--seed", "1", "--closure-size-limit", "200000", "-o", out];
    const r = spawnSync("python3", args, { stdio: "inherit" });
    if (r.status !== 0) return undefined;
  }
  return out;
}

export function inputs() {
  const out = [];
  const archive = join(shared, "data", "debian-bookworm", "archive-all.json.gz");
  const pop = join(shared, "data", "popularity", "debian-archive-popcount.json");
  if (existsSync(archive)) out.push({ name: "archive-all", file: archive, popularity: existsSync(pop) ? readJson(pop) : undefined });
  const syn = syn100k();
  if (syn) out.push({ name: "syn-100000", file: syn, popularity: undefined });
  return out;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs fn `reps` times after one warm-up: median and best wall ms, median CPU ms. */
function measure(fn, reps) {
  let result = fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < reps; i++) {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    result = fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(wall), minMs: Math.min(...wall), cpuMs: median(cpu), result };
}

export async function run({ reps = 5 } = {}) {
  const rows = [];
  const notes = [];
  for (const input of inputs()) {
    const load = measure(() => readClosureDocument(readJson(input.file)), 1);
    const doc = load.result;
    const build = measure(() => Closure.fromEntries(doc.entries), reps);
    for (const [backend, budget] of [["wasm", 20], ["wasm", 94], ["wasm", 125], ["ts", 94]]) {
      const m = measure(() => nixeryLayers(doc, { budget, popularity: input.popularity, kernels: backend }), reps);
      const d = m.result.detail;
      rows.push({
        input: input.name,
        paths: doc.entries.length,
        backend,
        budget,
        layers: m.result.layers.length,
        subtrees: d.subtrees.length,
        tiedRatings: d.tiedRatings,
        loadMs: load.ms,
        buildMs: build.ms,
        planMs: m.ms,
        planMinMs: m.minMs,
        planCpuMs: m.cpuMs,
        referenceWallS: backend === "wasm" ? REFERENCE[input.name]?.wall[budget] : undefined,
        referenceAlone: REFERENCE[input.name]?.alone,
      });
    }
    if (input.popularity === undefined) notes.push(`${input.name}: popularity = popcount over the graph itself (no map given).`);
  }
  return { when: new Date().toISOString(), cpu: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`, rows, notes };
}

function f(x, digits = 0) {
  return x === undefined ? "-" : x.toFixed(digits);
}

export function toMarkdown({ when, cpu, rows, notes }) {
  const lines = [
    "## nixery",
    "",
    `Nixery's dominator-tree layering, reproduced exactly (\`bench/nixery.bench.mjs\`, ran ${when}, ${cpu}, node ${process.version}). Medians of 5 runs after a warm-up.`,
    "Reference figures: reference doc section D (Nixery's `layers` + `manifest` packages in a small Go program, go1.19.8, 2-core EPYC).",
    "",
    "| input | paths | kernel | budget | layers | subtrees | load ms | build ms | nixeryLayers ms (min / CPU) | reference: Go wall / GroupLayers alone |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    const ref = r.referenceWallS === undefined ? `- / ${r.referenceAlone ?? "-"} s` : `${r.referenceWallS} s / ${r.referenceAlone} s`;
    lines.push(
      `| ${r.input} | ${r.paths} | ${r.backend} | ${r.budget} | ${r.layers} | ${r.subtrees} | ${f(r.loadMs)} | ${f(r.buildMs)} | ${f(r.planMs)} (${f(r.planMinMs)} / ${f(r.planCpuMs)}) | ${ref} |`,
    );
  }
  lines.push(
    "",
    "load = JSON.parse + readClosureDocument (once); build = Closure.fromEntries alone; nixeryLayers = closure build + popularity + dominator tree + grouping + output hashes (it includes its own closure build). The Go wall time includes JSON decode/encode and Manifest.",
  );
  if (notes.length) lines.push("", "Notes:", ...notes.map((n) => `* ${n}`));
  return lines.join("\n") + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run();
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const md = toMarkdown(result);
  writeFileSync(join(dir, "nixery.md"), md);
  writeFileSync(join(dir, "nixery.json"), JSON.stringify({ name: "nixery", node: process.version, ...result }, null, 2) + "\n");
  process.stdout.write(md);
  console.log(`maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}
