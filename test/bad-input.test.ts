// Every entry of the bad-input catalogue (test/helpers/fuzz-bad-input.ts) runs
// through the CLI: the exact message on stderr, the exit code, and nothing on
// stdout. The table in docs/bad-input.md is generated from the same list and
// must match it; regenerate it with
//   STRATA_UPDATE_DOCS=1 npx vitest run test/bad-input.test.ts
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { badInputs, type BadInputCase } from "./helpers/fuzz-bad-input.js";
import { repoRoot } from "./helpers/shared.js";
import { captureCli } from "./helpers/cli.js";

const DOC = join(repoRoot, "docs/bad-input.md");
const START = "<!-- bad-input table: generated from test/helpers/fuzz-bad-input.ts -->";
const END = "<!-- end of bad-input table -->";

async function run(c: BadInputCase): Promise<{ code: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), "strata-bad-"));
  const file = join(dir, "closure.json");
  if (c.input !== undefined) writeFileSync(file, c.input);
  const { code, out, err } = await captureCli(c.args.map((a) => (a === "INPUT" ? file : a)));
  return { code, out, err: err.split(file).join("INPUT") };
}

/** The catalogue message as a pattern: "…" matches any text. */
function pattern(message: string): RegExp {
  return new RegExp(
    "^" +
      message
        .split("…")
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^]*") +
      "\n$",
  );
}

function cell(s: string): string {
  // Inside code spans backslashes are literal; only the column separator needs escaping.
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function inputCell(c: BadInputCase): string {
  if (c.input === undefined) return "(none)";
  if (typeof c.input !== "string") return "bytes " + Array.from(c.input, (b) => b.toString(16).padStart(2, "0")).join(" ");
  return "`" + cell(c.input.length > 90 ? c.input.slice(0, 87) + "..." : c.input) + "`";
}

export function table(): string {
  const rows = badInputs.map((c) => `| ${c.id} | ${cell(c.what)} | ${inputCell(c)} | \`${cell(c.args.join(" "))}\` | ${c.exit} | \`${cell(c.message)}\` |`);
  return [
    START,
    "",
    "| case | what is wrong | input file | command | exit | message (stderr) |",
    "| --- | --- | --- | --- | ---: | --- |",
    ...rows,
    "",
    END,
  ].join("\n");
}

describe("bad-input catalogue", () => {
  it.each(badInputs.map((c) => [c.id, c] as const))("%s", async (_id, c) => {
    const r = await run(c);
    expect(r.out, "nothing on stdout").toBe("");
    expect(r.err).toMatch(pattern(c.message));
    expect(r.code).toBe(c.exit);
  });

  it("ids are unique and every message names strata", () => {
    expect(new Set(badInputs.map((c) => c.id)).size).toBe(badInputs.length);
    for (const c of badInputs) expect(c.message.startsWith("strata: ")).toBe(true);
  });

  it("docs/bad-input.md holds the table generated from the catalogue", () => {
    const doc = readFileSync(DOC, "utf8");
    const at = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(at, "the doc has the table markers").toBeGreaterThanOrEqual(0);
    const current = doc.slice(at, end + END.length);
    if (process.env.STRATA_UPDATE_DOCS === "1") {
      writeFileSync(DOC, doc.slice(0, at) + table() + doc.slice(end + END.length));
      return;
    }
    expect(current, "regenerate: STRATA_UPDATE_DOCS=1 npx vitest run test/bad-input.test.ts").toBe(table());
  });
});
