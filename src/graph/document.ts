// Closure documents: recognise the JSON shapes Nix tools print and turn them
// into a flat list of validated entries. No graph work happens here.
//
// Accepted shapes:
//   1. exportReferencesGraph list: [{path, narSize, references, closureSize?, narHash?}, ...]
//   2. the nixpkgs layering CLI document (`.attrs.json`): {graph: [...], pipeline?, exclude_paths?}
//      (strata also reads `roots`, and Nixery's `exportReferencesGraph.graph` root list)
//   3. `nix path-info --json --recursive`: the same list shape, or an object keyed by path.
import { InputError } from "../errors.js";

export interface ClosureEntry {
  readonly path: string;
  /** Bytes of the path's NAR serialisation; 0 when absent and not required. */
  readonly narSize: number;
  /** Referenced paths as written (self references included, if any). */
  readonly references: readonly string[];
  /** As given by the producer; used only by Nixery, which trusts it. */
  readonly closureSize?: number;
}

export type ClosureFormat = "references-graph" | "attrs-document" | "path-info-list" | "path-info-object";

export interface ClosureDocument {
  readonly format: ClosureFormat;
  readonly entries: readonly ClosureEntry[];
  /** `pipeline` of the attrs document, unvalidated (the pipeline parser checks it). */
  readonly pipeline?: unknown;
  /** `exclude_paths` of the attrs document; undefined when absent or null. */
  readonly excludePaths?: readonly string[];
  /** Requested root paths, from `roots` or `exportReferencesGraph.graph`. */
  readonly roots?: readonly string[];
}

export interface ReadOptions {
  /** closure-graph.py never reads narSize; everything else needs it. Default true. */
  readonly requireNarSize?: boolean;
}

/** Parses JSON text, turning syntax errors into an InputError with the position. */
export function parseJsonText(text: string, what = "input"): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new InputError("invalid-json", `${what} is not valid JSON: ${detail}`);
  }
}

export function readClosureDocument(value: unknown, options: ReadOptions = {}): ClosureDocument {
  const requireNarSize = options.requireNarSize ?? true;
  if (Array.isArray(value)) {
    const looksLikePathInfo = value.length > 0 && isObject(value[0]) && !("closureSize" in value[0]) && "narHash" in value[0] && "valid" in value[0];
    return {
      format: looksLikePathInfo ? "path-info-list" : "references-graph",
      entries: readEntryList(value, "$", requireNarSize),
    };
  }
  if (!isObject(value)) {
    throw new InputError("unsupported-shape", `input must be a JSON list of store path entries or an object, got ${describe(value)}`);
  }
  if ("graph" in value) {
    const graph = value.graph;
    if (!Array.isArray(graph)) {
      throw new InputError("unsupported-shape", `$.graph must be a list of store path entries, got ${describe(graph)}`);
    }
    const doc: { -readonly [K in keyof ClosureDocument]: ClosureDocument[K] } = {
      format: "attrs-document",
      entries: readEntryList(graph, "$.graph", requireNarSize),
    };
    if ("pipeline" in value && value.pipeline !== null) doc.pipeline = value.pipeline;
    if ("exclude_paths" in value && value.exclude_paths !== null) {
      doc.excludePaths = readPathList(value.exclude_paths, "$.exclude_paths");
    }
    const erg = value.exportReferencesGraph;
    if ("roots" in value && value.roots !== null) {
      doc.roots = readPathList(value.roots, "$.roots");
    } else if (isObject(erg) && Array.isArray(erg.graph)) {
      doc.roots = readPathList(erg.graph, "$.exportReferencesGraph.graph");
    }
    return doc;
  }
  // `nix path-info --json` object form: {"/nix/store/...": {narSize, references, ...}, ...}
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((k) => k.startsWith("/"))) {
    const entries: ClosureEntry[] = [];
    for (const key of keys) {
      const info = value[key];
      const where = `$[${JSON.stringify(key)}]`;
      if (info === null) {
        throw new InputError("bad-entry", `${where}: path-info reports "${key}" as not valid in the store (null)`, key);
      }
      if (!isObject(info)) throw new InputError("bad-entry", `${where} must be an object, got ${describe(info)}`, key);
      entries.push(readEntry({ ...info, path: key }, where, requireNarSize));
    }
    return { format: "path-info-object", entries };
  }
  if (keys.length === 0) return { format: "path-info-object", entries: [] };
  throw new InputError(
    "unsupported-shape",
    `input object has neither a "graph" list nor store-path keys (keys: ${keys
      .slice(0, 5)
      .map((k) => JSON.stringify(k))
      .join(", ")}${keys.length > 5 ? ", ..." : ""})`,
  );
}

function readEntryList(list: readonly unknown[], where: string, requireNarSize: boolean): ClosureEntry[] {
  const out: ClosureEntry[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = readEntry(list[i], `${where}[${i}]`, requireNarSize);
  return out;
}

function readEntry(raw: unknown, where: string, requireNarSize: boolean): ClosureEntry {
  if (!isObject(raw)) throw new InputError("bad-entry", `${where} must be an object with "path", got ${describe(raw)}`);
  const path = raw.path;
  if (typeof path !== "string" || path.length === 0) {
    throw new InputError("bad-path", `${where}.path must be a non-empty string, got ${describe(path)}`);
  }
  let narSize = 0;
  if ("narSize" in raw) narSize = readSize(raw.narSize, `${where}.narSize`, path);
  else if (requireNarSize) throw new InputError("bad-nar-size", `${where} ("${path}") has no narSize`, path);
  const refs = raw.references ?? [];
  if (!Array.isArray(refs)) {
    throw new InputError("bad-references", `${where}.references ("${path}") must be a list of paths, got ${describe(refs)}`, path);
  }
  for (let j = 0; j < refs.length; j++) {
    if (typeof refs[j] !== "string" || refs[j].length === 0) {
      throw new InputError("bad-references", `${where}.references[${j}] ("${path}") must be a non-empty string, got ${describe(refs[j])}`, path);
    }
  }
  const entry: { -readonly [K in keyof ClosureEntry]: ClosureEntry[K] } = { path, narSize, references: refs as string[] };
  if (typeof raw.closureSize === "number" && Number.isSafeInteger(raw.closureSize) && raw.closureSize >= 0) {
    entry.closureSize = raw.closureSize;
  }
  return entry;
}

/**
 * Sizes are non-negative integers. Above 2^53 a JSON number is no longer exact
 * in JavaScript, so such sizes are rejected rather than silently rounded
 * (no real store path is 9 PB).
 */
export function readSize(v: unknown, where: string, path: string): number {
  if (typeof v !== "number") {
    throw new InputError("bad-nar-size", `${where} ("${path}") must be a number of bytes, got ${describe(v)}`, path);
  }
  if (!Number.isInteger(v)) throw new InputError("bad-nar-size", `${where} ("${path}") must be a whole number of bytes, got ${v}`, path);
  if (v < 0) throw new InputError("bad-nar-size", `${where} ("${path}") must not be negative, got ${v}`, path);
  if (!Number.isSafeInteger(v)) {
    throw new InputError("bad-nar-size", `${where} ("${path}") is ${v}, above 2^53-1 bytes, which strata cannot represent exactly`, path);
  }
  return v;
}

export function readPathList(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new InputError("unsupported-shape", `${where} must be a list of paths, got ${describe(v)}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== "string") throw new InputError("bad-path", `${where}[${i}] must be a string, got ${describe(v[i])}`);
  }
  return v as string[];
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 57) + "..." : v);
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}
