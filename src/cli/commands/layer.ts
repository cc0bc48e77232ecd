// `strata layer INPUT`: what nixpkgs' flatten_references_graph prints, or
// another strategy's layers with --strategy, in one of several formats.
import { UsageError } from "../../errors.js";
import { formatDebug, layerDebug } from "../../format/debug.js";
import { checkExactCover, formatNix2Container } from "../../format/nix2container.js";
import { formatPipeline, pipelineForPlan } from "../../format/pipeline.js";
import { formatLayersIndented } from "../../format/python-json.js";
import { Closure } from "../../graph/closure.js";
import { writeFileAtomic } from "../../io/node.js";
import type { BackendName } from "../../kernels/index.js";
import { layersForDocument } from "../../pipeline/index.js";
import { strategyRegistry } from "../../strategies/index.js";
import { parseCommandArgs, type CliIo, type Command } from "../command.js";
import { planOptionSpecsFor, planOptionsHelpText, runPlan, setupPlan, type Planned } from "../plan.js";

export { readPipelineArgument } from "../plan.js";

/** Formats every strategy has; a strategy's own formats come on top (auto-layer's debug wins for auto-layer). */
export const commonFormats = ["nixpkgs", "nix2container", "pipeline", "debug"] as const;

const help = () => `Usage: strata layer INPUT [options]

Plans the store-path layers of an image. By default byte-identical to nixpkgs'
flatten_references_graph (dockerTools' layeringPipeline). INPUT is a closure
document: the .attrs.json nixpkgs passes ({graph, pipeline, exclude_paths}),
an exportReferencesGraph list, or nix path-info --json output; "-" reads
stdin; gzip is detected by content.

The pipeline strategy (default) runs the document's pipeline, else nixpkgs'
default [["popularity_contest"], ["limit_layers", 99]].

Output:
  --format NAME           nixpkgs (default): the layers JSON nixpkgs prints,
                            the store layers of streamLayeredImage
                          nix2container: the layersFile of nix2container #220
                            (every path of the closure exactly once, checked)
                          pipeline: a nixpkgs layeringPipeline that makes
                            stock nixpkgs produce exactly this plan
                          debug: per layer its paths, size, closure size and
                            the paths and layers that use it (JSON)
                          auto-layer, debug (--strategy auto-layer): auto-layer.py's
                            stdout and DEBUG output; nixery (--strategy nixery):
                            Nixery's {contents, mergeRating, hash} list
  -o, --output FILE       write to FILE atomically (no partial file on failure)

${planOptionsHelpText()}

Strategies:
${strategyRegistry
  .all()
  .map((s) => `  ${s.name.padEnd(12)} ${s.summary}`)
  .join("\n")}

Examples:
  strata layer .attrs.json
  strata layer closure.json.gz --runtime docker --from-image-layers 3 --reserve 10 -v
  strata layer closure.json --strategy auto-layer --format nix2container -o layers.json
  strata layer closure.json --strategy min-pull --previous last-layers.json --max-layer-size 500M
  strata layer closure.json --strategy nixery --popularity popularity.json --root /nix/store/...-app
  strata layer closure.json --group 'python=python3*:deps' --heavy 200M --order stable-first
  strata layer closure.json --strategy auto-layer --format pipeline -o pipeline.json
  nix path-info --json --recursive ./result | strata layer - --strategy min-pull

Exit codes: 0 layers written, 2 bad input, options, pipeline or a plan the
format cannot express (nothing on stdout, no file), 1 internal error.
`;

export const layerCommand: Command = {
  name: "layer",
  summary: "plan image layers (nixpkgs layeringPipeline byte for byte, or another strategy)",
  get help() {
    return help();
  },
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("layer", args, {
      ...planOptionSpecsFor(undefined, "layer"),
      format: { type: "string" },
      output: { type: "string", short: "o" },
    });
    if (positionals.length !== 1) throw new UsageError(`layer: expected one INPUT (a file or "-"), got ${positionals.length}. See 'strata layer --help'.`);
    const setup = await setupPlan("layer", values, io);
    const format = stringOption(values.format) ?? "nixpkgs";
    const own = setup.strategy.formats?.[format];
    if (own === undefined && !(commonFormats as readonly string[]).includes(format)) {
      const known = [...new Set([...commonFormats, ...Object.keys(setup.strategy.formats ?? {})])];
      throw new UsageError(`layer: strategy ${setup.strategy.name} has no format "${format}". Formats: ${known.join(", ")}`);
    }
    const planned = await runPlan(positionals[0], setup);
    let text: string;
    if (own !== undefined) {
      if (planned.composite || planned.result === undefined) {
        throw new UsageError(
          `layer: --format ${format} shows ${setup.strategy.name}'s own result; it cannot describe a plan changed by --group/--heavy/--order`,
        );
      }
      text = own(planned.result);
    } else {
      text = formatPlan(format, planned, io);
    }
    const output = stringOption(values.output);
    if (output !== undefined) await writeFileAtomic(output, text);
    else io.out(text);
    return 0;
  },
};

/** The common formats. */
export function formatPlan(format: string, planned: Planned, io: CliIo): string {
  const { doc, layers, setup } = planned;
  switch (format) {
    case "nix2container":
      checkExactCover(doc, layers, planned.excluded);
      return formatNix2Container(layers);
    case "pipeline": {
      const made = pipelineForPlan(doc, layers);
      if (made.removed.length > 0) {
        setup.msg.warn(
          `${made.removed.length} path${made.removed.length === 1 ? "" : "s"} of the closure ${made.removed.length === 1 ? "is" : "are"} in no layer of the plan (e.g. ${made.removed[0]}); the pipeline removes ${made.removed.length === 1 ? "it" : "them"} (remove_paths), so the image will not contain ${made.removed.length === 1 ? "it" : "them"}`,
        );
      }
      // Proof for this plan: nixpkgs' semantics (strata's pipeline engine) must give it back exactly.
      const back = layersForDocument(doc, { pipeline: made.pipeline, kernels: setup.kernels });
      if (JSON.stringify(back) !== JSON.stringify(layers)) {
        throw new Error("--format pipeline: the generated pipeline does not reproduce the plan (a strata bug; please report it)");
      }
      if (setup.verbose) {
        setup.msg.info(
          `pipeline: ${made.pipeline.length} steps (${made.layerBits} layer-index bits, ${made.positionBits} position bits); checked: it reproduces the plan`,
        );
      }
      void io;
      return formatPipeline(made.pipeline);
    }
    case "debug":
      return formatDebug(layerDebug(Closure.fromDocument(doc, { exclude: planned.excluded }), layers));
    default:
      return formatLayersIndented(layers);
  }
}

/** parseArgs values of `type: "string"` options (the shared parser returns them untyped). */
export function stringOption(v: string | boolean | (string | boolean)[] | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function parseBackend(command: string, value: string | undefined): BackendName {
  if (value === undefined) return "wasm";
  if (value !== "wasm" && value !== "ts") throw new UsageError(`${command}: --backend must be wasm or ts, got "${value}"`);
  return value;
}
