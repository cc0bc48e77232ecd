// `--format nix2container`: the layer split nix2container's proposed
// `layersFile` reads (nlewo/nix2container#220): a JSON list of store-path
// lists, one per layer, bottom first. nix2container rejects a file unless
// every path of the closure is in exactly one list, no other path appears and
// no list is empty; strata checks the same before writing, so a bad plan fails
// here with the offending path instead of inside the Nix build.
import { UsageError } from "../errors.js";
import type { ClosureDocument } from "../graph/document.js";
import type { Layers } from "../strategies/types.js";
import { pyJsonString } from "./python-json.js";

/**
 * Checks `layers` against the closure nix2container will see: the document's
 * paths minus `excluded` (the paths the image does not get: exclude_paths or
 * --exclude). Throws on the first violation.
 */
export function checkExactCover(doc: ClosureDocument, layers: Layers, excluded: Iterable<string> = []): void {
  const out = new Set(excluded);
  const expected = new Set<string>();
  for (const e of doc.entries) if (!out.has(e.path)) expected.add(e.path);
  const seen = new Map<string, number>();
  layers.forEach((layer, i) => {
    if (layer.length === 0) throw new UsageError(`--format nix2container: layer ${i + 1} is empty (nix2container rejects empty lists)`);
    for (const p of layer) {
      const before = seen.get(p);
      if (before !== undefined)
        throw new UsageError(
          `--format nix2container: ${JSON.stringify(p)} is in layer ${before + 1} and in layer ${i + 1}; every path must be in exactly one layer`,
        );
      if (!expected.has(p)) {
        throw new UsageError(
          `--format nix2container: layer ${i + 1} has ${JSON.stringify(p)}, which ${out.has(p) ? "is excluded from the image" : "is not in the closure"}`,
        );
      }
      seen.set(p, i);
    }
  });
  const missing = [...expected].filter((p) => !seen.has(p));
  if (missing.length > 0) {
    throw new UsageError(
      `--format nix2container: ${missing.length} path${missing.length === 1 ? " is" : "s are"} in no layer (nix2container needs every path of the closure exactly once), e.g. ${JSON.stringify(missing[0])}`,
    );
  }
}

/** One layer per line: small diffs when a plan changes. */
export function formatNix2Container(layers: Layers): string {
  if (layers.length === 0) return "[]\n";
  return "[\n" + layers.map((l) => "  [" + l.map(pyJsonString).join(", ") + "]").join(",\n") + "\n]\n";
}
