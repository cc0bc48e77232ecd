// Image assembly shared by the CLI and the library: plan + store -> ImageSpec
// -> docker-archive bytes, written atomically to a file or streamed to a
// writable. Node-only (reads the store from disk).
import { writeSync } from "node:fs";
import { open, readFile, rename, unlink, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { BuildError, StrataError } from "../errors.js";
import { tempSibling } from "../io/node.js";
import { PyNumber, pyFloatRepr, type PyJsonValue } from "../format/python-json.js";
import type { ClosureDocument } from "../graph/document.js";
import { dockerArchiveChunks, prepareImage, writeDockerArchiveSinglePass, type PreparedImage, type PrepareHooks } from "./docker-archive.js";
import type { StoreLocation, TarSettings } from "./layer-tar.js";
import { isoFormat, pyNowUtc, pyTimestamp } from "./python.js";
import { writeOciImageTo, type OciBuildOptions } from "./oci/index.js";
import type { OciLayoutResult } from "./oci/layout.js";
import { imageSpecFromConf, parseScriptTime, type CustomisationLayer, type ImageSpec } from "./spec.js";

/** nixpkgs' streamLayeredImage defaults. */
export const DEFAULT_CREATED = "1970-01-01T00:00:01+00:00";

export interface ImageOptions {
  /** repo:tag of the image (manifest RepoTags); default "strata-image:latest" */
  tag?: string;
  /** default: the Go name of this machine's architecture (amd64, arm64, ...) */
  architecture?: string;
  /** ISO 8601 or "now"; default 1970-01-01T00:00:01+00:00 (nixpkgs' default) */
  created?: string;
  /** file mtime: ISO 8601, "now", or seconds since the epoch; default 1970-01-01T00:00:01Z (nixpkgs' documented default, independent of created) */
  mtime?: string | number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** "80/tcp", "53/udp", or "8080" (tcp) */
  exposedPorts?: string[];
  /** a base image config object (the `config` key); the options above override its keys */
  config?: PyJsonValue | Record<string, unknown>;
  /** extra contents as the top layer */
  customisation?: CustomisationLayer;
  /** a base docker-archive (plain or gzip) whose layers go first, as nixpkgs' fromImage */
  fromImage?: string;
  /** where the store is on disk when not at its own path */
  storeRoot?: string;
  /** the store directory the paths name (default: the directory of the first path) */
  storeDir?: string;
}

export interface BuiltLayer {
  digest: string;
  size: number;
  paths: string[];
  kind: "base" | "store" | "customisation";
}

export interface BuildResult {
  /** sha256 hex of the config (the image ID) */
  imageId: string;
  layers: BuiltLayer[];
  /** bytes written */
  size: number;
  config: string;
  manifest: string;
}

const GOARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
};

function toPy(v: unknown): PyJsonValue {
  if (v === null || typeof v === "string" || typeof v === "boolean" || v instanceof PyNumber) return v as PyJsonValue;
  if (typeof v === "number") return new PyNumber(Number.isInteger(v) ? String(v) : pyFloatRepr(v));
  if (Array.isArray(v)) return v.map(toPy);
  if (v instanceof Map) return new Map([...v.entries()].map(([k, x]) => [k, toPy(x)]));
  if (typeof v === "object") return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toPy(x)]));
  throw new BuildError("bad-option", `config: unsupported value ${String(v)}`);
}

/** Nix's builtins.toJSON order: object keys sorted (byte order), recursively, as nixpkgs hands the config over. */
function sortKeysDeep(v: PyJsonValue): PyJsonValue {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v instanceof Map) {
    const keys = [...v.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return new Map(keys.map((k) => [k, sortKeysDeep(v.get(k)!)]));
  }
  return v;
}

/** The store directory the paths name: all must share it. */
export function storeDirOf(layers: readonly (readonly string[])[], given?: string): string {
  let dir = given?.replace(/\/+$/, "");
  for (const layer of layers) {
    for (const p of layer) {
      const d = p.slice(0, p.lastIndexOf("/"));
      if (dir === undefined) dir = d;
      else if (!(p.startsWith(dir + "/") && p.length > dir.length + 1)) {
        throw new BuildError(
          "outside-store-dir",
          `store path ${p} is not under the store directory ${dir} (all paths of an image must come from one store)`,
          p,
        );
      }
    }
  }
  return dir ?? "/nix/store";
}

