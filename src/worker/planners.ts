// Strategy planners for evaluations, as `strata evaluate` builds them: a plain
// strategy plans each version on its own; "NAME+previous" shows a stateful
// strategy (min-pull) its previous plan and the history of the series.
// Platform-neutral, so workers and the web page price plans exactly as the CLI.
import type { Planner } from "../evaluate/evaluate.js";
import type { ClosureDocument } from "../graph/document.js";
import { UsageError } from "../errors.js";
import { findStrategy, strategies } from "../strategies/index.js";
import type { StrategyOptions } from "../strategies/types.js";

export function strategyPlanner(spec: string, base: StrategyOptions): Planner {
  const stateful = spec.endsWith("+previous");
  const name = stateful ? spec.slice(0, -"+previous".length) : spec;
  const strategy = findStrategy(name);
  if (strategy === undefined) {
    throw new UsageError(`unknown strategy "${name}". Strategies: ${strategies.map((s) => s.name).join(", ")}`);
  }
  const history: ClosureDocument[] = [];
  return {
    name: spec,
    plan(doc, previous) {
      const options: StrategyOptions = stateful && previous ? { ...base, previous: previous.layers, history: [...history] } : base;
      if (stateful) history.push(doc);
      return strategy.plan(doc, options).layers;
    },
  };
}

/** A pipeline compared as a planner (`strata evaluate --pipeline P`). */
export function pipelinePlanner(name: string, pipeline: unknown, base: StrategyOptions = {}): Planner {
  const strategy = findStrategy("pipeline");
  if (strategy === undefined) throw new UsageError("the pipeline strategy is not registered");
  return { name, plan: (doc) => strategy.plan(doc, { ...base, pipeline }).layers };
}
