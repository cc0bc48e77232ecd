// Pipelines and closures are data, never code: no eval, no Function
// constructor, no import() of a computed specifier anywhere in src/ (so no
// input can pick code to run). The web page keeps user data on the device: its
// Content-Security-Policy allows no request beyond the page's own origin.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePipeline, pipelineExtensions } from "../src/pipeline/index.js";
import { readClosureDocument } from "../src/graph/document.js";
import { repoRoot } from "./helpers/shared.js";

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Source text with comments and string/template contents blanked, so only code is searched. */
export function codeOnly(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      // Keep the quotes (a literal import("x") stays recognisable as literal), blank the body.
      out += c;
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Findings: eval, Function constructors, import()/require() of anything but a string literal, string timers. */
export function codeExecutionSites(code: string, raw: string = code): string[] {
  const found: string[] = [];
  const rules: [RegExp, string][] = [
    [/(?<![\w$.])eval\s*\(/g, "eval("],
    [/\bnew\s+Function\s*\(/g, "new Function("],
    [/(?<![\w$.])Function\s*\(/g, "Function("],
    [/\b(?:AsyncFunction|GeneratorFunction)\b/g, "function constructor"],
    [/(?<![\w$.])import\s*\(\s*(?!["'][^"'`]*["']\s*\))/g, "import( of a computed specifier"],
    [/(?<![\w$.])require\s*\(\s*(?!["'][^"'`]*["']\s*\))/g, "require( of a computed specifier"],
    [/\bset(?:Timeout|Interval)\s*\(\s*["'`]/g, "timer with a string body"],
  ];
  for (const [re, what] of rules) for (const m of code.matchAll(re)) found.push(`${what} at offset ${m.index}`);
  // Module names are string contents, blanked in `code`: look for node:vm in the raw text.
  for (const m of raw.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](?:node:)?vm["']/g)) found.push(`node:vm at offset ${m.index}`);
  return found;
}

describe("security: pipelines are data, never code", () => {
  const files = [...sourceFiles(join(repoRoot, "src")), ...sourceFiles(join(repoRoot, "web"))];

  it("no eval, Function constructor, computed import()/require() or string timer in src/ and web/", () => {
    expect(files.length).toBeGreaterThan(40);
    const findings: string[] = [];
    for (const f of files) {
      for (const site of codeExecutionSites(codeOnly(readFileSync(f, "utf8")), readFileSync(f, "utf8"))) findings.push(`${relative(repoRoot, f)}: ${site}`);
    }
    expect(findings).toEqual([]);
  });

  it("the scan finds what it looks for (and ignores comments and strings)", () => {
    const bad = [
      "eval(input)",
      "const f = new Function('a', body)",
      "Function(body)()",
      "await import(name)",
      "await import(`./steps/${name}.js`)",
      "require(path)",
      "setTimeout('alert(1)', 1)",
      'import vm from "node:vm"',
    ];
    for (const b of bad) expect(codeExecutionSites(codeOnly(b), b), b).not.toEqual([]);
    const fine = [
      'await import("node:fs")',
      "// eval(x) in a comment",
      '"eval(x) in a string"',
      "retrieval(x)",
      "obj.eval(x)",
      "myFunction(x)",
      "/* new Function() */",
    ];
    for (const f of fine) expect(codeExecutionSites(codeOnly(f), f), f).toEqual([]);
  });

  it("a pipeline naming code or JS built-ins is refused as an unknown step", () => {
    for (const name of ["eval", "constructor", "__proto__", "toString", "require", "import"]) {
      expect(() => parsePipeline([[name, "process.exit(3)"]], { extensions: pipelineExtensions })).toThrow(
        expect.objectContaining({ name: "PipelineError", code: "unknown-step" }),
      );
    }
  });

  it("closure JSON with __proto__ keys does not touch prototypes", () => {
    const doc = readClosureDocument(JSON.parse('[{"path": "/nix/store/a", "narSize": 1, "references": [], "__proto__": {"polluted": true}}]'));
    expect(doc.entries).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("security: the web page sends no user data", () => {
  it("its Content-Security-Policy allows requests to the page's own origin only", () => {
    const html = readFileSync(join(repoRoot, "web/index.html"), "utf8");
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(csp).toBeDefined();
    const directives = new Map(
      csp!
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v] as const),
    );
    expect(directives.get("default-src")).toEqual(["'none'"]);
    for (const d of ["connect-src", "script-src", "worker-src", "form-action"]) {
      for (const source of directives.get(d) ?? []) expect(["'self'", "'none'", "'wasm-unsafe-eval'"], `${d} ${source}`).toContain(source);
    }
    expect(directives.get("form-action")).toEqual(["'none'"]);
  });
});
