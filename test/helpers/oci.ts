// Helpers for OCI layout tests: build a compat case as an OCI layout through
// the built library (layer workers load dist/), read layouts back, run the
// real image tools.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { writeOciLayout, type OciLayoutResult } from "../../dist/image/oci/layout.js";
import { LayerCache } from "../../dist/image/cache/index.js";
import type { CompressionSpec } from "../../dist/image/compress/index.js";
import { readBuildCase, type BuildCase } from "./nix-store.js";
import { sharedPath } from "./shared.js";

export const compatCase = readBuildCase;

/** narHash per path of the compat store's closure. */
export function compatNarHashes(): Map<string, string> {
  const doc = JSON.parse(readFileSync(sharedPath("compat/build/store-closure.json"), "utf8")) as { graph: { path: string; narHash: string }[] };
  return new Map(doc.graph.map((e) => [e.path, e.narHash]));
}

/** sha256 over every file name (relative to dir) and file content below dir. */
export function treeDigest(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      h.update(`${p.slice(dir.length)}\0`);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest("hex");
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `strata-${prefix}-`));
}

export function settingsOf(c: BuildCase) {
  const conf = c.input.conf as unknown as { mtime: string; uid: number | string; gid: number | string; uname: string; gname: string };
  return { mtime: Math.trunc(Date.parse(String(conf.mtime)) / 1000), uid: Number(conf.uid), gid: Number(conf.gid), uname: conf.uname, gname: conf.gname };
}

/** A stand-in config (the tests compare diff_ids, which is what the OCI writer puts in). */
export function simpleConfig(diffIds: readonly string[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: diffIds } }));
}

export interface CaseBuild {
  readonly outDir: string;
  readonly compression?: CompressionSpec;
  readonly cacheDir?: string;
  readonly tag?: string;
  readonly plan?: string[][];
  readonly narHashes?: Map<string, string>;
  readonly workers?: number;
}

/** Builds a compat case (store layers + its customisation layer tar) as an OCI layout. */
export async function buildCase(name: string, b: CaseBuild): Promise<OciLayoutResult> {
  const c = compatCase(name);
  const plan = b.plan ?? c.input.plan;
  return writeOciLayout({
    outDir: b.outDir,
    layers: [...plan.map((paths) => ({ paths })), { tarFile: join(c.input.customisation_layer.path, "layer.tar"), paths: [c.input.customisation_layer.path] }],
    settings: settingsOf(c),
    store: { storeDir: "/nix/store" },
    compression: b.compression ?? { algorithm: "gzip", level: 6 },
    narHashes: b.narHashes ?? compatNarHashes(),
    cache: b.cacheDir === undefined ? undefined : await LayerCache.open(b.cacheDir),
    config: simpleConfig,
    tag: b.tag ?? `${name}:v0`,
    workers: b.workers,
  });
}

export function run(cmd: string, args: string[], options: { input?: Uint8Array; env?: Record<string, string> } = {}): string {
  const r = spawnSync(cmd, args, {
    input: options.input,
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
  });
  if (r.error !== undefined) throw new Error(`${cmd} could not run: ${r.error.message}`);
  expect(r.status, `${cmd} ${args.join(" ")} failed:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

export interface Manifest {
  config: { digest: string; size: number; mediaType: string };
  layers: { digest: string; size: number; mediaType: string; annotations: Record<string, string> }[];
}

export function readLayout(dir: string): {
  index: { manifests: { digest: string; annotations?: Record<string, string> }[] };
  manifest: Manifest;
  blob(d: string): Buffer;
} {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const blob = (d: string) => readFileSync(join(dir, "blobs", "sha256", d.replace(/^sha256:/, "")));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString("utf8")) as Manifest;
  return { index, manifest, blob };
}

/** diff -r --no-dereference of each store path against an unpacked root filesystem. */
export function expectRootfsHas(rootfs: string, paths: readonly string[]): void {
  for (const p of paths) run("diff", ["-r", "--no-dereference", p, join(rootfs, p)]);
}
