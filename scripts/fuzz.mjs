#!/usr/bin/env node
// The long fuzz run: the fuzz, differential and property tests with their case
// counts multiplied (STRATA_FUZZ_SCALE, default 20: 2,000,000 reader inputs,
// 2,000,000 pipelines, 200,000 graphs, min-pull's properties 20x), with fresh
// random seeds (STRATA_FUZZ_RANDOM=1; `npm test` uses fixed ones). Extra
// arguments go to vitest, e.g. `-t min-pull`; set STRATA_FUZZ_SEED (or
// STRATA_SEED) to replay a run. Every failure prints its seed and the command
// that replays it.
import { spawnSync } from "node:child_process";

const scale = process.env.STRATA_FUZZ_SCALE ?? "20";
const files = ["test/fuzz.test.ts", "test/differential.test.ts", "test/property.test.ts", "test/min-pull.test.ts", "test/min-pull-planner.test.ts"];
console.log(`strata fuzz: STRATA_FUZZ_SCALE=${scale}${process.env.STRATA_SEED ? ` STRATA_SEED=${process.env.STRATA_SEED}` : ""}`);
const r = spawnSync("npx", ["vitest", "run", ...files, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, STRATA_FUZZ_SCALE: scale, STRATA_FUZZ_RANDOM: "1" },
});
process.exit(r.status ?? 1);
