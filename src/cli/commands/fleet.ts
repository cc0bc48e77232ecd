// `strata fleet IMAGE... -o DIR`: plans many images jointly (src/fleet/), so
// that images share layers in the registry and on nodes, each within its own
// budget; one plan per image in any of `layer`'s formats, plus fleet.json.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import { fleetDocument, existingLayersOf, FLEET_OBJECTIVE } from "../../fleet/document.js";
import { existingLayersFromRegistry, type RegistryExisting } from "../../fleet/registry.js";
import { planFleet, type FleetImage, type FleetPlan } from "../../fleet/plan.js";
import { parseJsonText } from "../../graph/document.js";
import { readClosureInput, readTextInput, writeFileAtomic } from "../../io/node.js";
import { formatBytes, formatPercent, textTable } from "../../report/format.js";
import type { Layers } from "../../strategies/types.js";
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command } from "../command.js";
import { messages } from "../messages.js";
import { computeBudget, setupPlan } from "../plan.js";
import { parsePlatformOption } from "./evaluate-against.js";
import { commonFormats, formatPlan, stringOption } from "./layer.js";

const help = `Usage: strata fleet IMAGE... -o DIR [options]

Plans the layers of many images together, so that the images share layers:
every image gets its own plan within its own layer budget, its layers
partition its own closure, and a layer used by several images is the same
ordered path list (the same digest) in each.

Objective (printed with the plan): ${FLEET_OBJECTIVE}.

IMAGE is a closure file as 'strata layer' reads it (the image is named after
the file, without .json and .gz), or NAME=FILE.

Output (in DIR, created if missing; every file written atomically after the
whole fleet is planned):
  NAME.json               the image's layers, as 'strata layer' prints them
  NAME.FORMAT.json        the same plan in each other --format
  fleet.json              every distinct layer with the images using it, each
                          image's layer ids and the summary; give it (or DIR)
                          to --existing when planning the next revision

Options:
  -o, --output DIR        where the plans go (required)
  --budget N              store-path layers per image (default 99)
  --budget NAME=N         the budget of one image (repeatable)
  --max-layers M          image layer limit instead of --budget (budget M - 1)
  --existing FILE|DIR     layers the registry already holds (repeatable): a
                          layers list ('strata layer' output, nixpkgs or
                          nix2container format), a fleet.json, or a directory
                          holding one (the previous revision), an OCI image
                          manifest or OCI layout directory whose layers carry
                          the org.strata.store-paths annotation, or
                          docker://HOST/REPO:TAG: the manifest of that image
                          in a registry (only the manifest is read; layers
                          without the annotation are counted and ignored).
                          A layer is reused byte-identical by every image
                          holding all its paths.
  --platform OS/ARCH[/VARIANT]  the platform to pick when a docker:// reference
                          names an index (default linux/amd64)
  --authfile FILE, --insecure   for docker:// references, as for 'strata push'
  --format NAME           nixpkgs (default), ${commonFormats.filter((f) => f !== "nixpkgs").join(", ")}; repeatable
  --changes-per-update X  min-pull's model: expected package changes per update
  --volatility FILE       min-pull's model: {"package-name": multiplier}
  --update-weight X       how much a byte pulled per update weighs against a
                          byte stored when budgets are tight (default 1; 0 =
                          registry bytes only, larger = closer to each image's
                          min-pull plan, less sharing)
  --json                  print the summary as JSON on stdout
  --quiet, -q             nothing on stderr but errors
  --verbose, -v           per-image figures on stderr

Examples:
  strata fleet web.json worker.json db.json -o plans/
  strata fleet *.json.gz -o plans/ --budget 30 --budget big=60 --format nix2container
  strata fleet r1/*.json.gz -o plans-r1/ --existing plans-r0/
  strata fleet web.json api.json -o plans/ --existing docker://ghcr.io/me/web:v1 --existing docker://ghcr.io/me/api:v1
  strata evaluate --fleet r0/ r1/ r2/ --strategy fleet --strategy min-pull+previous

Exit codes: 0 plans written, 2 bad input or options, or a registry refused,
unreachable or without the tag (nothing written), 1 internal error.
`;

