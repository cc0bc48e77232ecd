// Running strata's CLI from tests: in-process with captured output, or as the
// built program (dist/cli/main.js, made by `npm run build`) in a child process.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.js";
import { repoRoot } from "./shared.js";

export const builtCli = join(repoRoot, "dist", "cli", "main.js");

/** runCli with stdout and stderr captured; no terminal, empty environment. */
export async function captureCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(args, { out: (t) => void (out += t), err: (t) => void (err += t), stdoutIsTty: false, stderrIsTty: false, env: {} });
  return { code, out, err };
}

export interface SpawnOptions {
  readonly input?: string | Uint8Array;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** The built CLI as a child process (text output, room for large results). */
export function spawnCli(args: string[], options: SpawnOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [builtCli, ...args], {
    input: options.input,
    cwd: options.cwd,
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
  });
}
