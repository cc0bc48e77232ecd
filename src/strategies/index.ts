// The strategy registry `strata layer --strategy NAME` picks from. Each
// strategy adds itself with one line here.
import type { Strategy } from "./types.js";
import { registerStrategySteps } from "./pipeline-steps.js";
import { pipelineStrategy, popularityStrategy } from "./popularity.js";
import { minPullStrategy } from "./min-pull/index.js";
import { autoLayerStrategy } from "./auto-layer/index.js";
import { nixeryStrategy } from "./nixery/index.js";

export type { Strategy, StrategyOptions, StrategyResult, Layers } from "./types.js";

export const strategies: Strategy[] = [pipelineStrategy, popularityStrategy, minPullStrategy, autoLayerStrategy, nixeryStrategy];

/** The strategy `layer` uses without --strategy: the document's pipeline, else nixpkgs' default. */
export const defaultStrategyName = "pipeline";

export function findStrategy(name: string): Strategy | undefined {
  return strategies.find((s) => s.name === name);
}

// The strategies are also pipeline steps: ["auto_layer", N], ["nixery", N], ["min_pull", N].
registerStrategySteps();
