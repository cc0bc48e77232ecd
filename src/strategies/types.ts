// What every layering strategy shares: it turns a closure document into an
// ordered list of layers (first = bottom), each an ordered list of paths.
// The order of paths inside a layer is part of the result: it decides the
// layer tarball's bytes and so its digest.
//
// A strategy describes itself (typed options and detail, its command-line
// options, default budget, whether it takes a previous plan or a pipeline, how
// it explains a path, its pipeline step), so the CLI, the worker, evaluate and
// the web page read the description instead of branching on its name. Adding a
// strategy: one folder exporting a `Strategy`, plus one line in builtin.ts
// (docs/strategies.md, "Adding a strategy").
import { PipelineError } from "../errors.js";
import type { Closure } from "../graph/closure.js";
import type { ClosureDocument } from "../graph/document.js";
import type { Kernels } from "../kernels/types.js";

export type Layers = string[][];

/** Options common to the strategies; each strategy's own options extend these. */
export interface StrategyOptions {
  /** Image layer limit as dockerTools' maxLayers (default 100). */
  readonly maxLayers?: number;
  /** Layers of the base image (fromImage), subtracted from the limit. */
  readonly fromImageLayers?: number;
  /** Store-path layers, when the caller fixed them (--budget, or a budget-derived limit). */
  readonly budget?: number;
  /** Paths that take part in planning but are removed from the output. */
  readonly exclude?: readonly string[];
  /** Root paths, when the strategy needs them (Nixery). */
  readonly roots?: readonly string[];
  readonly kernels?: Kernels;
  /**
   * The document's Closure (built without exclusions), when the caller has one
   * already: a strategy that needs it uses this one instead of building another.
   */
  readonly closure?: Closure;
  /** The previous build's layers (strategies with `takesPrevious`). */
  readonly previous?: Layers;
  /** Earlier closures of the image, oldest first (change model). */
  readonly history?: readonly ClosureDocument[];
  readonly volatility?: Readonly<Record<string, number>>;
  readonly changesPerUpdate?: number;
}

export interface StrategyResult<D = unknown> {
  readonly layers: Layers;
  /** Strategy-specific extra data (e.g. debug info), for --format outputs and explain. */
  readonly detail?: D;
}

/** A parsed command-line value, as node:util parseArgs returns it. */
export type OptionValue = string | boolean | (string | boolean)[];

/** What an option's parser may use: the command's name and file reading (the CLI's; none in a browser). */
export interface OptionContext {
  readonly command: string;
  /** Reads and parses a JSON file (gzip allowed); `what` names it in errors, e.g. "--popularity". */
  readonly readJson: (file: string, what: string) => Promise<unknown>;
  /** A pipeline argument: inline JSON or a file (a pipeline list, or a document with a "pipeline" key). */
  readonly readPipeline: (arg: string, what: string) => Promise<unknown>;
  /** Every parsed command-line value (an option may depend on a sibling, e.g. --lenient). */
  readonly values: Readonly<Record<string, OptionValue | undefined>>;
}

/** One command-line option a strategy owns. */
export interface OptionDescriptor<O> {
  /** The flag without dashes, e.g. "root" for --root. */
  readonly flag: string;
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  /** Its lines in the help text, already indented and wrapped as the help shows them. */
  readonly help: string;
  /**
   * Shared with the common options (e.g. --strict, which also governs
   * --group): other strategies accept the flag too, this one just reads it.
   */
  readonly shared?: boolean;
  /**
   * In a section without title (the common "Strategy:" block): the common
   * option whose help line it follows, e.g. "strategy".
   */
  readonly helpAfter?: string;
  /** Commands that accept it; default: every planning command (layer, explain, dot, report, ...). */
  readonly commands?: readonly string[];
  /** The option's value -> the strategy options it sets (may read files through the context). */
  parse(value: OptionValue, cx: OptionContext): Partial<O> | Promise<Partial<O>>;
}

/** A block of the planning commands' help text. */
export interface HelpSection {
  /** e.g. "Nixery (--strategy nixery)"; absent: the options join the common "Strategy:" block. */
  readonly title?: string;
  /** Text after the options, e.g. a note on how they combine. */
  readonly footer?: string;
  /** Sections are listed by position (then registry order); default 0. */
  readonly position?: number;
}

