// strata's strategies, in the order `--help`, evaluations and the web page list
// them. Adding a strategy: its folder, and its line here (docs/strategies.md).
import type { AnyStrategy } from "./types.js";
import { pipelineStrategy, popularityStrategy } from "./popularity.js";
import { minPullStrategy } from "./min-pull/index.js";
import { autoLayerStrategy } from "./auto-layer/index.js";
import { nixeryStrategy } from "./nixery/index.js";

// One strategy a line, so adding one is a one-line change here (plus its import).
// prettier-ignore
export const builtinStrategies: readonly AnyStrategy[] = [
  pipelineStrategy,
  popularityStrategy,
  minPullStrategy,
  autoLayerStrategy,
  nixeryStrategy,
];
