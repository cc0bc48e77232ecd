// `strata build`: writes the image. From a closure and a plan (any strategy
// `strata layer` has, or a plan file with --layers), or from nixpkgs' own
// conf.json (--nixpkgs-conf), reading the store paths from disk. The
// docker-archive is byte for byte what nixpkgs' stream_layered_image.py writes.
import { BuildError, UsageError } from "../../errors.js";
import { parsePyJson } from "../../format/python-json.js";
import { readClosureInput, readJsonInput, readTextInput } from "../../io/node.js";
import {
  buildImageFromConf,
  checkPlanAgainstClosure,
  imageSpec,
  imageSpecFromConfFile,
  writeDockerArchive,
  type BuildResult,
  type ImageOptions,
} from "../../image/build.js";
import { closureNarHashes, ociOptions, runOci } from "../build-oci.js";
import type { CustomisationLayer } from "../../image/spec.js";
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command, type ParsedArgs } from "../command.js";
import { messages } from "../messages.js";
import { planOptionSpecsFor, planOptionsHelpText, runPlan, setupPlan } from "../plan.js";
import { checkPushAfterBuild, pushAfterBuild, pushAfterBuildHelp, pushAfterBuildSpecs } from "./push.js"; // issue 15

/** Output formats. */
export const buildFormats = ["docker-archive", "oci"] as const;

const help = `Usage: strata build CLOSURE [plan options] [image options] [-o FILE]
       strata build CLOSURE --layers PLAN.json [image options] [-o FILE]
       strata build --nixpkgs-conf conf.json [--repo-tag TAG] [-o FILE]

Writes a container image of the store paths, read from the store on disk.
The docker-archive is byte for byte what nixpkgs' stream_layered_image.py
(streamLayeredImage) writes for the same layers and settings: same layer tars,
diff_ids, config, manifest and whole stream.

CLOSURE is what 'strata layer' reads (.attrs.json, exportReferencesGraph,
nix path-info --json); the layers come from the plan options below (default:
nixpkgs' popularity pipeline) or from --layers.

Input:
  --layers FILE           a plan file as 'strata layer' writes it (--format
                            nixpkgs, nix2container or debug); checked against
                            CLOSURE when given: every path once, none outside
  --nixpkgs-conf FILE     nixpkgs' conf.json (the file streamLayeredImage
                            hands the script); replaces every other input
  --repo-tag TAG          with --nixpkgs-conf: the script's --repo_tag
  --store-root DIR        the store is mounted at DIR (paths still say
                            /nix/store/...); default: read the paths themselves
  --store-dir DIR         the store directory the paths name (default: the
                            directory of the first path)

Output:
  --format NAME           docker-archive (default): an uncompressed docker
                            load / skopeo docker-archive: tarball;
                          oci: an OCI image layout directory (-o DIR) with
                            compressed layers (skopeo oci:DIR:TAG, podman
                            pull oci:DIR:TAG, umoci); the tag of --tag names it
  -o, --output FILE       write to FILE atomically (default: stdout, which
                            must not be a terminal); with --format oci a
                            directory (required), replaced atomically
  --compression ALGO[:LEVEL]  oci layers: gzip (default, level 6) or zstd
                            (level 3); gzip 0-9, zstd 1-19. Deterministic on
                            every machine and Node version (pinned encoders:
                            fflate for gzip, the zstd library compiled to Wasm
                            for zstd, so zstd works on Node 20 too)
  --cache DIR             oci: the layer cache (default
                            $XDG_CACHE_HOME/strata/layers or
                            ~/.cache/strata/layers); layers built before are
                            copied from it, digest-checked
  --no-cache              oci: build every layer, use no cache
  --jobs N                oci: layers compressed in parallel by N worker
                            threads (default: the number of cores)

Image (nixpkgs streamLayeredImage's defaults):
  --tag NAME:TAG          RepoTags entry (default strata-image:latest)
  --architecture ARCH     config architecture (default: this machine's, Go
                            names: amd64, arm64, ...)
  --created TIME          ISO 8601 or "now" (default 1970-01-01T00:00:01+00:00)
  --mtime TIME            file dates: ISO 8601, "now" or @SECONDS (default
                            1970-01-01T00:00:01+00:00, whatever --created is,
                            so layers stay reproducible)
  --uid N --gid N         file owner (default 0 0)
  --uname NAME --gname NAME   owner names (default root root)
  --entrypoint CMD        Entrypoint: a JSON list of strings, or one string
  --cmd CMD               Cmd: a JSON list of strings, or one string
  --env KEY=VALUE         Env entry (repeatable)
  --workdir DIR           WorkingDir
  --user USER             User
  --label KEY=VALUE       Labels entry (repeatable)
  --expose PORT[/PROTO]   ExposedPorts entry (repeatable; tcp by default)
  --config FILE           the config's "config" object as JSON (the options
                            above override its keys); keys are sorted as Nix
                            sorts them when it writes streamLayeredImage's
                            config
  --contents DIR          extra contents: DIR's files as the top layer,
                            tarred as nixpkgs tars its customisation layer
                            (GNU tar, sorted, owner 0, dated 1980-01-01)
  --customisation-layer DIR   an existing nixpkgs customisation layer (a
                            directory with layer.tar and checksum)
  --from-image FILE       a base docker-archive (plain or gzip) whose layers
                            go first, as nixpkgs' fromImage (only its Env is
                            inherited); plan with --from-image-layers N

${pushAfterBuildHelp}
${planOptionsHelpText()}

Examples:
  strata build closure.json -o image.tar --tag app:v1 --cmd /nix/store/...-app/bin/app
  strata build closure.json --strategy auto-layer --max-layers 100 | docker load
  strata layer closure.json -o plan.json && strata build closure.json --layers plan.json -o image.tar
  strata build --nixpkgs-conf conf.json --repo-tag app:latest > image.tar
  strata build closure.json --store-root /mnt/other/nix/store -o image.tar
  strata build closure.json --format oci -o app-oci --tag app:v1 && skopeo inspect oci:app-oci:v1
  strata build --nixpkgs-conf conf.json --format oci --compression zstd:6 -o app-oci

Exit codes: 0 image written, 2 bad input or options (a store path missing on
disk, an unreadable or special file, a plan that does not match the closure,
a conf.json without a key, ...; nothing written, no file left), 1 internal
error.
`;

