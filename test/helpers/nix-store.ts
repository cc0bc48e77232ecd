// The compat Nix store (../shared/compat/build/store.nix), built with the
// machine's nix-build (Debian's nix-bin). Tests that need real store paths
// call buildCompatStore() first: it FAILS (throws) when nix-build is missing
// or the build fails, it never skips.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { sharedPath } from "./shared.js";

let built: string[] | undefined;

/** Builds (idempotently, ~5 s) the compat store and returns the output paths. */
export function buildCompatStore(): string[] {
  if (built !== undefined) return built;
  const r = spawnSync(
    "nix-build",
    ["--option", "sandbox", "false", "--option", "build-users-group", "", "--option", "substituters", "", "--no-out-link", sharedPath("compat/build/store.nix")],
    { encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (r.error !== undefined) throw new Error(`nix-build could not run (install nix-bin): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`nix-build of the compat store failed (exit ${r.status}):\n${r.stderr}`);
  built = r.stdout.trim().split("\n");
  for (const p of built) if (!existsSync(p)) throw new Error(`nix-build reported ${p}, which is not on disk`);
  return built;
}

export interface CompatCase {
  readonly name: string;
  readonly input: {
    readonly conf: Record<string, unknown> & { uid: number | string; gid: number | string; uname: string; gname: string };
    readonly plan: string[][];
    readonly customisation_layer: { path: string; checksum: string; layer_tar_size: number };
  };
  readonly expected: { readonly diff_ids: string[]; readonly config: string; readonly layers: { paths: string[]; size: number }[] };
}

export function compatCase(name: string): CompatCase {
  return JSON.parse(readFileSync(sharedPath(`compat/build/${name}.json`), "utf8")) as CompatCase;
}

/** narHash per path of the compat store's closure. */
export function compatNarHashes(): Map<string, string> {
  const doc = JSON.parse(readFileSync(sharedPath("compat/build/store-closure.json"), "utf8")) as { graph: { path: string; narHash: string }[] };
  return new Map(doc.graph.map((e) => [e.path, e.narHash]));
}
