// Helpers shared by the bench scripts: timing and writing a bench's results
// in bench/run.mjs's convention (bench/results/<name>.md and <name>.json).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
const shared = fileURLToPath(new URL("../../shared/", import.meta.url));

/**
 * A synthetic Nix-like closure of n paths (gen-nix-graph.py from ../shared,
 * seed 1), generated once into $TMPDIR/strata-bench; undefined when the
 * generator fails.
 */
export function syntheticClosure(n) {
  const dir = join(tmpdir(), "strata-bench");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `syn${n}-seed1.json`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync("python3", [join(shared, "tools", "gen-nix-graph.py"), String(n), "--seed", "1", "-o", tmp], { stdio: "inherit" });
    if (r.status !== 0) return undefined;
    spawnSync("mv", [tmp, out]);
  }
  return out;
}

export function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs fn `reps` times after one warm-up: median and best wall ms, median CPU ms, last result. */
export async function measure(fn, reps) {
  let result = await fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < reps; i++) {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    result = await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(wall), minMs: Math.min(...wall), cpuMs: median(cpu), result };
}

/** Writes bench/results/<name>.md and <name>.json (the JSON gets name, date and Node version). */
export function writeResults(name, markdown, result) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.md`), markdown);
  writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ name, date: new Date().toISOString(), node: process.version, ...result }, null, 2) + "\n");
}

/**
 * The paths issue 17 and the nixpkgs reference runs seed the other two
 * pipelines with: the first entry nothing references (subcomponent_out) and
 * the 11th most referenced path (split_paths; ties by path).
 * @param {readonly { path: string, references: readonly string[] }[]} entries
 */
export function referencePipelineSeeds(entries) {
  const indeg = new Map();
  for (const e of entries) for (const r of e.references) if (r !== e.path) indeg.set(r, (indeg.get(r) ?? 0) + 1);
  const firstRoot = entries.find((e) => !indeg.has(e.path)).path;
  const popular = [...indeg].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return { firstRoot, eleventh: popular[Math.min(10, popular.length - 1)][0] };
}
