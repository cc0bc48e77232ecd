// `strata evaluate` through the built CLI, as a user runs it.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedPath } from "./helpers/shared.js";
import { spawnCli } from "./helpers/cli.js";

const run = (args: string[]) => spawnCli(args);
const series = [0, 1, 2, 3, 4].map((k) => sharedPath(`data/debian-bookworm/series/postgresql-v${k}.json.gz`));

describe("strata evaluate", () => {
  it("prices a series per strategy with JSON output that adds up", () => {
    const r = run(["evaluate", "--series", ...series, "--strategy", "popularity", "--strategy", "min-pull", "--max-layers", "31", "--json"]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.budget).toBe(30);
    expect(out.strategies.map((s: { strategy: string }) => s.strategy)).toEqual(["popularity", "min-pull"]);
    for (const s of out.strategies) {
      expect(s.updates).toHaveLength(4);
      const sum = s.updates.reduce((a: number, u: { pulledBytes: number }) => a + u.pulledBytes, 0);
      expect(s.total.pulledBytes).toBe(sum);
      for (const u of s.updates) {
        // Every strategy lies between the bounds.
        expect(u.pulledBytes).toBeGreaterThanOrEqual(u.idealBytes);
        expect(u.pulledBytes).toBeLessThanOrEqual(u.worstBytes);
        expect(u.layerCount).toBeLessThanOrEqual(30);
      }
    }
    // The ideal is the same for every strategy: the bytes of the changed paths
    // (../shared/data/README.md, postgresql series: 135745536 bytes v0 -> v4 in one step;
    // step by step 65321984 + 58205184 + 76158976 + 122023936).
    expect(out.strategies[0].total.idealBytes).toBe(65321984 + 58205184 + 76158976 + 122023936);
  });

  it("writes a self-contained HTML report atomically", () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-eval-"));
    const html = join(dir, "report.html");
    const r = run(["evaluate", "--series", ...series.slice(0, 3), "--strategy", "min-pull", "--html", html]);
    expect(r.status).toBe(0);
    const text = readFileSync(html, "utf8");
    expect(text).toMatch(/^<!DOCTYPE html>/);
    expect(text).toContain("<svg");
    expect(text).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it("reports registry sharing across images", () => {
    const imgs = ["img-postgresql", "img-python-scipy"].map((n) => sharedPath(`data/debian-bookworm/${n}.json.gz`));
    const r = run(["evaluate", "--images", ...imgs, "--strategy", "popularity", "--json"]);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout).strategies[0];
    expect(s.registryBytes).toBeLessThanOrEqual(s.totalImageBytes);
    expect(s.sharedBytes).toBeGreaterThan(0); // both images use libc6 and friends
  });

  it("exits 2 with a clear message on usage errors", () => {
    const bad = run(["evaluate", "--series", series[0]]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/at least two/);
    expect(bad.stdout).toBe("");
    const unknown = run(["evaluate", "--series", ...series.slice(0, 2), "--strategy", "nope"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown strategy "nope"/);
    const dir = mkdtempSync(join(tmpdir(), "strata-eval-"));
    writeFileSync(join(dir, "bad.json"), "{not json");
    const broken = run(["evaluate", "--images", join(dir, "bad.json")]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/not valid JSON/);
  });
});
