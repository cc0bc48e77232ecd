// The OCI half of `strata build` (--format oci): options, the layer cache,
// the progress line and the summary. The command itself is commands/build.ts.
import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { readJsonInput } from "../io/node.js";
import { LayerCache, defaultCacheDir } from "../image/cache/index.js";
import { parseCompression, type CompressionSpec } from "../image/compress/index.js";
import { writeOciImage, type OciImageOptions } from "../image/oci/index.js";
import type { LayerProgress } from "../image/oci/layers.js";
import type { ImageSpec } from "../image/spec.js";
import type { CliIo, ParsedArgs } from "./command.js";
import { parseIntegerOption } from "./command.js";
import type { Messages } from "./messages.js";
import { createProgress, formatBytes } from "./progress.js";

export interface OciCliOptions {
  readonly outDir: string;
  readonly compression: CompressionSpec;
  /** undefined with --no-cache */
  readonly cacheDir?: string;
  readonly workers: number;
  readonly narHashes?: ReadonlyMap<string, string>;
  readonly sizes?: ReadonlyMap<string, number>;
}

type Values = ParsedArgs["values"];

export async function ociOptions(values: Values, output: string | undefined, io: CliIo): Promise<OciCliOptions> {
  if (output === undefined || output === "-") throw new UsageError("build: --format oci writes a directory: give it with -o DIR");
  const compression = parseCompression(typeof values.compression === "string" ? values.compression : "gzip");
  if (values["no-cache"] === true && values.cache !== undefined) throw new UsageError("build: --cache and --no-cache exclude each other");
  const jobs = parseIntegerOption("build", "jobs", typeof values.jobs === "string" ? values.jobs : undefined);
  if (jobs !== undefined && jobs < 1) throw new UsageError(`build: --jobs must be at least 1, got ${jobs}`);
  const cacheDir = values["no-cache"] === true ? undefined : typeof values.cache === "string" ? values.cache : defaultCacheDir(io.env);
  return { outDir: output, compression, workers: jobs ?? availableParallelism(), ...(cacheDir === undefined ? {} : { cacheDir }) };
}

/** Each path's narHash from the closure file (part of the layer cache key), when it has them. */
export async function closureNarHashes(closure: string): Promise<{ narHashes?: Map<string, string> }> {
  const narHashes = new Map<string, string>();
  // A second, plain read of the closure for the narHash fields the planner does not keep;
  // skipped for stdin (already consumed) and very large files (keys then use paths alone).
  const st = closure === "-" ? undefined : await stat(closure).catch(() => undefined);
  if (st !== undefined && st.size < 64 << 20) {
    const value = await readJsonInput(closure).catch(() => undefined);
    const graph = Array.isArray(value)
      ? value
      : isObject(value) && Array.isArray(value.graph)
        ? value.graph
        : isObject(value)
          ? Object.entries(value).map(([path, v]) => ({ ...(isObject(v) ? v : {}), path }))
          : [];
    for (const e of graph) if (isObject(e) && typeof e.path === "string" && typeof e.narHash === "string") narHashes.set(e.path, e.narHash);
  }
  return narHashes.size > 0 ? { narHashes } : {};
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The progress line: layers done of all, cache hits, bytes compressed of the estimate (narSize). */
export function ociProgressText(p: LayerProgress): string {
  const of =
    p.bytesTotal !== undefined && p.bytesTotal > 0
      ? ` of ~${formatBytes(p.bytesTotal)} (${Math.min(100, Math.floor((100 * p.bytesDone) / p.bytesTotal))}%)`
      : "";
  return `layers ${p.layersDone}/${p.layers} (${p.cacheHits} cached), compressed ${formatBytes(p.bytesDone)}${of}`;
}

export async function runOci(spec: ImageSpec, o: OciCliOptions, io: CliIo, msg: Messages, quiet: boolean): Promise<number> {
  const cache = o.cacheDir === undefined ? undefined : await LayerCache.open(o.cacheDir);
  const progress = createProgress({ write: io.err, isTty: io.stderrIsTty, quiet });
  const options: OciImageOptions = {
    compression: o.compression,
    cache,
    narHashes: o.narHashes,
    sizeOf: o.sizes === undefined ? undefined : (p) => o.sizes!.get(p),
    workers: o.workers,
    onProgress: (p) => progress.status(ociProgressText(p)),
  };
  let r;
  try {
    r = await writeOciImage(spec, o.outDir, options);
  } finally {
    progress.done();
  }
  msg.note(
    `OCI layout ${o.outDir}${r.refName === undefined ? "" : ` (tag ${r.refName})`}: ${r.layers.length} layers, ${cache === undefined ? "no cache" : `${r.cacheHits} from the cache, ${r.cacheMisses} built`}, ` +
      `${formatBytes(r.layers.reduce((n, l) => n + l.size, 0))} compressed (${o.compression.algorithm}:${o.compression.level}); manifest ${r.manifestDigest}`,
  );
  return 0;
}