/**
 * Checks a plan against its closure: every layer path in the closure and not
 * excluded, every (non-excluded) closure path in exactly one layer.
 */
export function checkPlanAgainstClosure(doc: ClosureDocument, layers: readonly (readonly string[])[], excluded: Iterable<string> = []): void {
  const out = new Set(excluded);
  const inClosure = new Set<string>();
  for (const e of doc.entries) inClosure.add(e.path);
  const seen = new Map<string, number>();
  layers.forEach((layer, i) => {
    for (const p of layer) {
      if (!inClosure.has(p)) throw new BuildError("plan-mismatch", `the plan's layer ${i + 1} names ${p}, which is not in the closure`, p);
      if (out.has(p)) throw new BuildError("plan-mismatch", `the plan's layer ${i + 1} names ${p}, which is excluded from the image`, p);
      const before = seen.get(p);
      if (before !== undefined)
        throw new BuildError("plan-mismatch", `${p} is in layer ${before + 1} and in layer ${i + 1} of the plan; each path belongs in one layer`, p);
      seen.set(p, i);
    }
  });
  for (const p of inClosure) {
    if (!out.has(p) && !seen.has(p)) throw new BuildError("plan-mismatch", `the plan misses ${p}, which is in the closure (plan every path, or exclude it)`, p);
  }
}

/** An ImageSpec from store layers and image options (what `strata build CLOSURE` does after planning). */
export function imageSpec(layers: readonly (readonly string[])[], options: ImageOptions = {}, now = new Date()): ImageSpec {
  const nowPy = pyNowUtc(now);
  const createdText = options.created ?? DEFAULT_CREATED;
  const created = parseScriptTime(createdText, "--created", nowPy);
  let mtime: number;
  if (typeof options.mtime === "number") mtime = Math.trunc(options.mtime);
  else if (options.mtime !== undefined && /^@?-?\d+$/.test(options.mtime)) mtime = Number(options.mtime.replace(/^@/, ""));
  else mtime = pyTimestamp(parseScriptTime(options.mtime ?? DEFAULT_CREATED, "--mtime", nowPy));
  const storeDir = storeDirOf(layers, options.storeDir);
  const store: StoreLocation = { storeDir };
  if (options.storeRoot !== undefined) store.storeRoot = options.storeRoot;
  const tar: TarSettings = { mtime, uid: options.uid ?? 0, gid: options.gid ?? 0, uname: options.uname ?? "root", gname: options.gname ?? "root" };
  const base = options.config === undefined ? new Map<string, PyJsonValue>() : toPy(options.config);
  if (!(base instanceof Map)) throw new BuildError("bad-option", 'config: expected a JSON object (the image config\'s "config" part)');
  const config = new Map(base);
  if (options.cmd !== undefined) config.set("Cmd", options.cmd);
  if (options.entrypoint !== undefined) config.set("Entrypoint", options.entrypoint);
  if (options.env !== undefined && options.env.length > 0)
    config.set("Env", [...((Array.isArray(config.get("Env")) ? config.get("Env") : []) as PyJsonValue[]), ...options.env]);
  if (options.exposedPorts !== undefined && options.exposedPorts.length > 0) {
    const ports = config.get("ExposedPorts") instanceof Map ? new Map(config.get("ExposedPorts") as Map<string, PyJsonValue>) : new Map<string, PyJsonValue>();
    for (const p of options.exposedPorts) {
      const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(p);
      if (m === null || Number(m[1]) > 65535) throw new BuildError("bad-option", `--expose: "${p}" is not PORT or PORT/tcp|udp|sctp`);
      ports.set(`${m[1]}/${m[2] ?? "tcp"}`, new Map());
    }
    config.set("ExposedPorts", ports);
  }
  if (options.labels !== undefined && Object.keys(options.labels).length > 0) {
    const labels = config.get("Labels") instanceof Map ? new Map(config.get("Labels") as Map<string, PyJsonValue>) : new Map<string, PyJsonValue>();
    for (const [k, v] of Object.entries(options.labels)) labels.set(k, v);
    config.set("Labels", labels);
  }
  if (options.user !== undefined) config.set("User", options.user);
  if (options.workingDir !== undefined) config.set("WorkingDir", options.workingDir);
  const spec: ImageSpec = {
    storeLayers: layers.map((l) => [...l]),
    store,
    tar,
    created: isoFormat(created),
    architecture: options.architecture ?? GOARCH[process.arch] ?? process.arch,
    config: sortKeysDeep(config),
    repoTag: options.tag ?? "strata-image:latest",
  };
  if (options.customisation !== undefined) spec.customisation = options.customisation;
  if (options.fromImage !== undefined) spec.fromImage = options.fromImage;
  return spec;
}

