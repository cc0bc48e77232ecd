// Strategy planners for evaluations, as `strata evaluate` builds them: a plain
// strategy plans each version on its own; "NAME+previous" shows a stateful
// strategy (min-pull) its previous plan and the history of the series;
// "NAME@stable-first" reorders its layers by change probability.
// Platform-neutral: the CLI, workers, the web page and the benches share it, so
// every front end prices plans the same way.
import type { Planner } from "./evaluate.js";
import type { ClosureDocument } from "../graph/document.js";
import { UsageError } from "../errors.js";
import { strategyRegistry } from "../strategies/index.js";
import type { StrategyOptions } from "../strategies/types.js";
import { orderStableFirst } from "../strategies/order.js";

export function strategyPlanner(spec: string, base: StrategyOptions): Planner {
  let name = spec;
  const stableFirst = name.endsWith("@stable-first");
  if (stableFirst) name = name.slice(0, -"@stable-first".length);
  const stateful = name.endsWith("+previous");
  if (stateful) name = name.slice(0, -"+previous".length);
  const strategy = strategyRegistry.named(name);
  const history: ClosureDocument[] = [];
  return {
    name: spec,
    plan(doc, previous) {
      const options: StrategyOptions = stateful && previous ? { ...base, previous: previous.layers, history: [...history] } : base;
      if (stateful) history.push(doc);
      const layers = strategy.plan(doc, options).layers;
      return stableFirst ? orderStableFirst(doc, layers) : layers;
    },
  };
}

/** A pipeline compared as a planner (`strata evaluate --pipeline P`). */
export function pipelinePlanner(name: string, pipeline: unknown, base: StrategyOptions = {}): Planner {
  const strategy = strategyRegistry.all().find((s) => s.takesPipeline === true);
  if (strategy === undefined) throw new UsageError("no strategy that runs pipelines is registered");
  return { name, plan: (doc) => strategy.plan(doc, { ...base, pipeline }).layers };
}
