// The real Nix store of ../shared/compat/build: built (idempotently, a few
// seconds) with Debian's nix-bin before the image tests run. A missing
// nix-build or a failing build fails the tests: they need the real store.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { sharedPath } from "./shared.js";

export const compatBuildDir = sharedPath("compat", "build");

let built: string[] | undefined;

/** Runs nix-build on store.nix (retrying once: Nix 2.8 sometimes reports a finished builder as killed). */
export function ensureCompatStore(): string[] {
  if (built !== undefined) return built;
  const args = [
    "--option",
    "sandbox",
    "false",
    "--option",
    "build-users-group",
    "",
    "--option",
    "substituters",
    "",
    "--no-out-link",
    `${compatBuildDir}/store.nix`,
  ];
  let last = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = spawnSync("nix-build", args, { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.error !== undefined) throw new Error(`nix-build could not run (install Debian's nix-bin): ${r.error.message}`);
    if (r.status === 0) {
      built = r.stdout.split("\n").filter((l) => l.startsWith("/"));
      for (const p of built) if (!existsSync(p)) throw new Error(`nix-build printed ${p}, which does not exist`);
      return built;
    }
    last = r.stderr;
  }
  throw new Error(`nix-build ${compatBuildDir}/store.nix failed:\n${last}`);
}

export interface BuildCase {
  name: string;
  file: string;
  input: {
    conf: Record<string, unknown> & { store_layers: string[][]; customisation_layer: string };
    plan: string[][];
    customisation_layer: { path: string; checksum: string; layer_tar_size: number };
  };
  expected: {
    stream: { sha256: string; size: number };
    diff_ids: string[];
    config_name: string;
    config: string;
    manifest: string;
    layers: { diff_id: string; size: number; paths: string[]; customisation: boolean }[];
  };
}

export const buildCaseNames = ["per-path", "grouped", "all-in-one", "mtime-owner", "edge-owner-empty-layer"];

export function readBuildCase(name: string): BuildCase {
  const file = `${compatBuildDir}/${name}.json`;
  return { ...(JSON.parse(readFileSync(file, "utf8")) as Omit<BuildCase, "file">), file };
}