/** Reads nixpkgs' conf.json from a file. */
export async function imageSpecFromConfFile(file: string, options: { repoTag?: string; storeRoot?: string; now?: Date } = {}): Promise<ImageSpec> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new BuildError("bad-conf", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, file);
  }
  return imageSpecFromConf(text, file, options);
}

export type BuildOutput = string | NodeJS.WritableStream;

async function writeToStream(stream: NodeJS.WritableStream, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  // A failed write (e.g. EPIPE: the reader closed the pipe) is reported on the stream's
  // "error" event; turn it into a BuildError instead of an unhandled error.
  let failed: Error | undefined;
  const onError = (e: Error): void => {
    failed = e;
  };
  stream.on("error", onError);
  try {
    await writeAll(stream, chunks, () => failed);
  } catch (e) {
    const err = failed ?? (e as Error);
    if ((err as NodeJS.ErrnoException).code !== undefined) {
      throw new BuildError("output", `cannot write the image: ${(err as NodeJS.ErrnoException).code === "EPIPE" ? "the reader closed the pipe" : err.message}`);
    }
    throw err;
  } finally {
    stream.off("error", onError);
  }
}

async function writeAll(stream: NodeJS.WritableStream, chunks: AsyncIterable<Uint8Array>, failed: () => Error | undefined): Promise<void> {
  for await (const c of chunks) {
    const f = failed();
    if (f !== undefined) throw f;
    if (!stream.write(c)) {
      await new Promise<void>((resolve, reject) => {
        const already = failed();
        if (already !== undefined) return reject(already);
        const onDrain = (): void => {
          stream.off("error", onError);
          resolve();
        };
        const onError = (e: Error): void => {
          stream.off("drain", onDrain);
          reject(e);
        };
        stream.once("drain", onDrain);
        stream.once("error", onError);
      });
    }
  }
}

/** A temporary file beside `path`, renamed over it when `fill` succeeds and removed when it fails. */
export async function withAtomicFile<T>(path: string, fill: (fh: FileHandle) => Promise<T>): Promise<T> {
  const tmp = tempSibling(path);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, "wx");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? `no directory ${dirname(path)}`
        : code === "EACCES" || code === "EPERM"
          ? `permission denied in ${dirname(path)}`
          : (e as Error).message;
    throw new BuildError("output", `cannot write ${path}: ${why}`, path);
  }
  try {
    const result = await fill(fh);
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
    return result;
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (e instanceof StrataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined) throw new BuildError("output", `cannot write ${path}: ${(e as Error).message}`, path);
    throw e;
  }
}

function resultOf(image: PreparedImage, size: number): BuildResult {
  return {
    imageId: image.configDigest,
    layers: image.layers.map((l) => ({ digest: l.digest, size: l.size, paths: l.paths, kind: l.kind })),
    size,
    config: Buffer.from(image.config).toString("utf8"),
    manifest: Buffer.from(image.manifest).toString("utf8"),
  };
}

export interface WriteOptions extends PrepareHooks {
  onBytes?(n: number): void;
}

/**
 * Writes the docker-archive of `spec` to a file (atomically) or a writable
 * stream. All layers are hashed first, so input errors leave no output.
 */
