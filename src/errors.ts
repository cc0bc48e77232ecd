// Typed errors. Every failure a user can cause is a StrataError subclass with a
// stable `name` and `code`; the CLI maps them to exit code 2 and prints only the
// message (never a stack trace). Anything else is a bug: exit code 1.

export abstract class StrataError<C extends string = string> extends Error {
  /** Process exit code the CLI uses for this error. */
  abstract readonly exitCode: number;
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
  }
}

/** The closure document is malformed: bad JSON, bad fields, not a DAG, ... */
export class InputError extends StrataError<InputErrorCode> {
  override readonly name = "InputError";
  readonly exitCode = 2;
  constructor(
    code: InputErrorCode,
    message: string,
    /** The store path the problem is about, when there is one. */
    readonly path?: string,
  ) {
    super(code, message);
  }
}

export type InputErrorCode =
  | "invalid-json"
  | "unsupported-shape"
  | "bad-entry"
  | "bad-path"
  | "bad-nar-size"
  | "bad-references"
  | "duplicate-path"
  | "dangling-reference"
  | "cycle"
  | "too-large";

/** What a PipelineError is about. */
export type PipelineErrorCode =
  // the pipeline language (parsePipeline, checkPipeline, the interpreter)
  | "not-a-pipeline"
  | "not-a-step"
  | "unknown-step"
  | "arity"
  | "bad-argument"
  | "kind"
  | "missing-key"
  | "bare-graph"
  // strategy options and their arithmetic
  | "no-layers-left"
  | "bad-option"
  | "bad-budget"
  | "bad-root"
  | "bad-popularity"
  | "unreachable-paths"
  | "no-debug-info"
  | "min-pull";

/** A pipeline or strategy option is malformed, or fails where nixpkgs would fail. */
export class PipelineError extends StrataError<PipelineErrorCode> {
  override readonly name = "PipelineError";
  readonly exitCode = 2;
  constructor(
    code: PipelineErrorCode,
    message: string,
    /** Location of the step, e.g. `pipeline[1][2]`. */
    readonly location?: string,
  ) {
    super(code, message);
  }
}

/** Bad command-line usage or option values. */
export class UsageError extends StrataError<"usage"> {
  override readonly name = "UsageError";
  readonly exitCode = 2;
  constructor(message: string) {
    super("usage", message);
  }
}

/** Every code a StrataError can carry. */
export type StrataErrorCode = InputErrorCode | PipelineErrorCode | BuildErrorCode | "usage";

export function isStrataError(e: unknown): e is StrataError<StrataErrorCode> {
  return e instanceof StrataError;
}

/**
 * Building an image failed because of its inputs: a store path missing on disk
 * or outside the store directory, an unreadable or special file, a plan that
 * does not match the closure, a conf.json without a key, ... `path` names the
 * file or store path concerned.
 */
export class BuildError extends StrataError<BuildErrorCode> {
  override readonly name = "BuildError";
  readonly exitCode = 2;
  constructor(
    code: BuildErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(code, message);
  }
}

export type BuildErrorCode =
  | "missing-path"
  | "unreadable"
  | "special-file"
  | "file-changed"
  | "outside-store-dir"
  | "plan-mismatch"
  | "bad-conf"
  | "missing-key"
  | "bad-customisation-layer"
  | "bad-base-image"
  | "bad-option"
  | "output";

/**
 * A registry refused or could not be reached: bad credentials, a missing tag,
 * a protocol error, or a network failure that outlasted the retries.
 */
export class RegistryError extends StrataError {
  override readonly name = "RegistryError";
  readonly exitCode = 2;
  constructor(
    code: "auth" | "not-found" | "network" | "protocol" | "refused",
    message: string,
    /** HTTP status, when the registry answered. */
    readonly status?: number,
  ) {
    super(code, message);
  }
}
