// Input at scale (issue 7): parsing and end-to-end `strata layer` on
// generated closures of 1k..1M paths and on every closure in ../shared/data.
//
// * parse: JSON.parse path (readFile + gunzip + UTF-8 decode + JSON.parse +
//   readClosureDocument, as readClosureInput did before) vs the streaming
//   reader (readClosureStream with smallInputBytes 0), in this process, wall
//   and CPU; then Closure.fromDocument from each (entries vs columns).
// * end to end: a fresh `node dist/cli/main.js layer FILE [--strategy S]`
//   process per run under GNU time (wall, peak RSS), for the default pipeline
//   and every registered strategy of auto-layer, nixery, min-pull.
// * generator statistics (closure-stats.py) against gen-nix-graph.py and the
//   Debian archive.
// Generated files are cached in $TMPDIR/strata-scale-bench (1M once, ~630 MB).
// Run: npm run build && node --expose-gc bench/scale.bench.mjs [--quick]
// Writes bench/results/scale.md and scale.json.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { generateClosure, writeClosureFile } from "./gen-closure.mjs";
import { readClosureDocument } from "../dist/graph/document.js";
import { Closure } from "../dist/graph/closure.js";
import { readClosureStream } from "../dist/io/stream-node.js";
import { strategies } from "../dist/strategies/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");
const cli = join(root, "dist", "cli", "main.js");
const quick = process.argv.includes("--quick");
const cache = join(process.env.STRATA_SCALE_DIR ?? tmpdir(), "strata-scale-bench");
mkdirSync(cache, { recursive: true });
const started = Date.now();
const log = (s) => console.error(`[scale ${((Date.now() - started) / 1000).toFixed(0)} s] ${s}`);

const SIZES = quick ? [1000, 10000, 100000] : [1000, 10000, 100000, 300000, 1000000];
const TARGET = { 300000: 10, 1000000: 60 }; // default pipeline, seconds
const MEMORY_TARGET_MB = 3000; // 1M paths
const STRATEGY_NAMES = ["auto-layer", "nixery", "min-pull"].filter((s) => strategies.some((x) => x.name === s));

async function generated(n) {
  const file = join(cache, `gen-${n}-seed1.json`);
  if (!existsSync(file)) {
    log(`generating ${n} paths -> ${file}`);
    const t = performance.now();
    const g = generateClosure(n, { seed: 1 });
    await writeClosureFile(file, g);
    log(`  ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  return { name: `gen-${n}`, file, paths: n };
}

function sharedClosures() {
  const out = [];
  const walk = (dir) => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.json(\.gz)?$/.test(f)) out.push(p);
    }
  };
  walk(join(shared, "data"));
  return out.map((file) => ({ name: file.slice(join(shared, "data").length + 1), file, paths: undefined }));
}

function cpuMs(f) {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = f();
  const u = process.cpuUsage(c);
  return { value, wall: performance.now() - t, cpu: (u.user + u.system) / 1000 };
}

async function cpuMsAsync(f) {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await f();
  const u = process.cpuUsage(c);
  return { value, wall: performance.now() - t, cpu: (u.user + u.system) / 1000 };
}

const MAX_STRING = 0x1fffffe8;

/** Parse timings of one input: best of `runs`. */
async function parseTimes(input, runs) {
  const r = { json: null, jsonError: null, stream: null, closureEntries: null, closureColumns: null, bytes: 0 };
  let docJ, docS;
  for (let k = 0; k < runs; k++) {
    globalThis.gc?.();
    try {
      const j = cpuMs(() => {
        let bytes = readFileSync(input.file);
        if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
        r.bytes = bytes.length;
        if (bytes.length > MAX_STRING) throw new RangeError(`text of ${bytes.length} bytes exceeds V8's string limit (${MAX_STRING})`);
        return readClosureDocument(JSON.parse(bytes.toString("utf8")));
      });
      if (r.json === null || j.wall < r.json.wall) r.json = { wall: j.wall, cpu: j.cpu };
      docJ = j.value;
    } catch (e) {
      r.jsonError = e.code ?? e.message;
      if (e instanceof RangeError || /string/i.test(e.message)) r.jsonError = "exceeds V8's max string length";
    }
    globalThis.gc?.();
    try {
      const s = await cpuMsAsync(() => readClosureStream(input.file, { smallInputBytes: 0 }));
      if (r.stream === null || s.wall < r.stream.wall) r.stream = { wall: s.wall, cpu: s.cpu };
      docS = s.value;
    } catch (e) {
      r.streamError = e.code ?? e.message;
    }
  }
  input.paths ??= docS?.entries.length ?? docJ?.entries.length;
  try {
    if (docJ) r.closureEntries = cpuMs(() => Closure.fromDocument(docJ)).wall;
    if (docS) r.closureColumns = cpuMs(() => Closure.fromDocument(docS)).wall;
  } catch (e) {
    r.closureError = e.code ?? e.message;
  }
  return r;
}

