// `strata layer INPUT`: what nixpkgs' flatten_references_graph prints, or
// another strategy's layers with --strategy.
import { existsSync } from "node:fs";
import { UsageError } from "../../errors.js";
import { formatLayersIndented } from "../../format/python-json.js";
import { parseJsonText } from "../../graph/document.js";
import { readClosureInput, readTextInput, writeFileAtomic } from "../../io/node.js";
import type { BackendName } from "../../kernels/index.js";
import { kernels } from "../../kernels/index.js";
import { assertPipelineValid, parsePipeline, pipelineExtensions } from "../../pipeline/index.js";
import { defaultStrategyName, findStrategy, strategies } from "../../strategies/index.js";
import type { StrategyOptions } from "../../strategies/types.js";
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command } from "../command.js";

const help = `Usage: strata layer INPUT [options]

Plans the store-path layers of an image, byte-identical to nixpkgs'
flatten_references_graph (dockerTools' layeringPipeline). INPUT is a closure
document: the .attrs.json nixpkgs passes ({graph, pipeline, exclude_paths}),
an exportReferencesGraph list, or nix path-info --json output; "-" reads
stdin; gzip is detected by content.

The pipeline is the document's, else nixpkgs' default
[["popularity_contest"], ["limit_layers", 99]].

Options:
  --pipeline P            run pipeline P instead: inline JSON or a file (a
                          pipeline list, or a document with a "pipeline" key)
  --exclude PATH          exclude PATH before layering (repeatable; replaces
                          the document's exclude_paths)
  --max-layers M          nixpkgs' default pipeline for an image of at most M
                          layers: limit_layers M-1-B
  --from-image-layers B   layers of the base image (fromImage), default 0
  --lenient               "over" on a key the data does not have passes the
                          data through (nixpkgs: KeyError)
  --strategy NAME         ${strategies.map((s) => s.name).join(", ")} (default: ${defaultStrategyName})
  --format NAME           nixpkgs (default: the indented JSON nixpkgs prints)
                          or a format of the strategy
  --backend wasm|ts       graph kernels (default wasm)
  -o, --output FILE       write to FILE (atomically) instead of stdout

Strategies:
${strategies.map((s) => `  ${s.name.padEnd(12)} ${s.summary}`).join("\n")}

Examples:
  strata layer .attrs.json
  strata layer closure.json.gz --max-layers 125 --from-image-layers 3
  strata layer closure.json --pipeline '[["subcomponent_out", ["/nix/store/...-python3-3.12"]], ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 98]]]]]'
  strata check pipeline.json closure.json   (validate without running)

Exit codes: 0 layers printed, 2 bad input, pipeline or usage (nothing on stdout).
`;