/** What explain knows about the path, for a strategy to add its own facts and reasons. */
export interface ExplainContext {
  readonly path: string;
  /** Bottom-first index of the path's layer; null when the plan leaves it out. */
  readonly layer: number | null;
  readonly closure: Closure;
  /** Rank of the path in popularity_contest order (1 = most popular). */
  readonly popularityRank: number;
  /** Adds a fact (a label and a value, shown as a row). */
  fact(label: string, value: string): void;
  /** Adds a sentence to the reasons. */
  why(sentence: string): void;
}

/** A strategy that is also a pipeline step, e.g. ["min_pull", budget]. */
export interface StepDescriptor<O> {
  /** Step name as written in a pipeline, e.g. "min_pull". */
  readonly name: string;
  /** What its one whole-number argument is, e.g. "layer budget". */
  readonly argument: string;
  /** The smallest argument accepted. */
  readonly min: number;
  /** The argument -> the strategy options. */
  options(n: number): O;
}

export interface Strategy<O extends StrategyOptions = StrategyOptions, D = unknown> {
  readonly name: string;
  readonly summary: string;
  plan(doc: ClosureDocument, options: O): StrategyResult<D>;
  /**
   * Output formats beyond the common ones (`nixpkgs`: the indented JSON list
   * nixpkgs' CLI prints), e.g. auto-layer's compact JSON or Nixery's
   * {contents, mergeRating, hash} list. Each returns the full stdout text.
   */
  readonly formats?: Readonly<Record<string, (result: StrategyResult<D>) => string>>;
  /** Command-line options only this strategy reads (after the common ones). */
  readonly options?: readonly OptionDescriptor<O>[];
  /** Where its options go in the help text. */
  readonly help?: HelpSection;
  /** Store-path layers when the user sets no limit; default: nixpkgs' arithmetic (99). */
  readonly defaultBudget?: { readonly layers: number; readonly why: string };
  /** It keeps a previous build's layers (`options.previous`): evaluate offers "NAME+previous". */
  readonly takesPrevious?: boolean;
  /** It runs a given pipeline (`options.pipeline`), so it is compared through pipelines, not by name. */
  readonly takesPipeline?: boolean;
  /** Its detail describes layers by position: explain drops it when the layers were reordered. */
  readonly detailByLayer?: boolean;
  /** Adds the strategy's own facts and reasons to an explanation. */
  explain?(detail: D, cx: ExplainContext): void;
  /** A line for stderr after planning (e.g. min-pull's objective), or undefined. */
  note?(result: StrategyResult<D>, options: O): string | undefined;
  /** Warnings for stderr found in the result. */
  warnings?(result: StrategyResult<D>): readonly string[];
  /** The strategy as a pipeline step. */
  readonly step?: StepDescriptor<O>;
}

/** A strategy of any options and detail, as registries and front ends hold them. */
// The option and detail types are erased at the registry: front ends pass options built from the
// descriptors and read detail only through the strategy's own functions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStrategy = Strategy<any, any>;

/** Declares a strategy with its option and detail types checked (identity at run time). */
export function defineStrategy<O extends StrategyOptions, D>(strategy: Strategy<O, D>): Strategy<O, D> {
  return strategy;
}

/**
 * nixpkgs' layer arithmetic: the store-path layers available when an image
 * may have `maxLayers` layers, one goes to the customisation layer and
 * `fromImageLayers` to the base image. nixpkgs fails the build when none is left
 * (a PipelineError "no-layers-left", its message prefixed with `who` when given).
 */
export function availableLayers(maxLayers = 100, fromImageLayers = 0, who?: string): number {
  const used = 1 + fromImageLayers;
  if (!(used < maxLayers)) {
    throw new PipelineError(
      "no-layers-left",
      `${who === undefined ? "" : `${who}: `}no layer left for store paths: maxLayers ${maxLayers} must exceed 1 (customisation layer) + ${fromImageLayers} (base image layers) = ${used}`,
    );
  }
  return maxLayers - used;
}
