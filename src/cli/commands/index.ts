// Every CLI command, in the order `strata --help` lists them.
import type { Command } from "../command.js";
import { checkCommand } from "./check.js";
import { evaluateCommand } from "./evaluate.js";
import { layerCommand } from "./layer.js";
import { popularityCommand } from "./popularity.js";

export const commands: Command[] = [layerCommand, popularityCommand, checkCommand, evaluateCommand];
