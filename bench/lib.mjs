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
