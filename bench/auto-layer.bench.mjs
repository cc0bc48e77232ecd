// auto-layer (nixpkgs' dockerAutoLayer) on large closures, against the
// reference's own timings (reference doc section D, 2-core EPYC, CPython 3.11):
//
//   input         paths    CLI wall 20 / 99 / 125        auto_layer() alone @99   limit >= paths
//   syn-10000     10,000   0.20 / 0.21 / 0.22 s          0.14 s                   37 s
//   archive-all   63,667   1.63 / 2.35 / 2.64 s          2.31 s                   -
//   syn-100000   100,000   3.08 / 3.77 / 4.27 s          3.16 s                   -
//
// Inputs: tools/gen-nix-graph.py N --seed 1 for N = 10k and 100k (generated
// into the OS temp dir on first use, ~15 s; STRATA_SYN10K / STRATA_SYN100K or
// bench/data/syn100k.json are used when present) and the Debian archive closure.
// Measures, per input: the CLI's streaming read (typed-array columns) and, for
// comparison, JSON.parse + readClosureDocument; the graph build from the
// columns (graphFromColumns); plan = graph build + algorithm (what the
// strategy does with a document) at limits 20, 99, 125 and unbounded (limit
// = paths: the fast path), and the whole CLI (`strata layer --strategy
// auto-layer --format auto-layer`, a fresh node process) at 20/99/125. Layer
// counts are checked against section D. Like for like: (a) plan vs
// auto_layer() alone (Python builds its dicts from the loaded JSON inside it,
// the JSON load is outside); (b) CLI process wall vs auto-layer.py wall.
// Run: npm run build && node --expose-gc bench/auto-layer.bench.mjs
// Writes bench/results/auto-layer.md (a section of bench/README.md, see run.mjs) and .json.
import { measure, median, writeResults } from "./lib.mjs";
import { readFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tmpdir, cpus } from "node:os";
import { spawnSync } from "node:child_process";
import { readClosureDocument } from "../dist/graph/document.js";
import { columnsOf } from "../dist/graph/closure.js";
import { readClosureStream } from "../dist/io/stream-node.js";
import { autoLayerGraph, graphFromColumns } from "../dist/strategies/auto-layer/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");
const cli = join(root, "dist", "cli", "main.js");

// Reference doc section D: CLI wall seconds (layers) per limit, auto_layer() alone at 99, unbounded.
const REFERENCE = {
  "syn-10000": { wall: { 20: [0.2, 17], 99: [0.21, 93], 125: [0.22, 120] }, alone99: 0.14, unbounded: 37 },
  "archive-all": { wall: { 20: [1.63, 20], 99: [2.35, 99], 125: [2.64, 125] }, alone99: 2.31 },
  "syn-100000": { wall: { 20: [3.08, 19], 99: [3.77, 78], 125: [4.27, 106] }, alone99: 3.16 },
};

function readJson(path) {
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString("utf8"));
}

function synthetic(n, envVar, candidates) {
  for (const p of [process.env[envVar], ...candidates]) if (p && existsSync(p)) return p;
  const dir = join(tmpdir(), "strata-bench");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `syn${n}-seed1.json`);
  if (!existsSync(out)) {
    const r = spawnSync("python3", [join(shared, "tools", "gen-nix-graph.py"), String(n), "--seed", "1", "-o", out], { stdio: "inherit" });
    if (r.status !== 0) return undefined;
  }
  return out;
}

export function inputs() {
  const out = [];
  const s10 = synthetic(10000, "STRATA_SYN10K", []);
  if (s10) out.push({ name: "syn-10000", file: s10 });
  const archive = join(shared, "data", "debian-bookworm", "archive-all.json.gz");
  if (existsSync(archive)) out.push({ name: "archive-all", file: archive });
  const s100 = synthetic(100000, "STRATA_SYN100K", [join(root, "bench", "data", "syn100k.json")]);
  if (s100) out.push({ name: "syn-100000", file: s100 });
  return out;
}

export async function run({ reps = 7, cliReps = 3 } = {}) {
  const rows = [];
  const notes = [];
  for (const input of inputs()) {
    const ref = REFERENCE[input.name];
    const parse = await measure(() => readClosureDocument(readJson(input.file)), 1);
    const load = await measure(() => readClosureStream(input.file, { smallInputBytes: 0 }), 2);
    const columns = columnsOf(load.result);
    const build = await measure(() => graphFromColumns(columns), reps);
    const n = build.result.n;
    const base = { input: input.name, paths: n, parseMs: parse.ms, loadMs: load.ms, buildMs: build.ms };
    for (const limit of [20, 99, 125, n]) {
      const unbounded = limit === n;
      // plan = graph build + algorithm, from the streamed document.
      const m = await measure(() => autoLayerGraph(graphFromColumns(columns), { limit }), unbounded ? (n > 20000 ? 1 : 3) : reps);
      const r = m.result;
      /** @type {Record<string, any>} */
      const row = {
        ...base,
        limit: unbounded ? "unbounded" : limit,
        layers: r.layers.length,
        primaries: r.primaries.length,
        algorithmMs: m.ms,
        algorithmMinMs: m.minMs,
        algorithmCpuMs: m.cpuMs,
      };
      if (ref?.wall[limit]) {
        row.referenceWallS = ref.wall[limit][0];
        row.referenceLayers = ref.wall[limit][1];
        if (r.layers.length !== ref.wall[limit][1])
          notes.push(`MISMATCH ${input.name} limit ${limit}: ${r.layers.length} layers, reference ${ref.wall[limit][1]}`);
        // The whole CLI in a fresh process, like the reference's wall time.
        const walls = [];
        for (let i = 0; i < cliReps; i++) {
          const t = performance.now();
          const p = spawnSync(
            process.execPath,
            [cli, "layer", "--strategy", "auto-layer", "--format", "auto-layer", "--max-layers", String(limit + 1), input.file],
            {
              maxBuffer: 1 << 30,
              encoding: "utf8",
            },
          );
          walls.push(performance.now() - t);
          if (p.status !== 0) {
            notes.push(`CLI failed on ${input.name} limit ${limit}: ${p.stderr.trim().split("\n")[0]}`);
            break;
          }
          if (i === 0 && JSON.parse(p.stdout).length !== r.layers.length) notes.push(`CLI layer count differs on ${input.name} limit ${limit}`);
        }
        if (walls.length === cliReps) row.cliWallMs = median(walls);
      }
      if (limit === 99 && ref) row.referenceAloneS = ref.alone99;
      if (unbounded && ref?.unbounded) row.referenceWallS = ref.unbounded;
      rows.push(row);
    }
  }
  return { rows, notes };
}

