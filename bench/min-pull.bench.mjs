// min-pull's planning time on large synthetic closures
// (../shared/tools/gen-nix-graph.py N --seed 1; budget 99; graph already
// built), the aim of issue 17: 10k paths under 0.2 s, 100k under 1 s, 300k
// under 3 s, with the same plans.
//
// Side by side with a baseline in the same run: set STRATA_BENCH_BASELINE to
// the root of another strata checkout, built (e.g. `git worktree add
// /tmp/strata-main main && (cd /tmp/strata-main && npm ci)`). Each size plans
// with both builds, alternating, after a warm-up; the table gives medians and
// bests and says whether both builds made the same layers.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, writeResults } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");
const baselineRoot = process.env.STRATA_BENCH_BASELINE;
const sizes = (process.env.STRATA_BENCH_SIZES ?? "10000,100000,300000").split(",").map(Number);
const reps = Number(process.env.STRATA_BENCH_REPS ?? 5);

/** minPullLayers of one build, bound to a closure that build made (classes differ between builds). */
async function planner(dir, json) {
  const { readClosureDocument } = await import(join(dir, "dist/graph/document.js"));
  const { Closure } = await import(join(dir, "dist/graph/closure.js"));
  const { minPullLayers } = await import(join(dir, "dist/strategies/min-pull/index.js"));
  const closure = Closure.fromDocument(readClosureDocument(json));
  return { edges: closure.targets.length, plan: () => minPullLayers(closure, { budget: 99 }) };
}
const digest = (layers) => createHash("sha256").update(JSON.stringify(layers)).digest("hex").slice(0, 12);

const cache = join(tmpdir(), "strata-bench-graphs");
mkdirSync(cache, { recursive: true });
const started = new Date().toISOString();
const rows = [];
const json = { started, baseline: baselineRoot ?? null, reps, sizes: [] };
for (const n of sizes) {
  const file = join(cache, `syn-${n}.json`);
  if (!existsSync(file)) {
    const r = spawnSync("python3", [join(shared, "tools/gen-nix-graph.py"), String(n), "--seed", "1", "-o", file], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`bench: generator failed for ${n}`);
  }
  const input = JSON.parse(readFileSync(file, "utf8"));
  const builds = [{ name: "this build", ...(await planner(root, input)) }];
  if (baselineRoot) builds.push({ name: "baseline", ...(await planner(baselineRoot, input)) });
  const times = builds.map(() => []);
  const cpu = builds.map(() => []); // process CPU time (user + system, GC threads too): less inflated by a busy machine
  const results = builds.map((b) => b.plan()); // warm-up
  for (let i = 0; i < reps; i++) {
    builds.forEach((b, j) => {
      globalThis.gc?.();
      const c = process.cpuUsage();
      const t = performance.now();
      results[j] = b.plan();
      times[j].push(performance.now() - t);
      const d = process.cpuUsage(c);
      cpu[j].push((d.user + d.system) / 1000);
    });
  }
  const cells = builds.map((b, j) => ({
    build: b.name,
    medianMs: median(times[j]),
    minMs: Math.min(...times[j]),
    cpuMedianMs: median(cpu[j]),
    layers: results[j].layers.length,
    expectedBytes: results[j].expectedBytes,
    digest: digest(results[j].layers),
  }));
  json.sizes.push({ n, edges: builds[0].edges, builds: cells });
  const [mine, base] = cells;
  const s = (ms) => (ms / 1000).toFixed(2);
  rows.push(
    `| ${n.toLocaleString("en")} | ${builds[0].edges.toLocaleString("en")} | ${s(mine.medianMs)} (${s(mine.minMs)}) | ${s(mine.cpuMedianMs)} | ` +
      (base
        ? `${s(base.medianMs)} (${s(base.minMs)}) | ${s(base.cpuMedianMs)} | ${(base.medianMs / mine.medianMs).toFixed(2)}x | ${mine.digest === base.digest ? "yes" : `no (objective ${(mine.expectedBytes / base.expectedBytes).toFixed(4)}x)`} |`
        : "- | - | - | - |") +
      ` ${mine.layers} |`,
  );
  console.error(`min-pull: ${n} paths: ${cells.map((c) => `${c.build} ${c.medianMs.toFixed(0)} ms`).join(", ")}`);
}

const md = `## min-pull: planning time

Run ${started} by \`bench/min-pull.bench.mjs\` on ${cpus().length} x ${cpus()[0]?.model ?? "?"} (node ${process.version}).
Synthetic closures (\`gen-nix-graph.py N --seed 1\`), budget 99, graph already built: \`minPullLayers\` alone.
Seconds, median of ${reps} runs after a warm-up (best in brackets); the two builds alternate in one process.
"CPU s" is the median process CPU time (user + system, \`process.cpuUsage()\`) of the same runs: on a busy machine
it is inflated far less than the wall clock. The speed-up compares wall-clock medians.
${baselineRoot ? "Baseline: the build at `STRATA_BENCH_BASELINE` (see the bench's header)." : "No baseline in this run (set `STRATA_BENCH_BASELINE`)."}
"Same plan" compares the layers (paths and order) of both builds.

| paths | edges | this build, s | this build, CPU s | baseline, s | baseline, CPU s | speed-up | same plan | layers |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |
${rows.join("\n")}
`;
writeResults("min-pull", md, json);
console.error("min-pull: wrote bench/results/min-pull.md");
