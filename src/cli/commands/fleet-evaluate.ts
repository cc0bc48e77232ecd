// `strata evaluate --fleet REV0 REV1 ...`: prices fleet plans over revisions
// of a package set (src/fleet/evaluate.ts). Each REV is a directory of closure
// files, one per image, matched by file name across revisions.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import { strategyPlanner } from "../../evaluate/planners.js";
import type { NamedClosure } from "../../evaluate/evaluate.js";
import { evaluateFleet, jointPlanner, perImagePlanner, type FleetEvaluation, type FleetPlanner, type FleetRevision } from "../../fleet/evaluate.js";
import { readClosureInput, writeFileAtomic } from "../../io/node.js";
import { escapeHtml, formatBytes, textTable } from "../../report/format.js";
import { htmlPage } from "../../evaluate/render.js";
import type { CliIo, ParsedArgs } from "../command.js";
import { parseIntegerOption } from "../command.js";
import { computeBudget } from "../plan.js";

export const fleetEvaluateHelp = `
--fleet: revisions of a fleet, oldest first; each REV is a directory of
closure files (*.json, *.json.gz), one per image, the same names in every
revision. Per revision it reports registry bytes, bytes new in the registry
(layers no earlier revision had), bytes a node running every image (and,
with --subset, some images) pulls from the previous revision, each beside
the ideal of one layer per path, and each image's own update bytes.
  --strategy NAME         fleet (the joint planner, each revision against the
                          previous one's layers), or any strategy planned image
                          by image (NAME+previous allowed); default: fleet,
                          min-pull+previous, auto-layer
  --budget N              store-path layers per image (or --max-layers M)
  --subset NAME           an image of the node subset (repeatable)
`;

/** The closure files of a revision directory, by image name (sorted). */
function revisionImages(dir: string): { name: string; file: string }[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error();
    entries = readdirSync(dir);
  } catch {
    throw new UsageError(`evaluate --fleet: ${dir} is not a directory of closure files`);
  }
  const files = entries.filter((f) => /\.json(\.gz)?$/.test(f) && f !== "fleet.json").sort();
  if (files.length === 0) throw new UsageError(`evaluate --fleet: ${dir} holds no closure files (*.json, *.json.gz)`);
  return files.map((f) => ({ name: f.replace(/\.gz$/, "").replace(/\.json$/, ""), file: join(dir, f) }));
}

export async function runFleetEvaluation(values: ParsedArgs["values"], positionals: string[], io: CliIo): Promise<number> {
  if (positionals.length < 1) throw new UsageError("evaluate: --fleet needs at least one revision directory (oldest first)");
  if (values.series === true || values.images === true) throw new UsageError("evaluate: give one of --series, --images or --fleet");
  for (const o of ["pipeline", "from-image-layers"]) if (values[o] !== undefined) throw new UsageError(`evaluate: --${o} does not apply to --fleet`);
  const budgetText = typeof values.budget === "string" ? values.budget : undefined;
  const maxText = typeof values["max-layers"] === "string" ? values["max-layers"] : undefined;
  if (budgetText !== undefined && maxText !== undefined) throw new UsageError("evaluate: --budget and --max-layers exclude each other");
  const budget =
    budgetText !== undefined
      ? parseIntegerOption("evaluate", "budget", budgetText)!
      : computeBudget("fleet", { maxLayers: parseIntegerOption("evaluate", "max-layers", maxText) }).layers;
  if (budget < 1) throw new UsageError(`evaluate: --budget must be at least 1, got ${budget}`);
  const specs = (values.strategy as string[] | undefined) ?? ["fleet", "min-pull+previous", "auto-layer"];
  const planners: FleetPlanner[] = specs.map((s) => {
    if (s === "fleet") return jointPlanner({ budget });
    strategyPlanner(s, { budget }); // fails early on an unknown strategy
    return perImagePlanner(s, () => strategyPlanner(s, { maxLayers: budget + 1, fromImageLayers: 0, budget }));
  });
  const revisions: FleetRevision[] = [];
  for (const dir of positionals) {
    const images: NamedClosure[] = [];
    for (const img of revisionImages(dir)) images.push({ name: img.name, doc: await readClosureInput(img.file) });
    revisions.push({ name: dir.replace(/\/+$/, "").split("/").pop() ?? dir, images });
  }
  const names = revisions[0].images.map((i) => i.name).join(", ");
  for (const r of revisions) {
    if (r.images.map((i) => i.name).join(", ") !== names)
      throw new UsageError(`evaluate --fleet: revision ${r.name} has images ${r.images.map((i) => i.name).join(", ")}; the first has ${names}`);
  }
  const subset = values.subset as string[] | undefined;
  if (subset !== undefined) {
    for (const s of subset)
      if (!revisions[0].images.some((i) => i.name === s)) throw new UsageError(`evaluate: --subset ${s}: no such image (images: ${names})`);
  }
  const result = evaluateFleet(revisions, planners, { subset });
  if (values.json === true) io.out(JSON.stringify({ budget, ...result }, null, 2) + "\n");
  else io.out(fleetEvaluationTable(result));
  const html = typeof values.html === "string" ? values.html : undefined;
  if (html !== undefined) {
    await writeFileAtomic(html, htmlPage(`strata fleet evaluation (${budget} store-path layers)`, `<pre>${escapeHtml(fleetEvaluationTable(result))}</pre>`));
    io.err(`strata: wrote ${html}\n`);
  }
  return 0;
}

export function fleetEvaluationTable(ev: FleetEvaluation): string {
  const parts: string[] = [];
  const pair = (x: number, ideal: number) => `${formatBytes(x)} / ${formatBytes(ideal)}`;
  for (const s of ev.strategies) {
    parts.push(`${s.strategy} (actual / ideal)\n`);
    parts.push(
      textTable(
        ["revision", "registry", "new in registry", "node, all images", ...(ev.subset ? ["node, subset"] : [])],
        s.revisions.map((r) => [
          r.revision,
          pair(r.registryBytes, r.idealRegistryBytes),
          pair(r.newBytes, r.idealNewBytes),
          pair(r.nodeAllBytes, r.idealNodeAllBytes),
          ...(ev.subset ? [pair(r.nodeSubsetBytes ?? 0, r.idealNodeSubsetBytes ?? 0)] : []),
        ]),
      ),
    );
    parts.push("\n");
  }
  if (ev.revisions.length > 1) {
    parts.push("bytes each image pulls over the updates (ideal in the last column)\n");
    const ideal = ev.images.map((_, i) => ev.strategies[0].revisions.reduce((a, r) => a + r.imageIdealBytes[i], 0));
    parts.push(
      textTable(
        ["image", ...ev.strategies.map((s) => s.strategy), "ideal"],
        ev.images.map((name, i) => [name, ...ev.strategies.map((s) => formatBytes(s.total.imagePulledBytes[i])), formatBytes(ideal[i])]),
      ),
    );
  }
  return parts.join("");
}