export const layerCommand: Command = {
  name: "layer",
  summary: "plan image layers (nixpkgs layeringPipeline, byte for byte)",
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values: raw, positionals } = parseCommandArgs("layer", args, {
      pipeline: { type: "string" },
      exclude: { type: "string", multiple: true },
      "max-layers": { type: "string" },
      "from-image-layers": { type: "string" },
      lenient: { type: "boolean" },
      strategy: { type: "string" },
      format: { type: "string" },
      backend: { type: "string" },
      output: { type: "string", short: "o" },
    });
    const values = {
      pipeline: stringOption(raw.pipeline),
      exclude: raw.exclude === undefined ? undefined : (raw.exclude as string[]),
      "max-layers": stringOption(raw["max-layers"]),
      "from-image-layers": stringOption(raw["from-image-layers"]),
      lenient: raw.lenient === true,
      strategy: stringOption(raw.strategy),
      format: stringOption(raw.format),
      backend: stringOption(raw.backend),
      output: stringOption(raw.output),
    };
    if (positionals.length !== 1) throw new UsageError(`layer: expected one INPUT (a file or "-"), got ${positionals.length}. See 'strata layer --help'.`);
    const maxLayers = parseIntegerOption("layer", "max-layers", values["max-layers"]);
    const fromImageLayers = parseIntegerOption("layer", "from-image-layers", values["from-image-layers"]);
    if (values.pipeline !== undefined && (maxLayers !== undefined || fromImageLayers !== undefined)) {
      throw new UsageError("layer: --pipeline and --max-layers/--from-image-layers exclude each other (nixpkgs ignores maxLayers when a layeringPipeline is set; put limit_layers in the pipeline)");
    }
    if (fromImageLayers !== undefined && fromImageLayers < 0) throw new UsageError(`layer: --from-image-layers must be 0 or more, got ${fromImageLayers}`);
    const strategyName = values.strategy ?? defaultStrategyName;
    const strategy = findStrategy(strategyName);
    if (strategy === undefined) {
      throw new UsageError(`layer: unknown strategy "${strategyName}". Strategies: ${strategies.map((s) => s.name).join(", ")}`);
    }
    if (values.pipeline !== undefined && strategy.name !== "pipeline") {
      throw new UsageError(`layer: --pipeline applies to the pipeline strategy, not to ${strategy.name}`);
    }
    const format = values.format ?? "nixpkgs";
    const formatter = format === "nixpkgs" ? undefined : strategy.formats?.[format];
    if (format !== "nixpkgs" && formatter === undefined) {
      const known = ["nixpkgs", ...Object.keys(strategy.formats ?? {})];
      throw new UsageError(`layer: strategy ${strategy.name} has no format "${format}". Formats: ${known.join(", ")}`);
    }
    const backend = parseBackend("layer", values.backend);

    // The pipeline is read and parsed first: a broken pipeline fails before the closure is read.
    const pipelineJson = values.pipeline === undefined ? undefined : await readPipelineArgument(values.pipeline, "--pipeline");
    if (pipelineJson !== undefined) assertPipelineValid(parsePipeline(pipelineJson, { extensions: pipelineExtensions }), { lenient: values.lenient });
    const doc = await readClosureInput(positionals[0]);
    const options: { -readonly [K in keyof StrategyOptions]: StrategyOptions[K] } = { kernels: kernels(backend) };
    if (maxLayers !== undefined) options.maxLayers = maxLayers;
    if (fromImageLayers !== undefined) options.fromImageLayers = fromImageLayers;
    if (values.exclude !== undefined) options.exclude = values.exclude;
    if (doc.roots !== undefined) options.roots = doc.roots;
    if (pipelineJson !== undefined) options.pipeline = pipelineJson;
    if (values.lenient) options.lenient = true;
    let result;
    try {
      result = strategy.plan(doc, options);
    } catch (e) {
      if (e instanceof RangeError && /no layer left/.test(e.message)) throw new UsageError(`layer: ${e.message}`);
      throw e;
    }
    const text = formatter ? formatter(result) : formatLayersIndented(result.layers);
    if (values.output !== undefined) await writeFileAtomic(values.output, text);
    else io.out(text);
    return 0;
  },
};

/** parseArgs values of `type: "string"` options (the shared parser returns them untyped). */
export function stringOption(v: string | boolean | (string | boolean)[] | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function parseBackend(command: string, value: string | undefined): BackendName {
  if (value === undefined) return "wasm";
  if (value !== "wasm" && value !== "ts") throw new UsageError(`${command}: --backend must be wasm or ts, got "${value}"`);
  return value;
}

/**
 * A pipeline given on the command line: a file (JSON, gzip allowed) or inline
 * JSON. A document with a "pipeline" key (e.g. an .attrs.json) gives its pipeline.
 */
export async function readPipelineArgument(arg: string, what: string): Promise<unknown> {
  const trimmed = arg.trimStart();
  const inline = trimmed.startsWith("[") || trimmed.startsWith("{");
  let value: unknown;
  if (!inline || (existsSync(arg) && !trimmed.startsWith("["))) {
    if (!existsSync(arg) && arg !== "-") throw new UsageError(`${what}: "${arg}" is neither a file nor inline JSON (a pipeline starts with "[")`);
    value = parseJsonText(await readTextInput(arg), arg === "-" ? "stdin" : arg);
  } else {
    value = parseJsonText(arg, what);
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value) && "pipeline" in value) {
    return (value as { pipeline: unknown }).pipeline;
  }
  return value;
}
