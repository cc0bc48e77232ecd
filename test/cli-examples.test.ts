// docs/examples: every command of commands.sh (the ones docs/nix.md shows),
// run with the built CLI in that directory, prints exactly the committed file.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./helpers/shared.js";
import { spawnCli } from "./helpers/cli.js";

const dir = join(repoRoot, "docs", "examples");
const lines = readFileSync(join(dir, "commands.sh"), "utf8")
  .split("\n")
  .filter((l) => l.startsWith("strata "));

/** "strata a b 'c d' > out" -> [["a", "b", "c d"], "out"] (single quotes only, as the file uses). */
function parse(line: string): [string[], string] {
  const [cmd, out] = line.slice("strata ".length).split(" > ");
  const args = [...cmd.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  return [args, out.trim()];
}

describe("docs/examples", () => {
  it("has the commands", () => {
    expect(lines.length).toBeGreaterThanOrEqual(5);
  });

  for (const line of lines) {
    it(line, () => {
      const [args, out] = parse(line);
      const r = spawnCli(args, { cwd: dir });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(dir, out), "utf8"));
    });
  }

  it("docs/nix.md shows every command, and the pipeline gives auto-layer's layers back", () => {
    const doc = readFileSync(join(repoRoot, "docs", "nix.md"), "utf8");
    for (const line of lines) expect(doc).toContain(line);
    expect(readFileSync(join(dir, "from-pipeline.json"), "utf8")).toBe(readFileSync(join(dir, "auto-layer.json"), "utf8"));
  });
});
