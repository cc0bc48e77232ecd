// `strata evaluate`: what each strategy's plans cost, side by side.
import type { Command } from "../command.js";
import { parseCommandArgs, parseIntegerOption } from "../command.js";
import { UsageError } from "../../errors.js";
import { readClosureInput, writeFileAtomic } from "../../io/node.js";
import { evaluateImages, evaluateSeries, type NamedClosure, type Planner } from "../../evaluate/evaluate.js";
import { htmlPage, imagesHtml, imagesTable, seriesHtml, seriesTable } from "../../evaluate/render.js";
import { strategyRegistry } from "../../strategies/index.js";
import { availableLayers, type StrategyOptions } from "../../strategies/types.js";
import { readPipelineArgument, stringOption } from "./layer.js";
import { pipelinePlanner, strategyPlanner } from "../../evaluate/planners.js";
import { plannersInWorkers } from "../../worker/node.js"; // issue 8: worker-thread planning
import type { PlannerSpec } from "../../worker/service.js";
import { fleetEvaluateHelp, runFleetEvaluation } from "./fleet-evaluate.js"; // issue 16
import { againstHelp, runEvaluateAgainst } from "./evaluate-against.js"; // issue 15
import { compressedHelp, compressedOptionSpecs, compressedTable, recordPlans, runCompressed, wantsCompressed } from "./evaluate-compressed.js"; // issue 15

const help = () => `Usage: strata evaluate --series V0 V1 [V2 ...] [options]
       strata evaluate --images IMG1 IMG2 [...] [options]
       strata evaluate --fleet REV0/ REV1/ [...] [options]
       strata evaluate --against docker://HOST/REPO:TAG IMAGE [--max-pull SIZE]

Prices layer plans the same way for every strategy.

--series: versions of one image, oldest first. For each update it reports the
bytes a client holding the previous version pulls (layers whose ordered path
list is new), beside the ideal (only the paths that changed, as if every path
had its own layer) and the worst case (the whole image), and the bytes a local
store re-extracts (every layer above the first changed one).
--images: closures of one package-set revision. It reports registry bytes
(distinct layers stored once), bytes shared by two or more images, and the
dedup ratio.
${fleetEvaluateHelp}
Options:
  --strategy NAME         a strategy to compare (repeatable); default: all of
                          ${strategyRegistry
                            .comparable()
                            .map((s) => s.name)
                            .join(", ")}.
                          NAME+previous shows a stateful strategy (min-pull)
                          its previous plan and the history of the series;
                          NAME@stable-first reorders its layers least likely
                          to change first.
  --pipeline P            a nixpkgs layeringPipeline to compare (repeatable;
                          inline JSON or a file)
  --max-layers M          image layer limit (default 100); strategies get
                          M - 1 - B store-path layers
  --from-image-layers B   layers of the base image (default 0)
  --json                  print the full results as JSON
  --html FILE             write a self-contained HTML report with charts
  -h, --help              show this help

Examples:
  strata evaluate --series v0.json.gz v1.json.gz v2.json.gz
  strata evaluate --series v*.json.gz --strategy auto-layer --strategy min-pull --max-layers 31
  strata evaluate --images a.json b.json c.json --html sharing.html
  strata evaluate --fleet r0/ r1/ r2/ --budget 30 --subset web --subset db
${compressedHelp}${againstHelp}`;