export const fleetCommand: Command = {
  name: "fleet",
  summary: "plan many images jointly so they share layers (registry and nodes)",
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("fleet", args, {
      output: { type: "string", short: "o" },
      budget: { type: "string", multiple: true },
      "max-layers": { type: "string" },
      existing: { type: "string", multiple: true },
      platform: { type: "string" },
      authfile: { type: "string" },
      insecure: { type: "boolean" },
      format: { type: "string", multiple: true },
      "changes-per-update": { type: "string" },
      volatility: { type: "string" },
      "update-weight": { type: "string" },
      json: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      verbose: { type: "boolean", short: "v" },
    });
    if (positionals.length === 0) throw new UsageError("fleet: give at least one IMAGE (a closure file or NAME=FILE). See 'strata fleet --help'.");
    const dir = stringOption(values.output);
    if (dir === undefined) throw new UsageError("fleet: -o DIR is required (one plan per image is written there)");
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`fleet: -o ${dir} exists and is not a directory`);
    const formats = (values.format as string[] | undefined) ?? ["nixpkgs"];
    for (const f of formats) {
      if (!(commonFormats as readonly string[]).includes(f)) throw new UsageError(`fleet: unknown --format "${f}". Formats: ${commonFormats.join(", ")}`);
    }
    const specs = positionals.map(parseImageArgument);
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new UsageError(`fleet: two images are named "${s.name}"; name them with NAME=FILE`);
      names.add(s.name);
    }
    const { fleetBudget, perImage } = parseBudgets(values.budget as string[] | undefined, stringOption(values["max-layers"]), names);
    // min-pull's model options, read and checked the way `strata layer` does.
    const setup = await setupPlan(
      "fleet",
      {
        strategy: "min-pull",
        "changes-per-update": values["changes-per-update"],
        volatility: values.volatility,
        quiet: values.quiet,
      },
      io,
    );
    const uw = stringOption(values["update-weight"]);
    const updateWeight = uw === undefined ? undefined : Number(uw);
    if (updateWeight !== undefined && !(updateWeight >= 0 && Number.isFinite(updateWeight)))
      throw new UsageError(`fleet: --update-weight expects a number of 0 or more, got "${uw}"`);
    const existing: Layers = [];
    const remoteRefs: string[] = [];
    for (const e of (values.existing as string[] | undefined) ?? []) {
      if (e.startsWith("docker://")) remoteRefs.push(e);
      else existing.push(...(await readExisting(e)));
    }
    const platform = parsePlatformOption("fleet", stringOption(values.platform));
    if (remoteRefs.length === 0) {
      const stray = ["platform", "authfile", "insecure"].find((o) => values[o] !== undefined);
      if (stray !== undefined) throw new UsageError(`fleet: --${stray} applies to --existing docker://HOST/REPO:TAG only`);
    }
    let remote: RegistryExisting | undefined;
    if (remoteRefs.length > 0) {
      const authfile = stringOption(values.authfile);
      remote = await existingLayersFromRegistry(remoteRefs, {
        insecure: values.insecure === true,
        env: io.env,
        ...(authfile !== undefined ? { authfile } : {}),
        ...(platform !== undefined ? { platform } : {}),
        onRetry: (line) => messages(io, values.quiet === true).warn(line),
      });
      existing.push(...remote.layers);
    }

    const images: FleetImage[] = [];
    for (const s of specs) images.push({ name: s.name, doc: await readClosureInput(s.file), budget: perImage.get(s.name) });
    setup.progress.stage("planning the fleet");
    let plan: FleetPlan;
    try {
      plan = planFleet(images, { budget: fleetBudget, existing, ...setup.model, ...(updateWeight !== undefined ? { updateWeight } : {}) });
    } finally {
      setup.progress.done();
    }

    // Every text first, then the files: a failing format writes nothing.
    const files: [string, string][] = [];
    plan.images.forEach((img, i) => {
      for (const f of formats) {
        const planned = { doc: images[i].doc, setup, layers: img.layers, composite: true, excluded: [] as string[] };
        files.push([join(dir, f === "nixpkgs" ? `${img.name}.json` : `${img.name}.${f}.json`), formatPlan(f, planned, io)]);
      }
    });
    files.push([join(dir, "fleet.json"), JSON.stringify(fleetDocument(plan), null, 1) + "\n"]);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of files) await writeFileAtomic(file, text);

    if (values.json === true)
      io.out(
        JSON.stringify(
          {
            objective: FLEET_OBJECTIVE,
            summary: plan.summary,
            ...(remote !== undefined ? { registry: { images: remote.images, unannotatedLayers: remote.unannotatedLayers } } : {}),
            images: plan.images.map(({ layers, layerIds, ...rest }) => ({ ...rest, layerCount: layers.length })),
          },
          null,
          2,
        ) + "\n",
      );
    else io.out(fleetTable(plan) + (remote !== undefined ? registryText(remote) : ""));
    const verbose = values.verbose === true && values.quiet !== true;
    if (verbose)
      for (const img of plan.images) setup.msg.info(`${img.name}: ${img.layers.length}/${img.budget} layers, ${img.paths} paths, ${formatBytes(img.bytes)}`);
    setup.msg.note(`wrote ${files.length} files to ${dir}`);
    return 0;
  },
};

