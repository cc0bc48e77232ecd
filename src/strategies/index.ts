// The composition root of strategies: the registry every front end (CLI,
// workers, the web page, evaluate) reads, with the strategies' pipeline steps
// derived from it into the shared extension registry. Nothing else registers
// steps; importing registry.ts, types.ts or a strategy has no side effect.
import { pipelineExtensions } from "../pipeline/extensions.js";
import { builtinStrategies } from "./builtin.js";
import { groupsStep, strategySteps } from "./pipeline-steps.js";
import { StrategyRegistry } from "./registry.js";
import type { AnyStrategy } from "./types.js";

export type { Strategy, StrategyOptions, StrategyResult, Layers, AnyStrategy, OptionDescriptor } from "./types.js";
export { StrategyRegistry } from "./registry.js";

/** The shared registry: the built-in strategies; `strategyRegistry.register(s)` adds one. */
export const strategyRegistry = new StrategyRegistry(builtinStrategies, pipelineExtensions, strategySteps);
pipelineExtensions.register(groupsStep(strategyRegistry));

/** The extension registry with the strategies' steps (the one to parse pipelines with). */
export { pipelineExtensions };

/** The registered strategies (a live view: strategies registered later appear too). */
export const strategies: readonly AnyStrategy[] = strategyRegistry.all();

/** The strategy `layer` uses without --strategy: the document's pipeline, else nixpkgs' default. */
export const defaultStrategyName = "pipeline";

/** nixpkgs' default, the baseline reports compare against. */
export const baselineStrategyName = "popularity";

export function findStrategy(name: string): AnyStrategy | undefined {
  return strategyRegistry.get(name);
}