export const evaluateCommand: Command = {
  name: "evaluate",
  summary: "bytes pulled between versions / shared across images, per strategy",
  get help() {
    return help();
  },
  async run(args, io) {
    if (args.some((a) => a === "--against" || a.startsWith("--against="))) return runEvaluateAgainst(args, io); // issue 15
    const { values, positionals } = parseCommandArgs("evaluate", args, {
      series: { type: "boolean" },
      images: { type: "boolean" },
      strategy: { type: "string", multiple: true },
      pipeline: { type: "string", multiple: true },
      "max-layers": { type: "string" },
      "from-image-layers": { type: "string" },
      json: { type: "boolean" },
      html: { type: "string" },
      ...compressedOptionSpecs, // issue 15
      fleet: { type: "boolean" }, // issue 16: fleets
      subset: { type: "string", multiple: true },
      budget: { type: "string" },
    });
    if (values.fleet === true) return runFleetEvaluation(values, positionals, io);
    if (values.subset !== undefined || values.budget !== undefined) throw new UsageError("evaluate: --subset and --budget apply to --fleet");
    const series = values.series === true;
    const images = values.images === true;
    if (series === images) throw new UsageError("evaluate: give exactly one of --series or --images, followed by closure files");
    if (series && positionals.length < 2) throw new UsageError("evaluate: --series needs at least two closure files (oldest first)");
    if (images && positionals.length < 1) throw new UsageError("evaluate: --images needs at least one closure file");
    const maxLayers = parseIntegerOption("evaluate", "max-layers", stringOption(values["max-layers"])) ?? 100;
    const fromImageLayers = parseIntegerOption("evaluate", "from-image-layers", stringOption(values["from-image-layers"])) ?? 0;
    const budget = availableLayers(maxLayers, fromImageLayers, "evaluate");
    const base: StrategyOptions = { maxLayers, fromImageLayers, budget };
    const specs = (values.strategy as string[] | undefined) ?? [];
    const pipelines = (values.pipeline as string[] | undefined) ?? [];
    const planners: Planner[] = specs.map((s) => strategyPlanner(s, base));
    const workerSpecs: PlannerSpec[] = specs.map((name) => ({ name })); // issue 8: see plannersInWorkers below
    for (let i = 0; i < pipelines.length; i++) {
      const pipeline = await readPipelineArgument(pipelines[i], "--pipeline");
      workerSpecs.push({ name: pipelines.length === 1 ? "pipeline" : `pipeline ${i + 1}`, pipeline }); // issue 8
      planners.push(pipelinePlanner(pipelines.length === 1 ? "pipeline" : `pipeline ${i + 1}`, pipeline));
    }
    if (planners.length === 0) {
      for (const s of strategyRegistry.comparable()) planners.push(strategyPlanner(s.name, base));
      workerSpecs.push(...planners.map((p) => ({ name: p.name }))); // issue 8
    }
    const closures: NamedClosure[] = [];
    for (const file of positionals) closures.push({ name: shortName(file), doc: await readClosureInput(file) });

    // Issue 8 (worker API): with several planners and enough paths, the plans
    // are made side by side in worker threads by the same planner code; the
    // evaluation itself stays here. undefined = plan in this thread.
    const compressed = wantsCompressed(values, series); // issue 15: plans recorded in this thread, then priced compressed
    const recorded = compressed ? recordPlans(planners) : undefined;
    const pooled = compressed ? undefined : await plannersInWorkers(closures, workerSpecs, { maxLayers, fromImageLayers }, series ? "series" : "images");
    const chosen = recorded?.planners ?? pooled ?? planners;
    const result = series ? evaluateSeries(closures, chosen) : evaluateImages(closures, chosen);
    const packed = recorded ? await runCompressed(values, closures, recorded.plans, io) : undefined;
    if (values.json === true)
      io.out(JSON.stringify({ budget, maxLayers, fromImageLayers, ...result, ...(packed ? { compressed: packed } : {}) }, null, 2) + "\n");
    else io.out(series ? seriesTable(result as ReturnType<typeof evaluateSeries>) : imagesTable(result as ReturnType<typeof evaluateImages>));
    if (packed && values.json !== true)
      io.out(compressedTable(packed, new Map((result as ReturnType<typeof evaluateSeries>).strategies.map((s) => [s.strategy, s.total.pulledBytes]))));
    const html = stringOption(values.html);
    if (html !== undefined) {
      const body = series ? seriesHtml(result as ReturnType<typeof evaluateSeries>) : imagesHtml(result as ReturnType<typeof evaluateImages>);
      await writeFileAtomic(html, htmlPage(`strata evaluation (${budget} store-path layers)`, body));
      io.err(`strata: wrote ${html}\n`);
    }
    return 0;
  },
};

/** "dir/postgresql-v3.json.gz" -> "postgresql-v3". */
function shortName(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  return base.replace(/\.gz$/, "").replace(/\.json$/, "");
}