export function fleetTable(plan: FleetPlan): string {
  const s = plan.summary;
  const rows: string[][] = [
    ["registry (distinct layers)", formatBytes(s.registryBytes), String(s.registryBytes)],
    ["ideal (one layer per path)", formatBytes(s.idealRegistryBytes), String(s.idealRegistryBytes)],
    ["images summed (no sharing)", formatBytes(s.totalImageBytes), String(s.totalImageBytes)],
    ["stored twice or more", formatBytes(s.duplicatedBytes), String(s.duplicatedBytes)],
    ["objective: registry + node running all", formatBytes(s.objectiveBytes), String(s.objectiveBytes)],
    ["new in the registry", formatBytes(s.newBytes), String(s.newBytes)],
    ["reused existing layers", `${s.reusedLayers} (${formatBytes(s.reusedBytes)})`, String(s.reusedBytes)],
    ["expected update bytes, all images", formatBytes(s.expectedUpdateBytes), String(Math.round(s.expectedUpdateBytes))],
  ];
  return (
    `objective: ${FLEET_OBJECTIVE}\n\n` +
    textTable(["fleet", "size", "bytes"], rows) +
    `\nsharing captured ${formatPercent(s.sharingCaptured)} of possible; ${s.distinctLayers} distinct layers, ${s.sharedLayers} shared; ` +
    `${s.imagesWithPrivateCopies} of ${s.images} images hold a private copy of a shared path\n\n` +
    textTable(
      ["image", "layers", "budget", "paths", "size", "expected update", "private copies"],
      plan.images.map((i) => [
        i.name,
        String(i.layers.length),
        String(i.budget),
        String(i.paths),
        formatBytes(i.bytes),
        formatBytes(i.expectedUpdateBytes),
        formatBytes(i.privateCopyBytes),
      ]),
    )
  );
}

/** What --existing docker://... read: per reference, the layers used and the ones ignored. */
export function registryText(r: RegistryExisting): string {
  const lines = r.images.map(
    (i) =>
      `existing ${i.reference}${i.manifestDigest !== undefined ? ` (${i.manifestDigest.slice(0, 19)})` : ""}: ${i.layers} store-path layers, ${i.unannotatedLayers} without the store-paths annotation (ignored)`,
  );
  return `\n${lines.join("\n")}\nregistry layers ignored (no store-paths annotation): ${r.unannotatedLayers}\n`;
}

/** "dir/web.json.gz" -> {name: "web"}; "web=dir/x.json" -> {name: "web"}. */
export function parseImageArgument(arg: string): { name: string; file: string } {
  const eq = arg.indexOf("=");
  if (eq > 0 && !existsSync(arg)) {
    const name = arg.slice(0, eq);
    if (!/^[A-Za-z0-9._+-]+$/.test(name)) throw new UsageError(`fleet: image name "${name}" must be letters, digits and . _ + -`);
    return { name, file: arg.slice(eq + 1) };
  }
  const base = arg
    .slice(arg.lastIndexOf("/") + 1)
    .replace(/\.gz$/, "")
    .replace(/\.json$/, "");
  if (base === "" || base === "-" || base === "fleet") throw new UsageError(`fleet: cannot name an image after "${arg}"; use NAME=FILE`);
  return { name: base, file: arg };
}

