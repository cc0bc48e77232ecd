// Every recorded case of nixpkgs' auto-layer.py (compat/auto-layer) must be
// reproduced exactly: layers, CLI stdout bytes, DEBUG output.
import { createHash } from "node:crypto";
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { readClosureDocument } from "../src/graph/document.js";
import { formatLayersCompact, pyJsonDumps } from "../src/format/python-json.js";
import { autoLayer, autoLayerStrategy } from "../src/strategies/auto-layer/index.js";
import { requireShared, listJson, readJsonFile, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();

interface Case {
  name: string;
  params: { layer_limit: number; ignore_paths: string[] };
  input: { graph: unknown[] };
  expected: {
    error?: string;
    layers?: string[][];
    cli_stdout_sha256?: string;
    debug?: unknown[];
    debug_summary?: { usedBy: string[]; layerSize: number; closureSize: number; npaths: number; output_position: number | null }[];
  };
}

const files = listJson(sharedPath("compat", "auto-layer"));

describe("auto-layer compat cases", () => {
  it("has all 99 cases", () => {
    expect(files.length).toBe(99);
  });

  for (const file of files) {
    const c = readJsonFile(file) as Case;
    it(basename(file), () => {
      const run = () => {
        const doc = readClosureDocument(c.input.graph);
        return autoLayerStrategy.plan(doc, { layerLimit: c.params.layer_limit, exclude: c.params.ignore_paths });
      };
      if (c.expected.error !== undefined) {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(InputError);
        const code = (err as InputError).code;
        if (c.expected.error.includes("KeyError")) expect(code).toBe("dangling-reference");
        else if (c.expected.error.includes("AssertionError")) expect(code).toBe("duplicate-path");
        else if (c.expected.error.includes("ValueError")) expect(code).toBe("bad-path");
        else throw new Error(`unknown error kind ${c.expected.error}`);
        return;
      }
      const result = run();
      expect(result.layers).toEqual(c.expected.layers);
      const stdout = autoLayerStrategy.formats!["auto-layer"](result);
      expect(createHash("sha256").update(stdout).digest("hex")).toBe(c.expected.cli_stdout_sha256);
      expect(formatLayersCompact(result.layers)).toBe(stdout);
      const detail = result.detail as { info: { usedBy: string[]; paths: string[]; layerSize: number; closureSize: number }[] };
      const summary = c.expected.debug_summary!;
      expect(detail.info.map((l) => ({ usedBy: l.usedBy, layerSize: l.layerSize, closureSize: l.closureSize, npaths: l.paths.length }))).toEqual(
        summary.map((s) => ({ usedBy: s.usedBy, layerSize: s.layerSize, closureSize: s.closureSize, npaths: s.npaths })),
      );
      if (c.expected.debug !== undefined) {
        const text = autoLayerStrategy.formats!.debug(result);
        expect(text).toBe(pyJsonDumps(c.expected.debug, 2) + "\n");
        expect(JSON.parse(text)).toEqual(c.expected.debug);
      }
    });
  }

  it("the library function gives the same layers as the strategy", () => {
    const c = readJsonFile(sharedPath("compat", "auto-layer", "ignore-streamlayered-limit3.json")) as Case;
    const doc = readClosureDocument(c.input.graph);
    const r = autoLayer(doc.entries, { limit: c.params.layer_limit, ignore: c.params.ignore_paths });
    expect(r.layers).toEqual(c.expected.layers);
  });
});
