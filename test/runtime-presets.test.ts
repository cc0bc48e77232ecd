// Issue 15's runtime presets and named layer-size caps, through the CLI.
import { describe, expect, it } from "vitest";
import { captureCli } from "./helpers/cli.js";
import { computeBudget, LAYER_SIZE_CAPS, parseSizeOrCap } from "../src/cli/plan.js";

const closure = "examples/python-scipy.json.gz";

describe("runtime presets", () => {
  it.each([
    ["docker-20.10", 127],
    ["bootc", 64],
    ["ostree", 64],
    ["fcos", 400],
    ["containers-storage", 500],
  ])("--runtime %s is a layer limit of %i", async (name, limit) => {
    expect(computeBudget("popularity", { runtime: name }).layers).toBe(limit - 1);
    const r = await captureCli(["layer", closure, "--strategy", "popularity", "--runtime", name, "--from-image-layers", String(limit - 3), "-v"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`layer limit ${limit} (--runtime ${name}: `);
    expect(r.err).toContain("= 2 store-path layers");
    expect((JSON.parse(r.out) as unknown[]).length).toBe(2);
  });

  it("named compressed-size caps for --max-layer-size", async () => {
    expect(parseSizeOrCap("max-layer-size", "registry-500mb")).toBe(500_000_000);
    expect(parseSizeOrCap("max-layer-size", "registry-5GB")).toBe(5_000_000_000);
    expect(parseSizeOrCap("max-layer-size", "2GiB")).toBe(2 * 1024 ** 3);
    expect(Object.keys(LAYER_SIZE_CAPS)).toEqual(["registry-500mb", "registry-1gib", "registry-5gb", "registry-10gb"]);
    expect(() => parseSizeOrCap("max-layer-size", "registry-2gb")).toThrow(/--max-layer-size expects a size/);
    const capped = await captureCli(["layer", closure, "--strategy", "min-pull", "--budget", "3", "--max-layer-size", "registry-500mb", "-q"]);
    expect(capped.code).toBe(0);
    expect((JSON.parse(capped.out) as unknown[]).length).toBeLessThanOrEqual(3);
    const bad = await captureCli(["layer", closure, "--strategy", "min-pull", "--max-layer-size", "registry-7gb"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--max-layer-size expects a size such as 500M, 2GiB or 1048576, got "registry-7gb"');
  });
});
