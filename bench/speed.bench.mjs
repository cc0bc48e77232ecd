// Issue 17: start-up, input speed and end to end, process against process.
//
// Every figure is a whole fresh process (`node dist/cli/main.js ...`), timed
// from outside with GNU time (`/usr/bin/time -f "%e %U %S %M"`: wall, user,
// system seconds, peak RSS), medians of RUNS runs taken in turn with the same
// run's baselines, so a drifting machine moves them together:
//   * `node -e 0`: the floor every Node program pays;
//   * the previous build (STRATA_BASELINE=/path/to/old/checkout: its
//     dist/cli/main.js and dist/io/stream-json.js), e.g. a `git worktree add`
//     of main built with `npm ci`;
//   * the references' figures from issue 17's table (the nixpkgs Python
//     scripts and Nixery's Go code, measured side by side on this 2-core VM
//     class): constants below, as the reference programs are not in the repo.
// Input speed, in this process: raw read, JSON.parse of the same text, and
// the streaming reader (new, and the baseline's when given), median of 5.
// STRATA_BENCH_1M=/path/to/1M-path.json adds the 1M-path end-to-end row
// (one run each: wall and peak RSS). RUNS (default 7) sets the repetitions.
// Inputs: the 5-path closure below; gen-nix-graph.py 10000 / 30000 / 100000
// --seed 1 (as pipeline.bench.mjs, cached in $TMPDIR/strata-bench); the Debian
// archive. 30k runs the default pipeline only (issue 17's row); 100k also runs
// the subcomponent_out and split_paths pipelines (referencePipelines).
// Run: npm run build && node --expose-gc bench/speed.bench.mjs
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, referencePipelineSeeds, syntheticClosure, writeResults } from "./lib.mjs";
import { measureReader, readerTable } from "./reader-speed.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");
const cli = join(root, "dist", "cli", "main.js");
const baseRoot = process.env.STRATA_BASELINE;
const baseCli = baseRoot ? join(baseRoot, "dist", "cli", "main.js") : undefined;
const runs = Number(process.env.RUNS ?? 7);
/** Start-up figures: each sample is the mean of this many runs in a row (see timedLoop). */
const START_LOOP = 10;
const time = "/usr/bin/time";
if (!existsSync(time)) throw new Error("bench/speed.bench.mjs needs GNU time at /usr/bin/time");

// Issue 17's table: strata then, and the reference (seconds, whole process).
const ISSUE = {
  "start-5/auto-layer": { then: 0.21, ref: 0.05, refName: "auto-layer.py" },
  "start-5/nixery": { then: 0.23, ref: 0.011, refName: "Nixery (Go)" },
  "syn-10000/default": { then: 0.61, ref: 12.5, refName: "nixpkgs flatten_references_graph" },
  "syn-30000/default": { then: 0.9, ref: 199, refName: "nixpkgs flatten_references_graph" },
  "syn-100000/default": { then: 2.61, ref: 600, refName: "nixpkgs (killed at 600 s)" },
  "syn-100000/subcomponent_out": { then: 1.86, ref: 7.0, refName: "nixpkgs flatten_references_graph" },
  "syn-100000/split_paths": { then: 1.53, ref: 6.8, refName: "nixpkgs flatten_references_graph" },
  "syn-10000/auto-layer": { then: 0.5, ref: 0.36, refName: "auto-layer.py" },
  "archive-all/auto-layer": { then: 1.09, ref: 2.67, refName: "auto-layer.py" },
  "syn-100000/auto-layer": { then: 1.93, ref: 5.76, refName: "auto-layer.py" },
  "syn-10000/nixery": { then: 0.49, ref: 0.25, refName: "Nixery (Go)" },
  "archive-all/nixery": { then: 1.31, ref: 2.32, refName: "Nixery (Go)" },
  "syn-100000/nixery": { then: 1.59, ref: 3.09, refName: "Nixery (Go)" },
};

/** The 5-path closure of the start-up rows: glibc <- bash, lib <- app <- env. */
const storePath = (letter, name) => `/nix/store/${letter.repeat(32)}-${name}`;
const tiny = [
  { path: storePath("a", "glibc"), narSize: 100, references: [] },
  { path: storePath("b", "bash"), narSize: 200, references: [storePath("a", "glibc")] },
  { path: storePath("c", "lib"), narSize: 300, references: [storePath("a", "glibc")] },
  { path: storePath("d", "app"), narSize: 400, references: [storePath("c", "lib"), storePath("b", "bash")] },
  { path: storePath("e", "env"), narSize: 50, references: [storePath("d", "app")] },
];

