// Every CLI command, in the order `strata --help` lists them.
import type { Command } from "../command.js";
import { buildCommand } from "./build.js";
import { checkCommand } from "./check.js";
import { dotCommand } from "./dot.js";
import { evaluateCommand } from "./evaluate.js";
import { explainCommand } from "./explain.js";
import { fleetCommand } from "./fleet.js";
import { layerCommand } from "./layer.js";
import { popularityCommand } from "./popularity.js";
import { pushCommand } from "./push.js";
import { reportCommand } from "./report.js";

export const commands: Command[] = [
  layerCommand,
  explainCommand,
  dotCommand,
  reportCommand,
  popularityCommand,
  checkCommand,
  evaluateCommand,
  buildCommand,
  pushCommand,
  fleetCommand,
];
