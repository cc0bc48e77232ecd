// Messages on stderr: warnings, notes and --verbose details, coloured only on
// a terminal and never when NO_COLOR is set (https://no-color.org), silenced
// by --quiet. Data never goes through here (stdout stays clean for pipes).
import type { CliIo } from "./command.js";

export interface Messages {
  warn(text: string): void;
  /** A result worth reading (e.g. min-pull's objective); --quiet hides it. */
  note(text: string): void;
  /** --verbose details (the caller decides whether to call). */
  info(text: string): void;
}

export interface Palette {
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly green: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const plain = (s: string) => s;
const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;

/** Colours for a stream: only when it is a terminal and NO_COLOR is unset or empty. */
export function palette(io: CliIo, stream: "stdout" | "stderr"): Palette {
  const tty = stream === "stdout" ? io.stdoutIsTty : io.stderrIsTty;
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== "";
  if (!tty || noColor) return { red: plain, yellow: plain, green: plain, dim: plain, bold: plain };
  return { red: sgr("31"), yellow: sgr("33"), green: sgr("32"), dim: sgr("2"), bold: sgr("1") };
}

export function messages(io: CliIo, quiet: boolean): Messages {
  const c = palette(io, "stderr");
  return {
    warn: (text) => {
      if (!quiet) io.err(`strata: ${c.yellow("warning")}: ${text}\n`);
    },
    note: (text) => {
      if (!quiet) io.err(`strata: ${text}\n`);
    },
    info: (text) => {
      if (!quiet) io.err(`strata: ${c.dim(text)}\n`);
    },
  };
}
