#!/usr/bin/env node
// strata's command line: dispatches to one module per command.
// Exit codes: 0 success, 2 bad input or usage, 1 anything else (a bug).
import { readFileSync } from "node:fs";
import { isStrataError, UsageError } from "../errors.js";
import type { CliIo, Command } from "./command.js";
import { commands } from "./commands/index.js";
import { palette } from "./messages.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function mainHelp(): string {
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

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    if (name === "help" && rest[0]) return runCli([rest[0], "--help"], io);
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "-V" || name === "--version") {
    io.out(`strata ${version()}\n`);
    return 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  try {
    if (command === undefined) throw new UsageError(`unknown command "${name}". Commands: ${commands.map((c) => c.name).join(", ")}`);
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (e) {
    if (isStrataError(e)) {
      io.err(`${palette(io, "stderr").red("strata:")} ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`strata: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  stdoutIsTty: process.stdout.isTTY === true,
  stderrIsTty: process.stderr.isTTY === true,
  env: process.env,
};

// Run when executed directly (not when imported by tests).
const invoked = process.argv[1] ? new URL(`file://${process.argv[1]}`).pathname : "";
if (invoked.endsWith("/cli/main.js") || invoked.endsWith("/bin/strata") || invoked.endsWith("/strata")) {
  runCli(process.argv.slice(2), processIo).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`strata: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
