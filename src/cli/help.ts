// The main `strata --help` text. Its own module so the CLI bundler
// (scripts/bundle-cli.mjs) can render it at build time and inline it.
import type { Command } from "./command.js";

/** The main help text for a command list (the bundler inlines its result). */
export function helpText(commands: readonly Pick<Command, "name" | "summary">[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "strata: plan container-image layers for Nix closures",
    "",
    "Usage: strata <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show help (also 'strata <command> --help')",
    "  -V, --version  print the version",
    "",
    "Exit codes: 0 success, 2 bad input or usage, 1 internal error.",
    "",
  ].join("\n");
}
