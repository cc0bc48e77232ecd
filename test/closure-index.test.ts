// Closure.indexOf / has: a closure built from the streaming reader's columns
// makes its path index on first use; it must answer as the one built from
// entries does (every path, unknown paths, excluded paths).
import { expect, it } from "vitest";
import { Closure } from "../src/graph/closure.js";
import { readClosureDocument } from "../src/graph/document.js";
import { parseClosureBytes } from "../src/io/stream-json.js";

const raw = [
  { path: "/nix/store/aaa-root", narSize: 30, references: ["/nix/store/bbb-lib", "/nix/store/ccc-dep"] },
  { path: "/nix/store/bbb-lib", narSize: 10, references: ["/nix/store/ccc-dep"] },
  { path: "/nix/store/ccc-dep", narSize: 20, references: [] },
  { path: "/nix/store/ddd-gone", narSize: 5, references: ["/nix/store/ccc-dep"] },
];

it("a closure from columns indexes its paths like one from entries", () => {
  const text = JSON.stringify(raw);
  for (const exclude of [[], ["/nix/store/ddd-gone"]]) {
    const fromEntries = Closure.fromDocument(readClosureDocument(JSON.parse(text)), { exclude });
    const fromColumns = Closure.fromDocument(parseClosureBytes(new TextEncoder().encode(text)), { exclude });
    expect(fromColumns.paths).toEqual(fromEntries.paths);
    for (const p of [...raw.map((e) => e.path), "/nix/store/zzz-unknown"]) {
      expect(fromColumns.indexOf(p), p).toBe(fromEntries.indexOf(p));
      expect(fromColumns.has(p), p).toBe(fromEntries.has(p));
    }
    expect(fromColumns.indexOf("/nix/store/bbb-lib")).toBe(exclude.length === 0 ? 1 : 0); // by narSize
    expect(fromColumns.has("/nix/store/ddd-gone")).toBe(exclude.length === 0);
  }
});
