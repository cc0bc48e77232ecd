#!/usr/bin/env node
// strata's command line: dispatches to one module per command.
// Exit codes: 0 success, 2 bad input or usage, 1 anything else (a bug).
//
// Start-up is most of a small run's time, so this module loads almost nothing
// by itself: the commands (and through them every strategy and kernel) are
// imported only when one is run. The build bundles the CLI (scripts/bundle-cli.mjs)
// and inlines the version and the main help text, so `--version` and `--help`
// read no other file; run from source, they are computed on demand.
import { setFlagsFromString } from "node:v8";
import { isStrataError, UsageError } from "../errors.js";
import type { CliIo, Command } from "./command.js";
import { lazyCommands } from "./commands/lazy.js";
import { helpText } from "./help.js";
import { palette } from "./messages.js";

// Replaced by the bundler (scripts/bundle-cli.mjs) with string literals; absent when run from source.
declare const __STRATA_VERSION__: string | undefined;
declare const __STRATA_HELP__: string | undefined;

async function version(): Promise<string> {
  if (typeof __STRATA_VERSION__ === "string") return __STRATA_VERSION__;
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

async function loadCommands(): Promise<readonly Command[]> {
  return (await import("./commands/index.js")).commands;
}

async function mainHelp(): Promise<string> {
  if (typeof __STRATA_HELP__ === "string") return __STRATA_HELP__;
  return helpText(await loadCommands());
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    if (name === "help" && rest[0]) return runCli([rest[0], "--help"], io);
    io.out(await mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "-V" || name === "--version") {
    io.out(`strata ${await version()}\n`);
    return 0;
  }
  try {
    const load = Object.hasOwn(lazyCommands, name) ? lazyCommands[name] : undefined;
    const command: Command | undefined = load !== undefined ? await load() : (await loadCommands()).find((c) => c.name === name);
    if (command === undefined) {
      throw new UsageError(`unknown command "${name}". Commands: ${(await loadCommands()).map((c) => c.name).join(", ")}`);
    }
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
  // A one-shot run executes most of its loops once, cold: with on-stack
  // replacement compiled on the main thread, a long loop switches to optimised
  // code as soon as it is ready instead of running on in the interpreter while
  // a background thread compiles it (about 5% less CPU at 10k paths, the same
  // at 1M; docs/speed.md, "small closures"). The other flag that
  // helps, --no-concurrent-recompilation, only works on node's command line.
  setFlagsFromString("--no-concurrent-osr");
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
