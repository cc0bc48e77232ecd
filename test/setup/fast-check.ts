// Every vitest file starts here. fast-check properties run with one seed per
// run: STRATA_FUZZ_SEED (or STRATA_SEED) when given, a fixed seed in `npm test`
// (deterministic, so a clean clone passes or fails the same way every time),
// and a fresh one under `npm run fuzz` (STRATA_FUZZ_RANDOM=1). fast-check
// prints the seed of a failure; STRATA_FUZZ_SEED=<it> replays it.
import fc from "fast-check";
import { randomSeeds, runSeed } from "../helpers/fuzz.js";

// fast-check seeds are int32; `| 0` keeps the printed value replayable.
if (!randomSeeds() || process.env.STRATA_FUZZ_SEED || process.env.STRATA_SEED) fc.configureGlobal({ seed: runSeed() | 0 });
