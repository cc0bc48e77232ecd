// The shape of a CLI command. Data goes to `out` (stdout), messages to `err`
// (stderr); commands return the process exit code or throw a StrataError.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.js";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly stdoutIsTty: boolean;
  readonly stderrIsTty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full help text, with examples. */
  readonly help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly positionals: string[];
}

/** node:util parseArgs with its errors turned into UsageError. */
export function parseCommandArgs(command: string, args: string[], options: Options): ParsedArgs {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs["values"], positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}. See 'strata ${command} --help'.`);
  }
}

export function parseIntegerOption(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${command}: --${name} expects a whole number, got "${value}"`);
  return Number(value);
}