function synthetic(n) {
  const out = syntheticClosure(n);
  if (out === undefined) throw new Error(`gen-nix-graph.py ${n} failed`);
  return out;
}

/**
 * nixpkgs' other two pipelines as issue 17 (and bench/pipeline.bench.mjs) ran
 * them: subcomponent_out of the first root (the first entry nothing
 * references), split_paths of the 11th most referenced path.
 * @param {string} file
 * @returns {[string, string[]][]}
 */
function referencePipelines(file) {
  const { firstRoot, eleventh } = referencePipelineSeeds(JSON.parse(readFileSync(file, "utf8")));
  return [
    ["subcomponent_out", ["--pipeline", JSON.stringify([["subcomponent_out", [firstRoot]]])]],
    ["split_paths", ["--pipeline", JSON.stringify([["split_paths", [eleventh]]])]],
  ];
}

/** One process under GNU time: wall, cpu (user + system) seconds, peak MiB. */
function timed(argv) {
  const r = spawnSync(time, ["-f", "STRATA_TIME %e %U %S %M", ...argv], { maxBuffer: 1 << 30, encoding: "utf8" });
  const line = r.stderr.split("\n").find((l) => l.startsWith("STRATA_TIME "));
  if (r.status !== 0 || line === undefined) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr.slice(0, 500)}`);
  const [wall, user, sys, kb] = line.split(" ").slice(1).map(Number);
  return { wall, cpu: user + sys, peakMiB: kb / 1024, out: r.stdout };
}

/**
 * `loop` runs of one command in a row under one GNU time (a shell loop, its
 * output discarded), per run: GNU time's 10 ms resolution divided by `loop`,
 * for commands that take a few tens of milliseconds. The shell adds about a
 * millisecond of CPU per run, to every command alike.
 */
function timedLoop(argv, loop) {
  const t = timed(["sh", "-c", `i=0; while [ $i -lt ${loop} ]; do "$@" >/dev/null || exit 1; i=$((i+1)); done`, "sh", ...argv]);
  return { wall: t.wall / loop, cpu: t.cpu / loop, peakMiB: t.peakMiB, out: "" };
}

/** Medians of `runs` runs of each command, taken in turn (A B C A B C ...); `loop` > 1: see timedLoop. */
function inTurn(commands, n = runs, loop = 1) {
  const samples = commands.map(() => []);
  for (let i = 0; i < n + 1; i++) {
    commands.forEach((argv, k) => {
      const t = loop > 1 ? timedLoop(argv, loop) : timed(argv);
      if (i > 0) samples[k].push(t); // the first round warms the page cache
    });
  }
  return samples.map((s) => ({
    wall: median(s.map((t) => t.wall)),
    cpu: median(s.map((t) => t.cpu)),
    peakMiB: median(s.map((t) => t.peakMiB)),
    out: s[0].out,
  }));
}

const node = [process.execPath, "-e", "0"];
const strata = (c, args) => [process.execPath, c, ...args];

const render = process.argv.includes("--render");
let startRows, e2eRows, readRows, million, load;
if (render) {
  // Re-render bench/results/speed.md from speed.json (after editing the text below), without measuring.
  const j = JSON.parse(readFileSync(join(root, "bench", "results", "speed.json"), "utf8"));
  ({ startRows, readRows, million, load } = j);
  e2eRows = j.e2eRows.map((r) => ({ ...r, key: `${r.input}/${r.strategy}` }));
} else {
  ({ startRows, e2eRows, readRows, million } = await measureAll());
  load = loadavg();
}

async function measureAll() {
  // ---- start-up -------------------------------------------------------------------
  const dir = join(tmpdir(), "strata-bench");
  mkdirSync(dir, { recursive: true });
  const five = join(dir, "five-paths.json");
  writeFileSync(five, JSON.stringify(tiny));
  const startCases = [
    ["--version", ["--version"]],
    ["--help", ["--help"]],
    ["layer, 5 paths (default pipeline)", ["layer", five]],
    ["layer --strategy auto-layer, 5 paths", ["layer", five, "--strategy", "auto-layer"], "start-5/auto-layer"],
    ["layer --strategy nixery, 5 paths", ["layer", five, "--strategy", "nixery"], "start-5/nixery"],
  ];
  const startRows = [];
  for (const [name, args, key] of startCases) {
    const cmds = [strata(cli, args), node];
    if (baseCli) cmds.push(strata(baseCli, args));
    const [a, n, b] = inTurn(cmds, Math.max(runs, 7), START_LOOP);
    startRows.push({ name, key, wall: a.wall, cpu: a.cpu, peakMiB: a.peakMiB, nodeWall: n.wall, nodeCpu: n.cpu, baseWall: b?.wall, baseCpu: b?.cpu });
  }

  // ---- end to end -----------------------------------------------------------------
  const inputs = [
    { name: "syn-10000", file: synthetic(10000) },
    { name: "syn-30000", file: synthetic(30000), only: ["default"] },
    { name: "archive-all", file: join(shared, "data", "debian-bookworm", "archive-all.json.gz") },
    { name: "syn-100000", file: synthetic(100000), pipelines: true },
  ];
  /** @type {[string, string[]][]} */
  const planCases = [
    ["default", []],
    ["auto-layer", ["--strategy", "auto-layer", "--format", "auto-layer", "--max-layers", "100"]],
    ["nixery", ["--strategy", "nixery", "--budget", "94"]],
  ];
  const e2eRows = [];
  for (const input of inputs) {
    const cases = planCases.filter(([strategy]) => input.only === undefined || input.only.includes(strategy));
    if (input.pipelines) cases.push(...referencePipelines(input.file));
    for (const [strategy, extra] of cases) {
      const args = ["layer", input.file, ...extra];
      const cmds = [strata(cli, args)];
      if (baseCli) cmds.push(strata(baseCli, args));
      const [a, b] = inTurn(cmds, input.name === "syn-10000" ? runs : Math.min(runs, 5));
      if (b !== undefined && a.out !== b.out) throw new Error(`${input.name} ${strategy}: output differs from the baseline's`);
      e2eRows.push({
        input: input.name,
        strategy,
        wall: a.wall,
        cpu: a.cpu,
        peakMiB: a.peakMiB,
        baseWall: b?.wall,
        baseCpu: b?.cpu,
        basePeakMiB: b?.peakMiB,
        sameOutput: b === undefined ? undefined : true,
        key: `${input.name}/${strategy}`,
      });
    }
  }

  // ---- the reader: warm in this process, cold in fresh processes (bench/reader-speed.mjs) ----
  const readRows = await measureReader(root, baseRoot, [inputs[0], inputs[3], inputs[2]], runs);

  // ---- 1M paths (optional) ------------------------------------------------------------
  let million;
  if (process.env.STRATA_BENCH_1M && existsSync(process.env.STRATA_BENCH_1M)) {
    const args = ["layer", process.env.STRATA_BENCH_1M];
    const a = timed(strata(cli, args));
    /** @type {{ wall: number, cpu: number, peakMiB: number, baseWall?: number, baseCpu?: number, basePeakMiB?: number, sameOutput?: boolean }} */
    const m = { wall: a.wall, cpu: a.cpu, peakMiB: a.peakMiB };
    million = m;
    if (baseCli) {
      const b = timed(strata(baseCli, args));
      m.baseWall = b.wall;
      m.baseCpu = b.cpu;
      m.basePeakMiB = b.peakMiB;
      m.sameOutput = a.out === b.out;
    }
  }
  return { startRows, e2eRows, readRows, million };
}

