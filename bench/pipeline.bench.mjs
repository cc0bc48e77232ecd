// nixpkgs' layeringPipeline (`strata layer`) and referencesByPopularity
// (`strata popularity`) against the reference's published figures
// (../shared/reference/nixpkgs-pipeline.md section 10: flatten_references_graph
// and closure-graph.py under CPython 3.11 + igraph 0.10.2, 2-core EPYC, whole
// process incl. JSON parsing and output, GNU time -v).
//
// Inputs: tools/gen-nix-graph.py N --seed 1 for N = 10k, 30k, 100k, 300k
// (generated into $TMPDIR/strata-bench on first use; STRATA_SYN<N> overrides,
// e.g. STRATA_SYN300000=/path) and the Debian archive closure.
// Per input: end-to-end process wall time and peak RSS (GNU time when present)
// of a fresh `node dist/cli/main.js layer FILE` for the default pipeline
// [["popularity_contest"], ["limit_layers", 99]], subcomponent_out of the first
// root, split_paths of the 11th most referenced path (the reference's three
// columns), and `strata popularity FILE` (closure-graph.py); plus an in-process
// phase breakdown of the default pipeline on both kernel backends.
// Run: npm run build && node --expose-gc bench/pipeline.bench.mjs [--quick]
// Writes bench/results/pipeline.md and .json.
import { median, referencePipelineSeeds, syntheticClosure, writeResults } from "./lib.mjs";
import { readFileSync, existsSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { cpus } from "node:os";
import { spawnSync } from "node:child_process";
import { readClosureDocument } from "../dist/graph/document.js";
import { Closure } from "../dist/graph/closure.js";
import { kernels } from "../dist/kernels/index.js";
import { parsePipeline, runPipeline } from "../dist/pipeline/index.js";
import { formatLayersIndented } from "../dist/format/python-json.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");
const cli = join(root, "dist", "cli", "main.js");
const quick = process.argv.includes("--quick");

// Section 10: [wall s, peak RSS MB]; null = killed at 600 s / not run.
const REFERENCE = {
  "syn-10000": { default: [16.4, 170], subcomponent_out: [0.72, 102], split_paths: [0.87, 104], popularity: [5.2, 106] },
  "syn-30000": { default: [267, 548], subcomponent_out: [1.9, 172], split_paths: [2.3, 172], popularity: [73, 461] },
  "syn-100000": { default: null, subcomponent_out: [3.8, 421], split_paths: [6.3, 421], popularity: null },
  "syn-300000": { default: null, subcomponent_out: [15, 1100], split_paths: [22, 1100], popularity: null },
};
const REFERENCE_NOTE = {
  "syn-100000": { default: "killed at 600 s", popularity: "killed at 600 s (1.8 GB)" },
  "syn-300000": { default: "not run (est. > 15 h)", popularity: "not run" },
};
// Issue 3's aims for the default pipeline, seconds.
const AIM = { "syn-10000": 0.3, "syn-30000": 1, "syn-100000": 3, "syn-300000": 10 };

function readJson(path) {
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString("utf8"));
}

function synthetic(n) {
  const env = process.env[`STRATA_SYN${n}`];
  if (env && existsSync(env)) return env;
  return syntheticClosure(n);
}

function inputs() {
  const out = [];
  for (const n of quick ? [10000, 30000] : [10000, 30000, 100000, 300000]) {
    const f = synthetic(n);
    if (f) out.push({ name: `syn-${n}`, file: f });
  }
  const archive = join(shared, "data", "debian-bookworm", "archive-all.json.gz");
  if (!quick && existsSync(archive)) out.push({ name: "archive-all", file: archive });
  return out;
}

const hasGnuTime = existsSync("/usr/bin/time");

/** One fresh CLI process: wall ms and peak RSS MB (GNU time), or an error line. */
function runCli(args) {
  const t = performance.now();
  const p = hasGnuTime
    ? spawnSync("/usr/bin/time", ["-f", "STRATA_RSS_KB %M", process.execPath, cli, ...args], { maxBuffer: 1 << 30, encoding: "utf8" })
    : spawnSync(process.execPath, [cli, ...args], { maxBuffer: 1 << 30, encoding: "utf8" });
  const wallMs = performance.now() - t;
  const m = /STRATA_RSS_KB (\d+)/.exec(p.stderr ?? "");
  if (p.status !== 0) return { error: (p.stderr ?? "").split("\n").find((l) => l && !l.startsWith("STRATA_RSS_KB")) ?? `exit ${p.status}` };
  return { wallMs, rssMb: m ? Number(m[1]) / 1024 : undefined, stdout: p.stdout };
}

/** The reference's pipelines for this graph: first root, 11th most referenced path. */
function pipelinesFor(doc) {
  const { firstRoot, eleventh } = referencePipelineSeeds(doc.entries);
  return {
    default: undefined,
    subcomponent_out: [["subcomponent_out", [firstRoot]]],
    split_paths: [["split_paths", [eleventh]]],
  };
}

