// The module graph of src/ and web/ has no cycles, type-only imports
// included: a cycle makes the order modules initialise in depend on which one
// is imported first, and hides layering mistakes (a strategy reaching into a
// front end). Also: importing the strategy registry module changes nothing
// elsewhere (the composition root is strategies/index.ts).
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "./helpers/shared.js";

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "generated" ? [] : tsFiles(p);
    return p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** Static imports and re-exports (`import ... from`, `export ... from`, `import "x"`), relative ones only. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["'](\.[^"']+)["']/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const target = resolve(dirname(file), m[1].replace(/\.js$/, ".ts"));
    out.push(target);
  }
  return out;
}

/** One cycle per strongly connected component with more than one module (or a self import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe("import graph", () => {
  const files = [...tsFiles(join(repoRoot, "src")), ...tsFiles(join(repoRoot, "web"))];
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it("reads the imports (the parser is not blind)", () => {
    expect(files.length).toBeGreaterThan(80);
    const index = graph.get(join(repoRoot, "src/strategies/index.ts"))!;
    expect(index).toContain(join(repoRoot, "src/strategies/registry.ts"));
    expect(graph.get(join(repoRoot, "src/pipeline/check.ts"))).toContain(join(repoRoot, "src/pipeline/messages.ts"));
    // Every relative import names a file that exists.
    for (const [file, targets] of graph)
      for (const t of targets) expect(graph.has(t) || existsSync(t), `${relative(repoRoot, file)} imports ${relative(repoRoot, t)}`).toBe(true);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    expect(
      cycles(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
          ["d", ["a"]],
        ]),
      ),
    ).toEqual([["a", "b", "c"]]);
  });

  it("has no import cycles in src/ and web/", () => {
    expect(cycles(graph).map((c) => c.map((f) => relative(repoRoot, f)))).toEqual([]);
  });

  it("no module outside the composition root registers pipeline steps or strategies", () => {
    const registering = files.filter((f) => /\b(pipelineExtensions|strategyRegistry)\.register\(/.test(readFileSync(f, "utf8")));
    expect(registering.map((f) => relative(repoRoot, f))).toEqual(["src/strategies/index.ts"]);
  });
});
