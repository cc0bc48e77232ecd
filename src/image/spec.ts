// What an image is made of, independent of how it was asked for (nixpkgs'
// conf.json or `strata build` options): the store layers, the tar settings,
// the config JSON and the customisation layer. Both the CLI and the library
// (buildImage) turn their input into an ImageSpec; the writers take only this.
import { PyNumber, parsePyJson, type PyJsonValue } from "../format/python-json.js";
import { BuildError } from "../errors.js";
import type { StoreLocation, TarSettings } from "./layer-tar.js";
import { isoFormat, parseIsoDateTime, pyInt, pyNowUtc, pyTimestamp, type PyDateTime } from "./python.js";

/** The top layer with extra contents. */
export type CustomisationLayer =
  /** nixpkgs' customisation layer: a directory with `layer.tar` and `checksum` (copied as is; checksum = diff_id). */
  | { kind: "nixpkgs"; dir: string; /** the string shown in the history comment (default: dir) */ label?: string }
  /** a directory whose contents are tarred as nixpkgs tars its customisation layer (GNU tar, sorted, numeric owner 0, mtime 1980-01-01). */
  | { kind: "directory"; dir: string; label?: string };

export interface ImageSpec {
  /** Store layers, bottom first; each an ordered list of store paths. */
  storeLayers: string[][];
  store: StoreLocation;
  /** Owner and mtime of every store-layer entry; `mtime` also dates the outer entries. */
  tar: TarSettings;
  /** The config's `created` text (Python's isoformat of the created time). */
  created: string;
  architecture: string;
  /** The image config's `config` object, key order kept (a Map). */
  config: PyJsonValue;
  repoTag: string;
  customisation?: CustomisationLayer;
  /** A base docker-archive whose layers go first (nixpkgs' fromImage). */
  fromImage?: string;
}

const CONF_KEYS = [
  "created",
  "mtime",
  "uid",
  "gid",
  "uname",
  "gname",
  "store_dir",
  "from_image",
  "store_layers",
  "customisation_layer",
  "architecture",
  "config",
  "repo_tag",
] as const;

/** Parses a time as the script does: "now" or datetime.fromisoformat. */
export function parseScriptTime(value: string, what: string, now: PyDateTime): PyDateTime {
  if (value === "now") return now;
  const dt = parseIsoDateTime(value);
  if (dt === undefined) throw new BuildError("bad-conf", `${what}: "${value}" is not an ISO 8601 date and time (e.g. 2024-06-01T12:00:00Z) or "now"`);
  return dt;
}

function asString(v: PyJsonValue | undefined, key: string, where: string): string {
  if (typeof v !== "string") throw new BuildError("bad-conf", `${where}: "${key}" must be a string`);
  return v;
}

function asInt(v: PyJsonValue | undefined, key: string, where: string): number {
  const n = v instanceof PyNumber ? pyInt(/^-?\d+$/.test(v.text) ? v.text : Number(v.text)) : pyInt(v);
  if (n === undefined)
    throw new BuildError(
      "bad-conf",
      `${where}: "${key}" must be an integer (or a string holding one), got ${JSON.stringify(v instanceof PyNumber ? v.text : v)}`,
    );
  return n;
}

/**
 * Reads nixpkgs' conf.json (the file streamLayeredImage hands
 * stream_layered_image.py). Every key the script reads is required; a
 * missing one is BuildError "missing-key" naming it. `repoTag` overrides
 * `repo_tag` (the script's --repo_tag).
 */
export function imageSpecFromConf(text: string, where: string, options: { repoTag?: string; storeRoot?: string; now?: Date } = {}): ImageSpec {
  let conf: PyJsonValue;
  try {
    conf = parsePyJson(text);
  } catch (e) {
    throw new BuildError("bad-conf", `${where}: invalid JSON: ${(e as Error).message}`, where);
  }
  if (!(conf instanceof Map)) throw new BuildError("bad-conf", `${where}: expected a JSON object (nixpkgs' conf.json)`, where);
  for (const key of CONF_KEYS) {
    if (!conf.has(key)) throw new BuildError("missing-key", `${where}: missing key "${key}" (stream_layered_image.py reads ${CONF_KEYS.join(", ")})`, where);
  }
  const now = pyNowUtc(options.now);
  const created = parseScriptTime(asString(conf.get("created"), "created", where), `${where}: "created"`, now);
  const mtime = pyTimestamp(parseScriptTime(asString(conf.get("mtime"), "mtime", where), `${where}: "mtime"`, now));
  const layersValue = conf.get("store_layers");
  if (!Array.isArray(layersValue) || !layersValue.every((l) => Array.isArray(l) && l.every((p) => typeof p === "string"))) {
    throw new BuildError("bad-conf", `${where}: "store_layers" must be a list of lists of store paths`, where);
  }
  const storeDir = asString(conf.get("store_dir"), "store_dir", where);
  const storeLayers = layersValue as string[][];
  for (const layer of storeLayers) {
    for (const p of layer) {
      // the script's check: a plain prefix test
      if (!p.startsWith(storeDir)) throw new BuildError("outside-store-dir", `${where}: store path ${p} does not start with store_dir ${storeDir}`, p);
    }
  }
  const fromImage = conf.get("from_image");
  if (fromImage !== null && typeof fromImage !== "string") throw new BuildError("bad-conf", `${where}: "from_image" must be null or a path`, where);
  const custom = asString(conf.get("customisation_layer"), "customisation_layer", where);
  const store: StoreLocation = { storeDir };
  if (options.storeRoot !== undefined) store.storeRoot = options.storeRoot;
  const customDir =
    options.storeRoot !== undefined && custom.startsWith(storeDir + "/") ? options.storeRoot.replace(/\/+$/, "") + custom.slice(storeDir.length) : custom;
  const spec: ImageSpec = {
    storeLayers,
    store,
    tar: {
      mtime,
      uid: asInt(conf.get("uid"), "uid", where),
      gid: asInt(conf.get("gid"), "gid", where),
      uname: asString(conf.get("uname"), "uname", where),
      gname: asString(conf.get("gname"), "gname", where),
    },
    created: isoFormat(created),
    architecture: asString(conf.get("architecture"), "architecture", where),
    config: conf.get("config")!,
    repoTag: options.repoTag ?? asString(conf.get("repo_tag"), "repo_tag", where),
    customisation: { kind: "nixpkgs", dir: customDir, label: custom },
  };
  if (typeof fromImage === "string") spec.fromImage = fromImage;
  return spec;
}