function parseBudgets(
  list: string[] | undefined,
  maxLayers: string | undefined,
  names: ReadonlySet<string>,
): { fleetBudget: number; perImage: Map<string, number> } {
  const perImage = new Map<string, number>();
  let fleetBudget: number | undefined;
  for (const b of list ?? []) {
    const eq = b.indexOf("=");
    if (eq < 0) {
      if (fleetBudget !== undefined) throw new UsageError("fleet: --budget N given twice (use NAME=N for one image)");
      fleetBudget = parseIntegerOption("fleet", "budget", b)!;
      if (fleetBudget < 1) throw new UsageError(`fleet: --budget must be at least 1, got ${fleetBudget}`);
      continue;
    }
    const name = b.slice(0, eq);
    if (!names.has(name)) throw new UsageError(`fleet: --budget ${b}: no image is named "${name}" (images: ${[...names].join(", ")})`);
    const n = parseIntegerOption("fleet", "budget", b.slice(eq + 1))!;
    if (n < 1) throw new UsageError(`fleet: --budget ${b}: the budget must be at least 1`);
    perImage.set(name, n);
  }
  if (maxLayers !== undefined) {
    if (fleetBudget !== undefined) throw new UsageError("fleet: --budget N and --max-layers exclude each other");
    fleetBudget = computeBudget("fleet", { maxLayers: parseIntegerOption("fleet", "max-layers", maxLayers) }).layers;
  }
  return { fleetBudget: fleetBudget ?? 99, perImage };
}

async function readExisting(arg: string): Promise<Layers> {
  const stat = statSync(arg, { throwIfNoEntry: false });
  if (stat === undefined) throw new UsageError(`fleet: --existing ${arg}: no such file or directory`);
  let file = arg;
  if (stat.isDirectory()) {
    if (existsSync(join(arg, "oci-layout"))) return readOciLayout(arg);
    file = join(arg, "fleet.json");
    if (!existsSync(file))
      throw new UsageError(`fleet: --existing ${arg} is a directory without fleet.json (give the -o DIR of an earlier 'strata fleet', or layer files)`);
  }
  return existingLayersOf(parseJsonText(await readTextInput(file), `--existing ${file}`), `--existing ${file}`);
}

/** Every manifest of an OCI image layout (index.json, nested indexes followed), as store-path layers. */
async function readOciLayout(dir: string): Promise<Layers> {
  const what = `--existing ${dir}`;
  const blob = async (digest: unknown): Promise<unknown> => {
    const m = typeof digest === "string" ? /^sha256:([0-9a-f]{64})$/.exec(digest) : null;
    if (m === null) throw new UsageError(`${what}: a descriptor has no sha256 digest`);
    const file = join(dir, "blobs", "sha256", m[1]);
    if (!existsSync(file)) throw new UsageError(`${what}: blob ${String(digest)} is missing`);
    return parseJsonText(await readTextInput(file), `${what} blob ${String(digest)}`);
  };
  const out: Layers = [];
  const visit = async (index: unknown, depth: number): Promise<void> => {
    const manifests = (index as { manifests?: unknown } | null)?.manifests;
    if (!Array.isArray(manifests)) throw new UsageError(`${what}: index without a "manifests" list`);
    for (const d of manifests) {
      const value = await blob((d as { digest?: unknown } | null)?.digest);
      if (Array.isArray((value as { manifests?: unknown } | null)?.manifests) && depth < 4) await visit(value, depth + 1);
      else out.push(...existingLayersOf(value, `${what} manifest ${String((d as { digest?: unknown }).digest)}`));
    }
  };
  const indexFile = join(dir, "index.json");
  if (!existsSync(indexFile)) throw new UsageError(`${what}: an OCI layout without index.json`);
  await visit(parseJsonText(await readTextInput(indexFile), `${what}/index.json`), 0);
  return out;
}
