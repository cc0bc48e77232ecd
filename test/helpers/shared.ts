// Access to ../shared (reference material, compat cases, data) for tests.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const sharedRoot = join(repoRoot, "..", "shared");

export function sharedPath(...parts: string[]): string {
  return join(sharedRoot, ...parts);
}

/**
 * The shared reference material (../shared) the compat, kernel and CLI suites
 * need. Missing material fails the suite (never a silent skip): this throws,
 * naming what is missing.
 */
export function requireShared(): void {
  if (!existsSync(sharedPath("compat")) || !existsSync(sharedPath("data"))) {
    throw new Error(`the shared reference material is missing: expected ${sharedRoot}/compat and ${sharedRoot}/data (see ../shared/README.md)`);
  }
}

/** Reads a JSON file, gunzipping .gz files. */
export function readJsonFile(path: string): unknown {
  let bytes: Buffer = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString("utf8"));
}

export function listJson(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") || f.endsWith(".json.gz"))
    .sort()
    .map((f) => join(dir, f));
}