function phases(file, backend) {
  const t0 = performance.now();
  const json = readJson(file);
  const t1 = performance.now();
  const doc = readClosureDocument(json);
  const t2 = performance.now();
  const closure = Closure.fromDocument(doc);
  const t3 = performance.now();
  const layers = runPipeline(closure, parsePipeline([["popularity_contest"], ["limit_layers", 99]]), { kernels: kernels(backend) });
  const t4 = performance.now();
  const text = formatLayersIndented(layers);
  const t5 = performance.now();
  return { readParseMs: t1 - t0, documentMs: t2 - t1, closureMs: t3 - t2, pipelineMs: t4 - t3, formatMs: t5 - t4, layers: layers.length, bytes: text.length };
}

export async function run() {
  const rows = [];
  const phaseRows = [];
  const notes = [];
  for (const input of inputs()) {
    const doc = readClosureDocument(readJson(input.file));
    const n = doc.entries.length;
    const pipelines = pipelinesFor(doc);
    const reps = n <= 30000 ? 3 : 1;
    for (const [label, pipeline] of [...Object.entries(pipelines), ["popularity", null]]) {
      const args = label === "popularity" ? ["popularity", input.file] : ["layer", input.file, ...(pipeline ? ["--pipeline", JSON.stringify(pipeline)] : [])];
      const runs = [];
      let error;
      for (let i = 0; i < reps; i++) {
        const r = runCli(args);
        if (r.error) {
          error = r.error;
          break;
        }
        runs.push(r);
      }
      const ref = REFERENCE[input.name]?.[label];
      const row = {
        input: input.name,
        paths: n,
        run: label === "popularity" ? "strata popularity" : `layer: ${label}`,
        wallMs: error ? undefined : median(runs.map((r) => r.wallMs)),
        rssMb: error ? undefined : median(runs.map((r) => r.rssMb ?? NaN)),
        layers: error || label === "popularity" ? undefined : JSON.parse(runs[0].stdout).length,
        referenceS: ref ? ref[0] : undefined,
        referenceRssMb: ref ? ref[1] : undefined,
        referenceNote: REFERENCE_NOTE[input.name]?.[label],
        aimS: label === "default" ? AIM[input.name] : undefined,
      };
      if (error) notes.push(`${input.name} ${label}: failed: ${error}`);
      rows.push(row);
    }
    globalThis.gc?.();
    for (const backend of ["wasm", "ts"]) {
      phaseRows.push({ input: input.name, paths: n, backend, ...phases(input.file, backend) });
      globalThis.gc?.();
    }
  }
  return { rows, phaseRows, notes };
}

function toMarkdown({ rows, phaseRows, notes }) {
  const f = (x, d = 0) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
  const s = (ms) => (ms === undefined ? "-" : ms < 10000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);
  const lines = [
    "## pipeline: nixpkgs layeringPipeline and referencesByPopularity",
    "",
    `Ran ${new Date().toISOString()} on ${cpus().length} x ${cpus()[0]?.model ?? "?"}, node ${process.version}. Medians of ${"3 runs (<= 30k paths) or 1 run"}.`,
    "Reference: nixpkgs-pipeline.md section 10 (flatten_references_graph / closure-graph.py, CPython 3.11 + igraph 0.10.2, 2-core EPYC, whole process).",
    "Each strata figure is a fresh `node dist/cli/main.js ...` process (start-up, JSON parsing and output included), Wasm kernels; peak RSS from GNU time.",
    "",
    "| input | paths | run | layers | strata wall | strata peak RSS | reference wall / RSS | speed-up | aim |",
    "| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |",
  ];
  for (const r of rows) {
    const ref = r.referenceS !== undefined ? `${r.referenceS} s / ${r.referenceRssMb} MB` : (r.referenceNote ?? "-");
    const speed =
      r.referenceS !== undefined && r.wallMs !== undefined
        ? `${f((r.referenceS * 1000) / r.wallMs, 1)}x`
        : r.referenceNote && r.wallMs !== undefined
          ? "> " + f(600000 / r.wallMs, 0) + "x"
          : "-";
    const aim = r.aimS === undefined ? "" : `${r.aimS} s ${r.wallMs !== undefined && r.wallMs <= r.aimS * 1000 ? "(met)" : "(missed)"}`;
    lines.push(`| ${r.input} | ${r.paths} | ${r.run} | ${r.layers ?? "-"} | ${s(r.wallMs)} | ${f(r.rssMb)} MB | ${ref} | ${speed} | ${aim} |`);
  }
  lines.push(
    "",
    "In-process phases of the default pipeline (ms), through the plain in-memory path (JSON.parse + readClosureDocument + Closure.fromDocument; the CLI reads through readClosureInput, which may take a faster streaming route, so these phases need not add up to the CLI wall): read+parse = readFile + gunzip + JSON.parse; document = readClosureDocument; closure = Closure.fromDocument (sort, CSR, cycle check); pipeline = popularity_contest + limit_layers 99 (kernel popularity included); format = nixpkgs' indented JSON text.",
    "",
    "| input | paths | backend | read+parse | document | closure | pipeline | format |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const p of phaseRows) {
    lines.push(
      `| ${p.input} | ${p.paths} | ${p.backend} | ${f(p.readParseMs)} | ${f(p.documentMs)} | ${f(p.closureMs)} | ${f(p.pipelineMs)} | ${f(p.formatMs)} |`,
    );
  }
  if (notes.length) lines.push("", "Notes:", ...notes.map((n) => `* ${n}`));
  return lines.join("\n") + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run();
  const md = toMarkdown(result);
  writeResults("pipeline", md, result);
  process.stdout.write(md);
}