const imageOptionSpecs = {
  layers: { type: "string" },
  "nixpkgs-conf": { type: "string" },
  "repo-tag": { type: "string" },
  "store-root": { type: "string" },
  "store-dir": { type: "string" },
  format: { type: "string" },
  output: { type: "string", short: "o" },
  tag: { type: "string" },
  architecture: { type: "string" },
  created: { type: "string" },
  mtime: { type: "string" },
  uid: { type: "string" },
  gid: { type: "string" },
  uname: { type: "string" },
  gname: { type: "string" },
  entrypoint: { type: "string" },
  cmd: { type: "string" },
  env: { type: "string", multiple: true },
  workdir: { type: "string" },
  user: { type: "string" },
  label: { type: "string", multiple: true },
  expose: { type: "string", multiple: true },
  config: { type: "string" },
  contents: { type: "string" },
  "customisation-layer": { type: "string" },
  "from-image": { type: "string" },
  compression: { type: "string" },
  cache: { type: "string" },
  "no-cache": { type: "boolean" },
  jobs: { type: "string" },
  ...pushAfterBuildSpecs, // issue 15: --push REF
} as const;

type Values = ParsedArgs["values"];
const str = (v: Values[string]): string | undefined => (typeof v === "string" ? v : undefined);
const list = (v: Values[string]): string[] => (Array.isArray(v) ? (v as string[]) : []);

function commandList(option: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  if (text.trimStart().startsWith("[")) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`build: --${option}: invalid JSON list: ${(e as Error).message}`);
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new UsageError(`build: --${option} expects a JSON list of strings or one string`);
    return v as string[];
  }
  return [text];
}

