// `strata popularity INPUT`: referencesByPopularity's order (closure-graph.py).
import { UsageError } from "../../errors.js";
import { Closure } from "../../graph/closure.js";
import { readClosureInput } from "../../io/node.js";
import { kernels } from "../../kernels/index.js";
import { referencesByPopularity } from "../../pipeline/index.js";
import { parseCommandArgs, type CliIo, type Command } from "../command.js";
import { parseBackend, stringOption } from "./layer.js";

const help = `Usage: strata popularity INPUT [--backend wasm|ts]

Prints every store path of the closure, most popular first, one per line:
byte-identical to nixpkgs' referencesByPopularity (closure-graph.py FILE graph).
Popularity of a path = the number of times it occurs in the tree unfolded from
the roots (paths nothing references), summed over it and its ancestors; ties by
package name (the path with its /nix/store/<hash> prefix moved to the end).
narSize is not needed. INPUT: {"graph": [...]} (.attrs.json), a bare
exportReferencesGraph list, or nix path-info --json; "-" = stdin; gzip ok.

Unlike closure-graph.py, there is no recursion limit (it fails on chains deeper
than ~990); a closure with a cycle is rejected (exit 2).

Example:
  strata popularity .attrs.json > paths.txt
`;

export const popularityCommand: Command = {
  name: "popularity",
  summary: "print referencesByPopularity's path order (closure-graph.py)",
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("popularity", args, { backend: { type: "string" } });
    if (positionals.length !== 1)
      throw new UsageError(`popularity: expected one INPUT (a file or "-"), got ${positionals.length}. See 'strata popularity --help'.`);
    const backend = parseBackend("popularity", stringOption(values.backend));
    const doc = await readClosureInput(positionals[0], { requireNarSize: false });
    const order = referencesByPopularity(Closure.fromDocument(doc), { kernels: kernels(backend) });
    io.out(order.join("\n") + "\n");
    return 0;
  },
};
