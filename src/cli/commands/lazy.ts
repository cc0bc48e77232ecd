// Each command's module by name, imported only when that command runs, so a
// `strata layer` does not load (parse, compile) the image builder or the
// evaluator. index.ts stays the one ordered list of commands (help, tests);
// a command missing here still runs, through index.ts (test/cli-bundle.test.ts
// checks that every command is listed here too).
import type { Command } from "../command.js";

export const lazyCommands: Readonly<Record<string, () => Promise<Command>>> = {
  layer: async () => (await import("./layer.js")).layerCommand,
  explain: async () => (await import("./explain.js")).explainCommand,
  dot: async () => (await import("./dot.js")).dotCommand,
  report: async () => (await import("./report.js")).reportCommand,
  popularity: async () => (await import("./popularity.js")).popularityCommand,
  check: async () => (await import("./check.js")).checkCommand,
  evaluate: async () => (await import("./evaluate.js")).evaluateCommand,
  build: async () => (await import("./build.js")).buildCommand,
  push: async () => (await import("./push.js")).pushCommand,
  fleet: async () => (await import("./fleet.js")).fleetCommand,
};