/** One fresh CLI process under GNU time. */
function endToEnd(file, args, timeoutS) {
  const hasTime = existsSync("/usr/bin/time");
  const cmd = hasTime ? "/usr/bin/time" : process.execPath;
  const argv = hasTime ? ["-f", "TIME %e %M", process.execPath, cli, "layer", file, ...args] : [cli, "layer", file, ...args];
  const t = performance.now();
  const p = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 30, timeout: timeoutS * 1000, killSignal: "SIGKILL" });
  const wall = (performance.now() - t) / 1000;
  if (p.error || p.signal) return { timedOut: true, wall, limit: timeoutS };
  const m = /TIME ([\d.]+) (\d+)/.exec(p.stderr ?? "");
  const rssMb = m ? Number(m[2]) / 1024 : null;
  let layers = null;
  if (p.status === 0) {
    try {
      const out = JSON.parse(p.stdout);
      layers = Array.isArray(out) ? out.length : null;
    } catch {
      layers = null; // formats other than JSON lists
    }
  }
  return { status: p.status, wall: m ? Number(m[1]) : wall, rssMb, layers, error: p.status === 0 ? undefined : (p.stderr ?? "").split("\n")[0].slice(0, 120) };
}

function statsOf(file) {
  const p = spawnSync("python3", [join(shared, "tools", "closure-stats.py"), "--json", file], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (p.status !== 0) return null;
  return Object.values(JSON.parse(p.stdout))[0];
}

async function generatorStats() {
  const ours = join(cache, "gen-20000-seed1.json");
  if (!existsSync(ours)) await writeClosureFile(ours, generateClosure(20000, { seed: 1 }));
  const py = join(cache, "py-20000-seed1.json");
  if (!existsSync(py)) {
    log("gen-nix-graph.py 20000 (python, ~20 s)");
    spawnSync("python3", [join(shared, "tools", "gen-nix-graph.py"), "20000", "--seed", "1", "-o", py]);
  }
  const rows = [
    ["gen-closure.mjs 20000 --seed 1", ours],
    ["gen-nix-graph.py 20000 --seed 1", py],
    ["gen-closure.mjs 1000000 --seed 1", join(cache, "gen-1000000-seed1.json")],
    ["debian archive-all", join(shared, "data", "debian-bookworm", "archive-all.json.gz")],
    ["debian img-gnome-desktop", join(shared, "data", "debian-bookworm", "img-gnome-desktop.json.gz")],
  ].filter(([, f]) => existsSync(f) && !(quick && f.includes("1000000")));
  return rows.map(([name, f]) => ({ name, stats: statsOf(f) }));
}

const fmtS = (ms) => (ms == null ? "-" : ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);
const fmtRun = (r) =>
  r == null ? "-" : r.timedOut ? `> ${r.limit} s (stopped)` : r.status !== 0 ? `exit ${r.status}` : `${r.wall.toFixed(2)} s / ${r.rssMb?.toFixed(0)} MB`;

const inputs = [];
for (const n of SIZES) inputs.push(await generated(n));
inputs.push(...sharedClosures());

const results = [];
for (const input of inputs) {
  const big = (input.paths ?? 0) >= 300000;
  log(`${input.name}: parse`);
  const parse = await parseTimes(input, big ? 1 : 3);
  const runs = {};
  log(`${input.name}: layer (default pipeline)`);
  runs.default = endToEnd(input.file, [], input.paths >= 1000000 ? 400 : 200);
  for (const s of STRATEGY_NAMES) {
    // Strategies that are superlinear get a shorter leash at scale.
    log(`${input.name}: layer --strategy ${s}`);
    runs[s] = endToEnd(input.file, ["--strategy", s], big ? 150 : 120);
  }
  results.push({ name: input.name, paths: input.paths, bytes: parse.bytes, parse, runs });
}
const genStats = await generatorStats();

// ---- report
const lines = [];
lines.push("## scale: closures of 1k to 1M paths (issue 7)");
lines.push("");
lines.push(
  `Ran ${new Date().toISOString()}, node ${process.version}, by \`node --expose-gc bench/scale.bench.mjs\`${quick ? " --quick" : ""}. Generated inputs: \`bench/gen-closure.mjs N --seed 1\` (25 levels, ~7.4 references per path, plain JSON). The VM is shared and was loaded by other work during the run: read wall times as upper bounds.`,
);
lines.push("");
lines.push("### Parsing: JSON.parse path vs streaming reader (in process, best of 3; 1 run at >= 300k)");
lines.push("");
lines.push(
  "JSON.parse path = readFile + gunzip + decode + JSON.parse + readClosureDocument (what readClosureInput did). Streaming = readClosureStream (chunks of 1 MiB, interned columns). Closure = Closure.fromDocument from the entries (JSON.parse path) or from the columns (streaming). Times wall / CPU.",
);
lines.push("");
lines.push("| input | paths | JSON MB | JSON.parse path | streaming | closure from entries | closure from columns |");
lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  const p = r.parse;
  const j = p.json ? `${fmtS(p.json.wall)} / ${fmtS(p.json.cpu)}` : (p.jsonError ?? "-");
  const s = p.stream ? `${fmtS(p.stream.wall)} / ${fmtS(p.stream.cpu)}` : (p.streamError ?? "-");
  lines.push(
    `| ${r.name} | ${r.paths ?? "-"} | ${(r.bytes / 1e6).toFixed(1)} | ${j} | ${s} | ${p.closureError ?? fmtS(p.closureEntries)} | ${p.closureError ?? fmtS(p.closureColumns)} |`,
  );
}
lines.push("");
lines.push(`### End to end: \`node dist/cli/main.js layer FILE [--strategy S]\` (wall / peak RSS, GNU time)`);
lines.push("");
lines.push(`| input | paths | default pipeline | ${STRATEGY_NAMES.map((s) => `--strategy ${s}`).join(" | ")} |`);
lines.push(`| --- | ---: | ---: | ${STRATEGY_NAMES.map(() => "---:").join(" | ")} |`);
for (const r of results) {
  lines.push(`| ${r.name} | ${r.paths ?? "-"} | ${fmtRun(r.runs.default)} | ${STRATEGY_NAMES.map((s) => fmtRun(r.runs[s])).join(" | ")} |`);
}
lines.push("");
lines.push("### Targets");
lines.push("");
const targetRows = [];
for (const [n, limit] of Object.entries(TARGET)) {
  const r = results.find((x) => x.name === `gen-${n}`);
  const run = r?.runs.default;
  if (!run) continue;
  const wall = run.timedOut ? null : run.wall;
  const verdict =
    wall == null
      ? `missed (stopped at ${run.limit} s)`
      : wall <= limit
        ? `met (${(limit - wall).toFixed(1)} s to spare)`
        : `missed by ${(wall - limit).toFixed(1)} s (${(wall / limit).toFixed(1)}x)`;
  targetRows.push(
    `| default pipeline, ${Number(n).toLocaleString("en-US")} paths, end to end | < ${limit} s | ${wall == null ? "-" : wall.toFixed(1) + " s"} | ${verdict} |`,
  );
}
const m1 = results.find((x) => x.name === "gen-1000000");
if (m1) {
  const rss = Math.max(
    ...Object.values(m1.runs)
      .filter((r) => r && !r.timedOut && r.rssMb)
      .map((r) => r.rssMb),
    0,
  );
  const d = m1.runs.default?.rssMb;
  targetRows.push(
    `| peak memory, 1M paths (default pipeline) | < ${MEMORY_TARGET_MB} MB | ${d ? d.toFixed(0) + " MB" : "-"} | ${d ? (d < MEMORY_TARGET_MB ? `met (${(MEMORY_TARGET_MB - d).toFixed(0)} MB to spare)` : `missed by ${(d - MEMORY_TARGET_MB).toFixed(0)} MB`) : "-"} |`,
  );
  targetRows.push(
    `| peak memory, 1M paths (any finished strategy) | < ${MEMORY_TARGET_MB} MB | ${rss ? rss.toFixed(0) + " MB" : "-"} | ${rss ? (rss < MEMORY_TARGET_MB ? "met" : "missed") : "-"} |`,
  );
}
lines.push("| target | limit | measured | verdict |");
lines.push("| --- | --- | ---: | --- |");
lines.push(...targetRows);
lines.push("");
lines.push("### Generator statistics (closure-stats.py)");
lines.push("");
const keys = [
  "paths",
  "edges",
  "self_references",
  "roots",
  "longest_path_edges",
  "indegree_max",
  "indegree_max_name",
  "indegree_p50",
  "indegree_p90",
  "indegree_p99",
  "outdegree_p50",
  "outdegree_p99",
  "outdegree_max_excl_roots",
  "narSize_p50",
  "narSize_max",
];
lines.push(`| input | ${keys.join(" | ")} |`);
lines.push(`| --- | ${keys.map(() => "---:").join(" | ")} |`);
for (const g of genStats) {
  if (!g.stats) continue;
  lines.push(`| ${g.name} | ${keys.map((k) => g.stats[k] ?? "-").join(" | ")} |`);
}
lines.push("");
const md = lines.join("\n") + "\n";
const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "scale.md"), md);
writeFileSync(
  join(dir, "scale.json"),
  JSON.stringify({ name: "scale", date: new Date().toISOString(), node: process.version, quick, results, generatorStats: genStats }, null, 2) + "\n",
);
console.log(md);
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
