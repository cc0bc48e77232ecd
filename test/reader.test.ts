import { describe, expect, it } from "vitest";
import { readClosureDocument } from "../src/graph/document.js";
import { Closure } from "../src/graph/closure.js";
import { InputError } from "../src/errors.js";
import { listJson, readJsonFile, sharedPath } from "./helpers/shared.js";

const entry = (path: string, narSize: number, references: string[] = []) => ({ path, narSize, references });

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error("expected an InputError");
}

describe("closure documents", () => {
  it("reads a bare exportReferencesGraph list", () => {
    const doc = readClosureDocument([entry("/nix/store/a-x", 2, ["/nix/store/a-x", "/nix/store/b-y"]), entry("/nix/store/b-y", 1)]);
    expect(doc.format).toBe("references-graph");
    expect(doc.entries.map((e) => e.path)).toEqual(["/nix/store/a-x", "/nix/store/b-y"]);
  });

  it("reads the nixpkgs CLI object with pipeline and exclude_paths", () => {
    const doc = readClosureDocument({
      graph: [entry("A", 1)],
      pipeline: [["popularity_contest"]],
      exclude_paths: ["B"],
      unrelated: 1,
    });
    expect(doc.format).toBe("attrs-document");
    expect(doc.pipeline).toEqual([["popularity_contest"]]);
    expect(doc.excludePaths).toEqual(["B"]);
  });

  it("treats exclude_paths null like absent", () => {
    expect(readClosureDocument({ graph: [], exclude_paths: null }).excludePaths).toBeUndefined();
  });

  it("reads roots from exportReferencesGraph.graph (Nixery) and from roots", () => {
    expect(readClosureDocument({ graph: [entry("A", 1)], exportReferencesGraph: { graph: ["A"] } }).roots).toEqual(["A"]);
    expect(readClosureDocument({ graph: [entry("A", 1)], roots: ["A"] }).roots).toEqual(["A"]);
  });

  it("reads nix path-info object form", () => {
    const doc = readClosureDocument({
      "/nix/store/a-x": { narSize: 5, references: ["/nix/store/b-y"], narHash: "sha256:x" },
      "/nix/store/b-y": { narSize: 7, references: [] },
    });
    expect(doc.format).toBe("path-info-object");
    expect(doc.entries).toEqual([entry("/nix/store/a-x", 5, ["/nix/store/b-y"]), entry("/nix/store/b-y", 7)]);
  });

  it("names the entry for each bad field", () => {
    expect(inputError(() => readClosureDocument([{ path: 3, narSize: 1, references: [] }])).code).toBe("bad-path");
    for (const bad of [-1, 1.5, "12", null]) {
      const err = inputError(() => readClosureDocument([{ path: "/nix/store/a-x", narSize: bad, references: [] }]));
      expect(err.code).toBe("bad-nar-size");
      expect(err.message).toContain("/nix/store/a-x");
      expect(err.message).toContain("$[0].narSize");
    }
    expect(inputError(() => readClosureDocument([{ path: "A", references: [] }])).code).toBe("bad-nar-size");
    expect(inputError(() => readClosureDocument([{ path: "A", narSize: 2 ** 53 + 2, references: [] }])).message).toContain("2^53");
    expect(inputError(() => readClosureDocument([{ path: "A", narSize: 1, references: "B" }])).code).toBe("bad-references");
    expect(inputError(() => readClosureDocument([{ path: "A", narSize: 1, references: [7] }])).code).toBe("bad-references");
    expect(inputError(() => readClosureDocument("text")).code).toBe("unsupported-shape");
    expect(inputError(() => readClosureDocument({ foo: 1 })).code).toBe("unsupported-shape");
  });

  it("allows a missing narSize when not required (closure-graph.py)", () => {
    expect(readClosureDocument([{ path: "A", references: [] }], { requireNarSize: false }).entries[0].narSize).toBe(0);
  });
});

describe("closure graph", () => {
  it("orders vertices by narSize, stable, and drops self references", () => {
    const c = Closure.fromEntries([entry("A", 5, ["A", "B", "C"]), entry("B", 2, ["C"]), entry("C", 5), entry("D", 2)]);
    expect(c.paths).toEqual(["B", "D", "A", "C"]);
    expect(Array.from(c.references(c.indexOf("A")!)).map((v) => c.paths[v])).toEqual(["B", "C"]);
    expect(Array.from(c.inputIndex)).toEqual([1, 3, 0, 2]);
    expect(c.roots().map((v) => c.paths[v])).toEqual(["D", "A"]);
  });

  it("rejects duplicates, dangling references and cycles, naming the path", () => {
    const dup = inputError(() => Closure.fromEntries([entry("A", 1), entry("A", 2)]));
    expect(dup.code).toBe("duplicate-path");
    expect(dup.path).toBe("A");
    const dangling = inputError(() => Closure.fromEntries([entry("A", 1, ["Z"])]));
    expect(dangling.code).toBe("dangling-reference");
    expect(dangling.message).toContain('"Z"');
    const cycle = inputError(() =>
      Closure.fromEntries([entry("R", 1, ["A"]), entry("A", 1, ["B"]), entry("B", 1, ["C"]), entry("C", 1, ["A", "D"]), entry("D", 1)]),
    );
    expect(cycle.code).toBe("cycle");
    expect(cycle.message).toMatch(/"A" -> "B" -> "C" -> "A"|"B" -> "C" -> "A" -> "B"|"C" -> "A" -> "B" -> "C"/);
  });

  it("applies exclusion before checking references (as nixpkgs does)", () => {
    const c = Closure.fromEntries([entry("A", 1, ["B"]), entry("B", 1)], { exclude: ["B", "unknown"] });
    expect(c.paths).toEqual(["A"]);
    expect(c.targets.length).toBe(0);
  });

  it("reads every closure in ../shared/data", () => {
    const files = [...listJson(sharedPath("data/debian-bookworm")), ...listJson(sharedPath("data/debian-bookworm/series"))];
    expect(files.length).toBeGreaterThanOrEqual(17);
    for (const f of files) {
      const doc = readClosureDocument(readJsonFile(f));
      const c = Closure.fromDocument(doc);
      expect(c.n).toBe(doc.entries.length);
      expect(c.topo.length).toBe(c.n);
    }
  });
});
