// One Closure per plan: planDocument builds the document's graph once and
// passes it to pinned groups, stable-first order and the strategy, instead of
// each building its own.
import { afterEach, describe, expect, it, vi } from "vitest";
import { join } from "node:path";
import { Closure } from "../src/graph/closure.js";
import { readClosureInput } from "../src/io/node.js";
import { planDocument, setupPlan } from "../src/cli/plan.js";
import type { CliIo } from "../src/cli/command.js";
import { repoRoot } from "./helpers/shared.js";

const io: CliIo = { out: () => undefined, err: () => undefined, stdoutIsTty: false, stderrIsTty: false, env: {} };
const scipy = join(repoRoot, "examples/python-scipy.json.gz");

describe("one closure per plan", () => {
  afterEach(() => vi.restoreAllMocks());

  async function builds(values: Record<string, string | boolean | string[]>): Promise<{ built: Closure[]; layers: string[][] }> {
    const doc = await readClosureInput(scipy);
    const setup = await setupPlan("layer", { quiet: true, ...values }, io);
    const spy = vi.spyOn(Closure, "fromDocument");
    const planned = planDocument(doc, setup);
    const built = spy.mock.results.map((r) => r.value as Closure);
    // Only graphs of the whole document count; the rest document of groups is another document.
    return { built: built.filter((c) => c.n === doc.entries.length), layers: planned.layers };
  }

  it("min-pull with stable-first order: one graph of the document", async () => {
    const { built, layers } = await builds({ strategy: "min-pull", order: "stable-first" });
    expect(layers.length).toBeGreaterThan(1);
    expect(built).toHaveLength(1);
  });

  it("pinned groups with stable-first order: the groups' graph is the one the order uses", async () => {
    const { built, layers } = await builds({ strategy: "auto-layer", order: "stable-first", group: ["py=python3*|libpython3*"] });
    expect(layers.length).toBeGreaterThan(1);
    expect(built).toHaveLength(1);
  });
});