function keyValues(option: string, items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf("=");
    if (i <= 0) throw new UsageError(`build: --${option} expects KEY=VALUE, got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** A plan file as `strata layer` writes it: a layers list (nixpkgs, nix2container) or the debug format's objects. */
export function readPlanFile(value: unknown, file: string): string[][] {
  if (Array.isArray(value)) {
    if (value.every((l) => Array.isArray(l) && l.every((p) => typeof p === "string"))) return value as string[][];
    if (
      value.every(
        (l) =>
          typeof l === "object" &&
          l !== null &&
          Array.isArray((l as { paths?: unknown }).paths) &&
          (l as { paths: unknown[] }).paths.every((p) => typeof p === "string"),
      )
    ) {
      return value.map((l) => (l as { paths: string[] }).paths);
    }
  }
  throw new UsageError(
    `build: --layers ${file}: expected a plan as 'strata layer' writes it: a JSON list of layers ([["/nix/store/...", ...], ...]) or its --format debug output`,
  );
}

async function imageOptions(values: Values): Promise<ImageOptions> {
  const o: ImageOptions = {};
  const s = (k: string) => str(values[k]);
  if (s("tag") !== undefined) o.tag = s("tag");
  if (s("architecture") !== undefined) o.architecture = s("architecture");
  if (s("created") !== undefined) o.created = s("created");
  if (s("mtime") !== undefined) o.mtime = s("mtime");
  const uid = parseIntegerOption("build", "uid", s("uid"));
  const gid = parseIntegerOption("build", "gid", s("gid"));
  if (uid !== undefined) o.uid = uid;
  if (gid !== undefined) o.gid = gid;
  if (s("uname") !== undefined) o.uname = s("uname");
  if (s("gname") !== undefined) o.gname = s("gname");
  o.entrypoint = commandList("entrypoint", s("entrypoint"));
  o.cmd = commandList("cmd", s("cmd"));
  if (o.entrypoint === undefined) delete o.entrypoint;
  if (o.cmd === undefined) delete o.cmd;
  if (list(values.env).length > 0) {
    for (const e of list(values.env)) if (!e.includes("=")) throw new UsageError(`build: --env expects KEY=VALUE, got "${e}"`);
    o.env = list(values.env);
  }
  if (s("workdir") !== undefined) o.workingDir = s("workdir");
  if (s("user") !== undefined) o.user = s("user");
  if (list(values.label).length > 0) o.labels = keyValues("label", list(values.label));
  if (list(values.expose).length > 0) o.exposedPorts = list(values.expose);
  const configFile = s("config");
  if (configFile !== undefined) {
    try {
      o.config = parsePyJson(await readTextInput(configFile));
    } catch (e) {
      if (e instanceof SyntaxError) throw new BuildError("bad-option", `--config ${configFile}: invalid JSON: ${e.message}`, configFile);
      throw e;
    }
  }
  const contents = s("contents");
  const custom = s("customisation-layer");
  if (contents !== undefined && custom !== undefined)
    throw new UsageError("build: --contents and --customisation-layer exclude each other (both make the top layer)");
  let c: CustomisationLayer | undefined;
  if (contents !== undefined) c = { kind: "directory", dir: contents };
  if (custom !== undefined) c = { kind: "nixpkgs", dir: custom };
  if (c !== undefined) o.customisation = c;
  if (s("from-image") !== undefined) o.fromImage = s("from-image");
  if (s("store-root") !== undefined) o.storeRoot = s("store-root");
  if (s("store-dir") !== undefined) o.storeDir = s("store-dir");
  return o;
}

const IMAGE_FLAGS = [
  "from-image",
  "tag",
  "architecture",
  "created",
  "mtime",
  "uid",
  "gid",
  "uname",
  "gname",
  "entrypoint",
  "cmd",
  "env",
  "workdir",
  "user",
  "label",
  "expose",
  "config",
  "contents",
  "customisation-layer",
  "layers",
  "store-dir",
];

export const buildCommand: Command = {
  name: "build",
  summary: "write the image (docker-archive byte for byte nixpkgs' streamLayeredImage) from the store on disk",
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const planOptionSpecs = planOptionSpecsFor();
    const { values, positionals } = parseCommandArgs("build", args, { ...planOptionSpecs, ...imageOptionSpecs });
    const format = str(values.format) ?? "docker-archive";
    if (!(buildFormats as readonly string[]).includes(format)) throw new UsageError(`build: unknown --format "${format}". Formats: ${buildFormats.join(", ")}`);
    const output = str(values.output);
    const oci = format === "oci" ? await ociOptions(values, output, io) : undefined;
    if ((output === undefined || output === "-") && io.stdoutIsTty) {
      throw new UsageError("build: refusing to write an image to a terminal; use -o FILE or a pipe (e.g. | docker load)");
    }
    if (oci === undefined) {
      const ociOnly = ["compression", "cache", "no-cache", "jobs"].find((k) => values[k] !== undefined);
      if (ociOnly !== undefined) throw new UsageError(`build: --${ociOnly} applies to --format oci only`);
    }
    const target = output === undefined || output === "-" ? process.stdout : output;
    const pushTo = checkPushAfterBuild(values, format, output); // issue 15: refs checked before building
    const pushAfter = async (code: number) =>
      code === 0 && pushTo !== undefined && output !== undefined ? (await pushAfterBuild(output, pushTo, values, io), code) : code;
    const quiet = values.quiet === true;
    const msg = messages(io, quiet);
    let result: BuildResult;
    const conf = str(values["nixpkgs-conf"]);
    if (conf !== undefined) {
      const clash = [...IMAGE_FLAGS, ...Object.keys(planOptionSpecs).filter((k) => k !== "quiet" && k !== "verbose")].filter((k) => values[k] !== undefined);
      if (clash.length > 0)
        throw new UsageError(`build: --nixpkgs-conf describes the whole image; it excludes --${clash[0]} (use --repo-tag and --store-root only)`);
      if (positionals.length > 0) throw new UsageError("build: --nixpkgs-conf takes no CLOSURE (the conf lists the store layers)");
      const repoTag = str(values["repo-tag"]);
      const storeRoot = str(values["store-root"]);
      if (oci !== undefined) {
        const spec = await imageSpecFromConfFile(conf, { ...(repoTag === undefined ? {} : { repoTag }), ...(storeRoot === undefined ? {} : { storeRoot }) });
        return pushAfter(await runOci(spec, oci, io, msg, quiet)); // issue 15: --push
      }
      result = await buildImageFromConf(conf, {
        output: target,
        ...(repoTag === undefined ? {} : { repoTag }),
        ...(storeRoot === undefined ? {} : { storeRoot }),
      });
    } else {
      if (values["repo-tag"] !== undefined) throw new UsageError("build: --repo-tag goes with --nixpkgs-conf; use --tag otherwise");
      const layersFile = str(values.layers);
      if (positionals.length > 1) throw new UsageError(`build: expected one CLOSURE, got ${positionals.length}. See 'strata build --help'.`);
      if (positionals.length === 0 && layersFile === undefined)
        throw new UsageError("build: expected a CLOSURE (or --layers FILE, or --nixpkgs-conf FILE). See 'strata build --help'.");
      const options = await imageOptions(values);
      let layers: string[][];
      let sizes: Map<string, number> | undefined;
      if (layersFile !== undefined) {
        const planFlags = Object.keys(planOptionSpecs).filter((k) => k !== "quiet" && k !== "verbose" && k !== "exclude" && values[k] !== undefined);
        if (planFlags.length > 0) throw new UsageError(`build: --layers gives the plan; it excludes --${planFlags[0]}`);
        layers = readPlanFile(await readJsonInput(layersFile), layersFile);
        if (positionals.length === 1) {
          const doc = await readClosureInput(positionals[0]);
          const excluded = list(values.exclude).length > 0 ? list(values.exclude) : (doc.excludePaths ?? []);
          checkPlanAgainstClosure(doc, layers, excluded);
          sizes = new Map(doc.entries.map((e) => [e.path, e.narSize]));
        }
      } else {
        const setup = await setupPlan("build", values, io);
        const planned = await runPlan(positionals[0], setup);
        layers = planned.layers.map((l) => [...l]);
        sizes = new Map(planned.doc.entries.map((e) => [e.path, e.narSize]));
      }
      const spec = imageSpec(layers, options);
      if (oci !== undefined) {
        // narSize per path (progress) and, from a closure file, narHash (cache key).
        const narHashes = positionals.length === 1 ? await closureNarHashes(positionals[0]) : {};
        return pushAfter(await runOci(spec, { ...oci, sizes, ...narHashes }, io, msg, quiet)); // issue 15: --push
      }
      result = await writeDockerArchive(spec, target);
    }
    if (values.verbose === true && !quiet) {
      msg.info(
        `${result.layers.length} layers, image ${result.imageId.slice(0, 12)}, ${result.size} bytes${typeof target === "string" ? ` written to ${target}` : ""}`,
      );
    }
    return 0;
  },
};