// ---- report ------------------------------------------------------------------------

/** Issue 17's own table, its rows filled from this run (e2eRows, startRows). */
function issueTable() {
  const g = (key) => {
    const [input, strategy] = key.split("/");
    const r = key.startsWith("start-5/") ? startRows.find((x) => x.key === key) : e2eRows.find((x) => x.input === input && x.strategy === strategy);
    return { i: ISSUE[key], now: r?.cpu };
  };
  const refText = (i) => (i.refName.includes("killed") ? `>${i.ref}` : `${i.ref}`);
  const ratio = (ref, t, killed) => (t === undefined ? "-" : `${killed ? ">" : ""}${f(ref / t, ref / t < 1 ? 2 : 1)}`);
  /** @type {[string, string, string[]][]} */
  const rows = [
    ["nixpkgs' default popularity pipeline", "10k / 30k / 100k paths", ["syn-10000/default", "syn-30000/default", "syn-100000/default"]],
    ["subcomponent_out, split_paths", "100k", ["syn-100000/subcomponent_out", "syn-100000/split_paths"]],
    ["auto-layer, limit 99", "10k / Debian archive / 100k", ["syn-10000/auto-layer", "archive-all/auto-layer", "syn-100000/auto-layer"]],
    ["Nixery, budget 94", "10k / Debian archive / 100k", ["syn-10000/nixery", "archive-all/nixery", "syn-100000/nixery"]],
    ["start-up on a 5-path closure", "auto-layer / Nixery", ["start-5/auto-layer", "start-5/nixery"]],
  ];
  return rows.map(([what, input, keys]) => {
    const cells = keys.map(g).filter((c) => c.i !== undefined);
    const sep = keys.length === 2 && what.includes(",") ? ", " : " / ";
    const col = (fn) => cells.map(fn).join(sep);
    return `| ${what} | ${input} | ${col((c) => `${c.i.then}`)} | ${col((c) => f(c.now, c.now < 0.1 ? 3 : 2))} | ${col((c) => refText(c.i))} | ${col((c) => ratio(c.i.ref, c.i.then, c.i.refName.includes("killed")))} | ${col((c) => ratio(c.i.ref, c.now, c.i.refName.includes("killed")))} |`;
  });
}
const saved = render ? JSON.parse(readFileSync(join(root, "bench", "results", "speed.json"), "utf8")) : undefined;
const hasBase = render ? saved.baseline : Boolean(baseCli);
const runsShown = render ? saved.runs : runs;
const f = (x, d = 2) => (x === undefined ? "-" : x.toFixed(d));
const when = render ? JSON.parse(readFileSync(join(root, "bench", "results", "speed.json"), "utf8")).date : new Date().toISOString();
const lines = [
  "## speed: start-up, input, end to end (issue 17)",
  "",
  `Made by \`bench/speed.bench.mjs\`, ran ${when}, load average ${load.map((x) => x.toFixed(1)).join(" / ")} on ${cpus().length} cores. Whole processes (\`node dist/cli/main.js ...\`) under GNU time (start-up: each sample the mean of ${START_LOOP} runs in a row, for GNU time's 10 ms resolution), medians of ${runsShown}+ runs taken in turn with their baselines in the same run${hasBase ? " (previous build: the STRATA_BASELINE checkout)" : ""}; seconds, MiB. \"issue\" = the figure in issue 17's table (strata then / the reference program, wall seconds measured side by side on an otherwise idle 2-core VM of this class). Every command here is single-threaded, so on a busy machine its CPU time (user + system) is the best estimate of its wall time on an idle one; ratios against the references therefore use CPU time. Ratios above 1 mean strata is faster.`,
  "",
  "### Start-up",
  "",
  `| command | wall s | cpu s | peak MiB | \`node -e 0\` wall / cpu s | cpu / node's cpu${hasBase ? " | previous build wall / cpu s" : ""} | issue: strata then / reference |`,
  `| --- | ---: | ---: | ---: | ---: | ---: |${hasBase ? " ---: |" : ""} --- |`,
  ...startRows.map((r) => {
    const issue = r.key ? `${ISSUE[r.key].then} / ${ISSUE[r.key].ref} (${ISSUE[r.key].refName})` : "-";
    return `| ${r.name} | ${f(r.wall, 3)} | ${f(r.cpu, 3)} | ${f(r.peakMiB, 1)} | ${f(r.nodeWall, 3)} / ${f(r.nodeCpu, 3)} | ${f(r.cpu / r.nodeCpu)}x |${hasBase ? ` ${f(r.baseWall, 3)} / ${f(r.baseCpu, 3)} |` : ""} ${issue} |`;
  }),
  "",
  "### End to end",
  "",
  `| input | strategy | wall s | cpu s | peak MiB${hasBase ? " | previous build: wall / cpu s, peak MiB | previous cpu / now | same output" : ""} | issue: strata then / reference | reference / strata now (cpu) |`,
  `| --- | --- | ---: | ---: | ---: |${hasBase ? " ---: | ---: | --- |" : ""} ---: | ---: |`,
  ...e2eRows.map((r) => {
    const i = ISSUE[r.key];
    return `| ${r.input} | ${r.strategy} | ${f(r.wall)} | ${f(r.cpu)} | ${f(r.peakMiB, 0)} |${hasBase ? ` ${f(r.baseWall)} / ${f(r.baseCpu)}, ${f(r.basePeakMiB, 0)} | ${f(r.baseCpu / r.cpu)}x | ${r.sameOutput ? "yes" : "NO"} |` : ""} ${i ? `${i.then} / ${i.ref}` : "-"} | ${i ? `${f(i.ref / r.cpu, 1)}x` : "-"} |`;
  }),
  "",
  "default = nixpkgs' popularity pipeline (limit 99 layers); auto-layer = `--format auto-layer --max-layers 100` (limit 99); nixery = `--budget 94`; subcomponent_out = `--pipeline '[[\"subcomponent_out\", [R]]]'` with R the first entry nothing references, split_paths = `--pipeline '[[\"split_paths\", [P]]]'` with P the 11th most referenced path (issue 17's and bench/pipeline.bench.mjs's choice). syn-N = `gen-nix-graph.py N --seed 1`; archive-all = the Debian archive closure (63,667 paths, gzip).",
  "",
  "### Issue 17's table, re-measured",
  "",
  "The issue's rows: strata then and the reference as the issue gives them (wall seconds, idle machine), strata now as measured above (CPU seconds, median); ratios are the reference's time over strata's.",
  "",
  "| what | input | strata then | strata now | reference | ratio then | ratio now |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ...issueTable(),
  "",
  "### The streaming reader",
  "",
  ...readerTable(readRows, hasBase),
];
// Issue 17's aims, judged on this run (CPU time: see above). Causes and next steps: docs/speed.md.
const row = (input, strategy) => e2eRows.find((r) => r.input === input && r.strategy === strategy);
const start5 = startRows.find((r) => r.name.startsWith("layer, 5 paths"));
const verdict = (ok) => (ok ? "met" : "**missed**");
const aims = [
  ["start-up: `strata layer` on 5 paths within 1.5x of `node -e 0`", `${f(start5.cpu / start5.nodeCpu)}x (cpu)`, start5.cpu / start5.nodeCpu <= 1.5],
  ["`--version`, `--help` load almost nothing", "2 files (test/cli-bundle.test.ts)", true],
  ...["auto-layer", "nixery"].flatMap((s) => [
    [
      `${s} >= 2x the reference at 10k`,
      `${f(ISSUE[`syn-10000/${s}`].ref / row("syn-10000", s).cpu, 1)}x`,
      ISSUE[`syn-10000/${s}`].ref / row("syn-10000", s).cpu >= 2,
    ],
    [
      `${s} >= 10x the reference at 100k`,
      `${f(ISSUE[`syn-100000/${s}`].ref / row("syn-100000", s).cpu, 1)}x`,
      ISSUE[`syn-100000/${s}`].ref / row("syn-100000", s).cpu >= 10,
    ],
  ]),
  ["default pipeline at 10k < 0.2 s", `${f(row("syn-10000", "default").cpu)} s (cpu)`, row("syn-10000", "default").cpu < 0.2],
  [
    "peak memory at 10k < 60 MiB",
    `${f(Math.max(...e2eRows.filter((r) => r.input === "syn-10000").map((r) => r.peakMiB)), 0)} MiB`,
    Math.max(...e2eRows.filter((r) => r.input === "syn-10000").map((r) => r.peakMiB)) < 60,
  ],
  ...(million
    ? [
        [
          "1M paths, default pipeline, end to end < 20 s and < 1.5 GB",
          `${f(million.cpu, 1)} s (cpu), ${f(million.peakMiB, 0)} MiB`,
          million.cpu < 20 && million.peakMiB < 1536,
        ],
      ]
    : []),
  ...(hasBase
    ? [
        ...readRows.map((r) => [
          `streaming reader >= 5x faster (by CPU, ${r.input}, warm)`,
          `${f(r.baseStream.cpuMs / r.stream.cpuMs)}x`,
          r.baseStream.cpuMs / r.stream.cpuMs >= 5,
        ]),
        ...readRows
          .filter((r) => r.baseCold !== undefined)
          .map((r) => [
            `streaming reader >= 5x faster (by CPU, ${r.input}, cold: a fresh process's first parse)`,
            `${f(r.baseCold.cpuMs / r.cold.cpuMs)}x`,
            r.baseCold.cpuMs / r.cold.cpuMs >= 5,
          ]),
      ]
    : []),
];
lines.push(
  "",
  "### Issue 17's aims on this run",
  "",
  "| aim | measured | verdict |",
  "| --- | ---: | --- |",
  ...aims.map(([a, m, ok]) => `| ${a} | ${m} | ${verdict(ok)} |`),
  "",
  "The causes of each miss and the next steps: docs/speed.md.",
);
if (million) {
  lines.push(
    "",
    "### 1M paths (bench/gen-closure.mjs 1000000, 629 MB), default pipeline, one run",
    "",
    `wall ${f(million.wall, 1)} s, cpu ${f(million.cpu, 1)} s, peak ${f(million.peakMiB, 0)} MiB${million.baseWall !== undefined ? `; previous build: wall ${f(million.baseWall, 1)} s, cpu ${f(million.baseCpu, 1)} s, peak ${f(million.basePeakMiB, 0)} MiB, same output: ${million.sameOutput ? "yes" : "NO"}` : ""}.`,
  );
}
if (render) writeFileSync(join(root, "bench", "results", "speed.md"), lines.join("\n") + "\n");
else
  writeResults("speed", lines.join("\n") + "\n", { startRows, e2eRows: e2eRows.map(({ key, ...r }) => r), readRows, million, runs, baseline: hasBase, load });
console.log(lines.join("\n"));