export function toMarkdown({ rows, notes, date = new Date().toISOString() }) {
  const f = (x, d = 0) => (x === undefined ? "-" : x.toFixed(d));
  const lines = [
    "## auto-layer",
    "",
    `nixpkgs' auto-layer, reproduced exactly (\`bench/auto-layer.bench.mjs\`, ran ${date}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, node ${process.version}). Medians of 7 runs after a warm-up (CLI: 3 fresh processes; unbounded: 1-3 runs).`,
    "Reference figures: reference doc section D (auto-layer.py under CPython 3.11 on a 2-core EPYC).",
    "",
    "| input | paths | limit | layers (ref) | read ms (JSON.parse) | build ms | plan ms (min / CPU) | CLI wall ms | reference | speed-up |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
  ];
  for (const r of rows) {
    let reference = "-";
    let speedup = "-";
    if (r.limit === 99 && r.referenceAloneS !== undefined) {
      reference = `${r.referenceWallS} s wall, ${r.referenceAloneS} s auto_layer()`;
      speedup = `(a) ${f((r.referenceAloneS * 1000) / r.algorithmMs, 1)}x plan vs auto_layer() (${f((r.referenceAloneS * 1000) / r.algorithmMinMs, 1)}x best run), (b) ${f((r.referenceWallS * 1000) / r.cliWallMs, 1)}x wall`;
    } else if (r.referenceWallS !== undefined && r.cliWallMs !== undefined) {
      reference = `${r.referenceWallS} s wall`;
      speedup = `${f((r.referenceWallS * 1000) / r.cliWallMs, 1)}x wall`;
    } else if (r.referenceWallS !== undefined) {
      reference = `${r.referenceWallS} s wall`;
      speedup = `${f((r.referenceWallS * 1000) / (r.loadMs + r.algorithmMs), 0)}x (read + plan)`;
    }
    const layers = r.referenceLayers === undefined ? `${r.layers}` : `${r.layers} (${r.referenceLayers})`;
    lines.push(
      `| ${r.input} | ${r.paths} | ${r.limit} | ${layers} | ${f(r.loadMs)} (${f(r.parseMs)}) | ${f(r.buildMs)} | ${f(r.algorithmMs, 1)} (${f(r.algorithmMinMs, 0)} / ${f(r.algorithmCpuMs, 0)}) | ${f(r.cliWallMs)} | ${reference} | ${speedup} |`,
    );
  }
  lines.push(
    "",
    "read = the CLI's streaming reader (typed-array columns; in brackets JSON.parse + readClosureDocument, for comparison); build = graphFromColumns (validation + input-order CSR); plan = build + autoLayerGraph (labels, layer info, set order, exclusion): what the strategy does with a document.",
  );
  lines.push(
    "(a) divides auto_layer() alone (the reference's function, JSON already loaded, its dicts built inside) by plan; (b) divides auto-layer.py's wall time (CPython start-up, JSON load, algorithm, output) by the CLI's.",
  );
  lines.push("CLI wall = a fresh `node dist/cli/main.js layer --strategy auto-layer --format auto-layer --max-layers L+1 FILE`, node start-up included.");
  // Issue 4's criterion: a 10x lead at 100k paths.
  const r99 = rows.find((r) => r.input === "syn-100000" && r.limit === 99);
  if (r99?.referenceAloneS !== undefined && r99.cliWallMs !== undefined) {
    const leadA = (r99.referenceAloneS * 1000) / r99.algorithmMs;
    lines.push(
      "",
      `At 100k paths, limit 99 (median): (a) ${f(leadA, 1)}x auto_layer() alone, so the 10x criterion is ${leadA >= 10 ? "met" : "missed"} on the algorithm comparison; (b) ${f((r99.referenceWallS * 1000) / r99.cliWallMs, 1)}x the reference CLI end to end, where the CLI's time is mostly the streaming reader and node start-up (see docs/auto-layer.md, Measured).`,
    );
  }
  if (notes.length) lines.push("", "Notes:", ...notes.map((n) => `* ${n}`));
  return lines.join("\n") + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run();
  const md = toMarkdown(result);
  writeResults("auto-layer", md, result);
  process.stdout.write(md);
  console.log(`maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}
