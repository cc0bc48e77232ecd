import { describe, expect, it } from "vitest";
import { createProgress, formatBytes } from "../src/cli/progress.js";

function harness(isTty: boolean, quiet = false) {
  let t = 0;
  const out: string[] = [];
  const p = createProgress({ write: (s) => out.push(s), isTty, quiet, now: () => t });
  return { p, out, at: (ms: number) => (t = ms) };
}

describe("progress reporter", () => {
  it("stays silent for the first second, then draws one line in place and clears it", () => {
    const { p, out, at } = harness(true);
    at(500);
    p.onRead({ stage: "parsing", bytes: 1000, entries: 10 });
    expect(out).toEqual([]);
    at(1200);
    p.onRead({ stage: "parsing", bytes: 2 * 1024 * 1024, entries: 12345, totalBytes: 4 * 1024 * 1024 });
    expect(out.length).toBe(1);
    expect(out[0]).toMatch(/^\rstrata: parsing: 12,345 paths, 2\.0 MiB 50% \(1\.2 s\)$/);
    at(1250); // within the redraw interval: skipped
    p.onRead({ stage: "parsing", bytes: 3 * 1024 * 1024, entries: 20000 });
    expect(out.length).toBe(1);
    at(1400);
    p.stage("building graph");
    expect(out[1]).toContain("building graph");
    p.done();
    expect(out[2]).toMatch(/^\r +\r$/);
  });

  it("writes nothing when stderr is not a terminal or with --quiet", () => {
    for (const [tty, quiet] of [
      [false, false],
      [true, true],
    ] as const) {
      const { p, out, at } = harness(tty, quiet);
      at(5000);
      p.onRead({ stage: "parsing", bytes: 1, entries: 1 });
      p.stage("planning");
      p.done();
      expect(out).toEqual([]);
    }
  });

  it("formats sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.00 GiB");
  });
});