export async function writeDockerArchive(spec: ImageSpec, output: BuildOutput, options: WriteOptions = {}): Promise<BuildResult> {
  if (typeof output === "string") {
    // A file: one pass over the store (headers filled in once each layer's digest is known).
    const { image, size } = await withAtomicFile(output, (fh) =>
      writeDockerArchiveSinglePass(
        spec,
        {
          // Synchronous positional writes: the layer data is read synchronously too, and a
          // thread-pool round trip per megabyte costs more than it saves.
          async write(data, position) {
            let off = 0;
            while (off < data.length) off += writeSync(fh.fd, data, off, data.length - off, position + off);
          },
        },
        options,
      ),
    );
    return resultOf(image, size);
  }
  // A stream: hash every layer first, then write (no byte out before every input is known good).
  const image = await prepareImage(spec, options);
  let size = 0;
  const chunks = dockerArchiveChunks(image, {
    onBytes: (n) => {
      size += n;
      options.onBytes?.(n);
    },
  });
  try {
    await writeToStream(output, chunks);
  } finally {
    image.close();
  }
  return resultOf(image, size);
}

export interface BuildImageOptions extends ImageOptions, WriteOptions {
  /** store layers, bottom first (a plan, e.g. from planLayers / `strata layer`) */
  layers: readonly (readonly string[])[];
  /** when given, the plan is checked against it (every path planned once, nothing outside it) */
  closure?: ClosureDocument;
  /** paths of the closure deliberately left out of the image */
  exclude?: readonly string[];
  /** a file path (written atomically) or a writable stream; with format "oci" the layout directory */
  output: BuildOutput;
  format?: "docker-archive" | "oci";
  /** format "oci": compression, layer cache, workers (see OciBuildOptions) */
  oci?: Omit<OciBuildOptions, "outDir">;
}

/** Builds an image from a plan: docker-archive bytes byte-identical to nixpkgs' stream_layered_image.py for the same inputs. */
export async function buildImage(options: BuildImageOptions): Promise<BuildResult> {
  if (options.format !== undefined && options.format !== "docker-archive" && options.format !== "oci")
    throw new BuildError("bad-option", `format ${String(options.format)} is not supported by buildImage (docker-archive, oci)`);
  if (options.closure !== undefined) checkPlanAgainstClosure(options.closure, options.layers, options.exclude ?? options.closure.excludePaths ?? []);
  return writeImage(imageSpec(options.layers, options), options);
}

/** Writes `spec` in the format asked for: an OCI layout directory or a docker-archive. */
async function writeImage(
  spec: ImageSpec,
  options: { output: BuildOutput; format?: "docker-archive" | "oci"; oci?: Omit<OciBuildOptions, "outDir"> } & WriteOptions,
): Promise<BuildResult> {
  if (options.format !== "oci") return writeDockerArchive(spec, options.output, options);
  if (typeof options.output !== "string") throw new BuildError("bad-option", "format oci writes a directory: output must be its path, not a stream");
  return ociResult(await writeOciImageTo(spec, { ...options.oci, outDir: options.output }), spec);
}

/** An OCI build as a BuildResult (layers: compressed digests and sizes), with the layout's details in `oci`. */
function ociResult(r: OciLayoutResult, spec: ImageSpec): BuildResult & { oci: OciLayoutResult } {
  // Bottom to top, as in the docker-archive: base layers, store layers, the customisation layer.
  const bases = r.layers.length - spec.storeLayers.length - (spec.customisation ? 1 : 0);
  const kindAt = (i: number): BuildResult["layers"][number]["kind"] => (i < bases ? "base" : i < bases + spec.storeLayers.length ? "store" : "customisation");
  return {
    imageId: r.configDigest.replace(/^sha256:/, ""),
    layers: r.layers.map((l, i) => ({
      digest: l.digest.replace(/^sha256:/, ""),
      size: l.size,
      paths: [...l.paths],
      kind: kindAt(i),
    })),
    size: r.layers.reduce((n, l) => n + l.size, 0),
    config: r.config,
    manifest: r.manifest,
    oci: r,
  };
}

/** Builds the image nixpkgs' conf.json describes (what stream_layered_image.py CONF [--repo_tag TAG] writes). */
export async function buildImageFromConf(
  confFile: string,
  options: {
    output: BuildOutput;
    repoTag?: string;
    storeRoot?: string;
    format?: "docker-archive" | "oci";
    oci?: Omit<OciBuildOptions, "outDir">;
  } & WriteOptions,
): Promise<BuildResult> {
  return writeImage(await imageSpecFromConfFile(confFile, options), options);
}
