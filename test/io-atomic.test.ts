// Atomic writes and the temporary names they (and OCI layouts, image files) use.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempOwner, tempSibling, writeFileAtomic } from "../src/io/node.js";

describe("tempSibling / tempOwner", () => {
  it("names a hidden file beside the target that carries this process's id", () => {
    const target = join(tmpdir(), "some-dir", "image.tar");
    const a = tempSibling(target);
    const b = tempSibling(target);
    expect(dirname(a)).toBe(dirname(target));
    expect(basename(a).startsWith(".image.tar.strata-")).toBe(true);
    expect(a).not.toBe(b);
    expect(tempOwner(target, basename(a))).toBe(process.pid);
    expect(tempOwner(target, `${basename(a)}.old`)).toBe(process.pid);
  });

  it("does not claim names that are not its own", () => {
    const target = join(tmpdir(), "out");
    expect(tempOwner(target, "out")).toBeUndefined();
    expect(tempOwner(target, ".other.strata-12-abcd.tmp")).toBeUndefined();
    expect(tempOwner(target, ".out.strata-12-xyz.tmp")).toBeUndefined();
    expect(tempOwner(target, ".out.strata-12-abcd.tmp.bak")).toBeUndefined();
    expect(tempOwner(target, ".out.strata-12-abcd.tmp")).toBe(12);
  });
});

describe("writeFileAtomic", () => {
  it("writes the whole file and leaves nothing else behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-atomic-"));
    const path = join(dir, "plan.json");
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, new TextEncoder().encode("second"));
    expect(readFileSync(path, "utf8")).toBe("second");
    expect(readdirSync(dir)).toEqual(["plan.json"]);
  });

  it("removes its temporary file when the rename fails", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-atomic-"));
    const path = join(dir, "taken");
    mkdirSync(join(path, "inside"), { recursive: true });
    await expect(writeFileAtomic(path, "x")).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["taken"]);
  });
});
