// The strategy registry: which strategies a front end offers, by name, and the
// pipeline steps they contribute. No side effects at import; the composition
// root (index.ts) builds the one the CLI, workers and the web page share.
import { ExtensionRegistry, type PipelineExtension } from "../pipeline/extensions.js";
import { UsageError } from "../errors.js";
import type { AnyStrategy, OptionDescriptor } from "./types.js";

export class StrategyRegistry {
  private readonly list: AnyStrategy[] = [];

  /**
   * @param extensions where the strategies' pipeline steps are registered
   * @param stepsOf the steps a strategy contributes (pipeline-steps.ts)
   */
  constructor(
    strategies: readonly AnyStrategy[],
    readonly extensions: ExtensionRegistry = new ExtensionRegistry(),
    private readonly stepsOf: (strategy: AnyStrategy, registry: StrategyRegistry) => readonly PipelineExtension[] = () => [],
  ) {
    for (const s of strategies) this.register(s);
  }

  /** Adds a strategy (and its pipeline step); names are unique. */
  register(strategy: AnyStrategy): this {
    if (this.get(strategy.name) !== undefined) throw new Error(`strategy "${strategy.name}" is registered twice`);
    this.list.push(strategy);
    for (const step of this.stepsOf(strategy, this)) this.extensions.register(step);
    return this;
  }

  get(name: string): AnyStrategy | undefined {
    return this.list.find((s) => s.name === name);
  }

  /** The strategy of that name, or a UsageError listing the known ones. */
  named(name: string, prefix = ""): AnyStrategy {
    const s = this.get(name);
    if (s === undefined) throw new UsageError(`${prefix}unknown strategy "${name}". Strategies: ${this.names().join(", ")}`);
    return s;
  }

  /** In registration order (the order help texts and evaluations list them). */
  all(): readonly AnyStrategy[] {
    return this.list;
  }

  names(): string[] {
    return this.list.map((s) => s.name);
  }

  /** Strategies compared by name in evaluations (not those that run a given pipeline). */
  comparable(): AnyStrategy[] {
    return this.list.filter((s) => s.takesPipeline !== true);
  }

  /** In help order: by help.position, then registration order. */
  inHelpOrder(): AnyStrategy[] {
    return this.list
      .map((s, i) => ({ s, i }))
      .sort((a, b) => (a.s.help?.position ?? 0) - (b.s.help?.position ?? 0) || a.i - b.i)
      .map(({ s }) => s);
  }

  /** Every strategy-owned command-line option, in help order, with its owner. */
  optionDescriptors(): { readonly strategy: AnyStrategy; readonly option: OptionDescriptor<unknown> }[] {
    return this.inHelpOrder().flatMap((s) => (s.options ?? []).map((option: OptionDescriptor<unknown>) => ({ strategy: s, option })));
  }

  /** The strategies that read a flag (owners and sharers). */
  accepting(flag: string): AnyStrategy[] {
    return this.list.filter((s) => (s.options ?? []).some((o: OptionDescriptor<unknown>) => o.flag === flag));
  }
}
