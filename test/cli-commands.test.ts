// The built CLI (node dist/cli/main.js, after `npm run build`) spawned as a
// process: every command and output format end to end, budgets, strategy
// options, groups, order, messages and exit codes. Graphviz (Debian's
// `graphviz`, installed by .ci/run) parses the dot output.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../src/cli/main.js";
import type { CliIo } from "../src/cli/command.js";
import { requireShared, sharedPath } from "./helpers/shared.js";

// Fails the file when ../shared is missing (no silent skips).
requireShared();
import { spawnCli } from "./helpers/cli.js";

function run(args: string[], input?: string | Uint8Array, env: Record<string, string> = {}) {
  const r = spawnCli(args, { input, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const S = (name: string) => `/nix/store/${name}`;
const e = (name: string, narSize: number, refs: string[] = []) => ({ path: S(name), narSize, closureSize: 0, references: [S(name), ...refs.map(S)] });
// app -> (python3, libfoo); python3 -> (openssl, glibc); libfoo -> glibc; openssl -> glibc; data alone.
const graph = [
  e("aaaa-app-1.0", 5_000, ["cccc-python3-3.11.2", "dddd-libfoo-1.2"]),
  e("bbbb-glibc-2.39", 30_000_000),
  e("cccc-python3-3.11.2", 80_000_000, ["eeee-openssl-3.0", "bbbb-glibc-2.39"]),
  e("dddd-libfoo-1.2", 200_000, ["bbbb-glibc-2.39"]),
  e("eeee-openssl-3.0", 6_000_000, ["bbbb-glibc-2.39"]),
  e("ffff-data-7", 1_000),
];
const allPaths = graph.map((g) => g.path).sort();

let dir: string;
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
};
let closure: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "strata-cmds-"));
  closure = file("closure.json", { graph });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = (text: string) => JSON.parse(text) as unknown;
const layersOf = (text: string) => JSON.parse(text) as string[][];
const realClosure = () => sharedPath("data", "debian-bookworm", "img-postgresql.json.gz");

describe("help and usage", () => {
  it("every command has --help with examples; unknown options exit 2 with nothing on stdout", () => {
    for (const c of ["layer", "explain", "dot", "report", "check", "popularity", "evaluate"]) {
      const h = run([c, "--help"]);
      expect(h.code, c).toBe(0);
      expect(h.out, c).toMatch(/Usage: strata /);
      expect(h.out, c).toMatch(/Example/);
    }
    const top = run(["--help"]);
    for (const c of ["explain", "dot", "report"]) expect(top.out).toContain(`  ${c}`);
    const bad = run(["layer", closure, "--no-such-option"]);
    expect([bad.code, bad.out]).toEqual([2, ""]);
    expect(bad.err).toMatch(/Unknown option '--no-such-option'/);
  });
});

describe("layer: formats", () => {
  it("nixpkgs (default) from a file and from stdin are the same bytes", () => {
    const a = run(["layer", closure]);
    const b = run(["layer", "-"], readFileSync(closure));
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out.startsWith('[\n  [\n    "/nix/store/')).toBe(true);
    expect(layersOf(a.out).flat().sort()).toEqual(allPaths);
  });

  it("nix2container: one layer per line, every path exactly once; a plan that drops paths fails loudly and writes no file", () => {
    const r = run(["layer", closure, "--strategy", "auto-layer", "--format", "nix2container"]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n").filter((l) => l.startsWith("  [")).length).toBe(layersOf(r.out).length);
    expect(layersOf(r.out).flat().sort()).toEqual(allPaths);
    // Nixery with one root and --drop-unreachable leaves ffff-data out: nix2container would reject that.
    const out = join(dir, "n2c.json");
    const bad = run(["layer", closure, "--strategy", "nixery", "--root", S("aaaa-app-1.0"), "--drop-unreachable", "--format", "nix2container", "-o", out]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--format nix2container: 1 path is in no layer .*ffff-data-7/);
    expect(existsSync(out)).toBe(false);
    // Excluded paths are not expected in the file.
    const ex = run(["layer", closure, "--exclude", S("ffff-data-7"), "--format", "nix2container"]);
    expect(ex.code).toBe(0);
    expect(layersOf(ex.out).flat()).not.toContain(S("ffff-data-7"));
  });

  it("pipeline: stock nixpkgs semantics give the plan back, in-layer order included, for every strategy", () => {
    for (const s of ["auto-layer", "nixery", "min-pull", "popularity"]) {
      const plan = run(["layer", closure, "--strategy", s, "-q"]);
      const p = file(`pipeline-${s}.json`, run(["layer", closure, "--strategy", s, "--format", "pipeline", "-q"]).out);
      const back = run(["layer", closure, "--pipeline", p]);
      expect(back.code, s).toBe(0);
      expect(back.out, s).toBe(plan.out);
    }
    // Groups too (the group layer is in narSize order, the rest is the default pipeline's).
    const groups = run(["layer", closure, "--group", "big=glibc*|python3*", "--format", "pipeline", "-v"]);
    expect(groups.code).toBe(0);
    expect(groups.err).toMatch(/checked: it reproduces the plan/);
    const back = run(["layer", closure, "--pipeline", file("pg.json", groups.out)]);
    expect(layersOf(back.out)).toEqual(layersOf(run(["layer", closure, "--group", "big=glibc*|python3*"]).out));
    expect(layersOf(back.out)[0]).toEqual([S("bbbb-glibc-2.39"), S("cccc-python3-3.11.2")]);
  });

  it("pipeline round trip on a real closure (auto-layer: names, not sizes, order its layers)", () => {
    const p = join(dir, "real-pipeline.json");
    expect(run(["layer", realClosure(), "--strategy", "auto-layer", "--max-layers", "30", "--format", "pipeline", "-o", p]).code).toBe(0);
    const plan = run(["layer", realClosure(), "--strategy", "auto-layer", "--max-layers", "30"]);
    const back = run(["layer", realClosure(), "--pipeline", p]);
    expect(back.out).toBe(plan.out);
    expect(run(["check", p, realClosure()]).code).toBe(0);
  });

  it("pipeline: paths in no layer are removed with a warning", () => {
    const r = run(["layer", closure, "--exclude", S("ffff-data-7"), "--format", "pipeline"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: 1 path of the closure is in no layer of the plan .*remove_paths/);
    expect((json(r.out) as unknown[][])[0]).toEqual(["remove_paths", [S("ffff-data-7")]]);
  });

  it("debug: per layer paths, size, closure size and users", () => {
    const r = run(["layer", closure, "--strategy", "popularity", "--format", "debug"]);
    expect(r.code).toBe(0);
    const info = json(r.out) as { layer: number; paths: string[]; layerSize: number; closureSize: number; usedBy: string[]; usedByLayers: number[] }[];
    const glibc = info.find((l) => l.paths.includes(S("bbbb-glibc-2.39")))!;
    expect(glibc.layerSize).toBe(30_000_000);
    expect(glibc.closureSize).toBe(30_000_000);
    expect(glibc.usedBy).toEqual([S("cccc-python3-3.11.2"), S("dddd-libfoo-1.2"), S("eeee-openssl-3.0")]);
    const py = info.find((l) => l.paths.includes(S("cccc-python3-3.11.2")))!;
    expect(py.closureSize).toBe(80_000_000 + 6_000_000 + 30_000_000);
  });

  it("strategy formats still work: auto-layer's stdout and DEBUG, Nixery's list", () => {
    const al = run(["layer", closure, "--strategy", "auto-layer", "--format", "auto-layer"]);
    expect(al.out).toMatch(/^\[\["\/nix\/store\//);
    const dbg = json(run(["layer", closure, "--strategy", "auto-layer", "--format", "debug"]).out) as { usedBy: string[] }[];
    expect(dbg[0]).toHaveProperty("usedBy");
    expect(dbg[0]).not.toHaveProperty("layer");
    const nx = json(run(["layer", closure, "--strategy", "nixery", "--format", "nixery"]).out) as { contents: string[]; hash: string }[];
    expect(nx[0].hash).toMatch(/^[0-9a-f]{40}$/);
    const mixed = run(["layer", closure, "--strategy", "nixery", "--format", "nixery", "--order", "stable-first"]);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/cannot describe a plan changed by/);
  });
});

describe("layer: budgets", () => {
  it("--runtime presets, --from-image-layers and --reserve; --verbose prints the arithmetic", () => {
    const r = run(["layer", closure, "--strategy", "popularity", "--runtime", "sysbox", "--from-image-layers", "60", "--reserve", "1", "-v"]);
    expect(r.code).toBe(0);
    expect(layersOf(r.out).length).toBe(2); // 64 - 1 - 60 - 1 = 2: limit_layers 2
    expect(r.err).toContain("layer limit 64 (--runtime sysbox");
    expect(r.err).toContain("- 60 base image layers (--from-image-layers)");
    expect(r.err).toContain("- 1 reserved for images built on top (--reserve)");
    expect(r.err).toContain("= 2 store-path layers");
    const quiet = run(["layer", closure, "--strategy", "popularity", "--runtime", "docker"]);
    expect(quiet.err).toBe("");
    const none = run(["layer", closure, "--runtime", "sysbox", "--from-image-layers", "60", "--reserve", "3"]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(
      /no layer left for store paths: maxLayers 64 must exceed 1 \(customisation layer\) \+ 60 \(base image layers\) \+ 3 \(reserve\) = 64/,
    );
    expect(run(["layer", closure, "--runtime", "podman"]).err).toMatch(/--runtime must be one of docker, buildkit, sysbox, ecr/);
  });

  it("every strategy honours the budget", () => {
    for (const s of ["popularity", "auto-layer", "nixery", "min-pull"]) {
      const r = run(["layer", closure, "--strategy", s, "--budget", "2", "-q"]);
      expect(r.code, s).toBe(0);
      expect(layersOf(r.out).length, s).toBeLessThanOrEqual(2);
      expect(layersOf(r.out).flat().sort(), s).toEqual(allPaths);
    }
  });
});

describe("layer: strategy options", () => {
  it("nixery: --budget, --popularity, --root, --strict, warnings on stderr", () => {
    const pop = file("pop.json", { "glibc-2.39": 300000, "python3-3.11.2": 500 });
    const r = run(["layer", closure, "--strategy", "nixery", "--budget", "3", "--popularity", pop, "--root", S("aaaa-app-1.0")]);
    expect(r.code).toBe(0);
    expect(layersOf(r.out).length).toBeLessThanOrEqual(3);
    expect(r.err).toMatch(/warning: nixery: .*not reachable from the roots/);
    const strict = run(["layer", closure, "--strategy", "nixery", "--root", S("aaaa-app-1.0"), "--strict"]);
    expect(strict.code).toBe(2);
    const wrong = run(["layer", closure, "--root", S("aaaa-app-1.0")]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/--root applies to --strategy nixery/);
  });

  it("min-pull: objective on stderr (not with --quiet), --previous keeps layers, sizes like 500M", () => {
    const r = run(["layer", closure, "--strategy", "min-pull", "--budget", "3", "--max-layer-size", "500M", "--min-layer-size", "1KiB"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/min-pull: expected .* pulled per update \(\d+ B\); lower bound/);
    expect(run(["layer", closure, "--strategy", "min-pull", "-q"]).err).toBe("");
    const prev = file("prev.json", [[S("bbbb-glibc-2.39"), S("ffff-data-7")], [S("eeee-openssl-3.0")]]);
    const kept = run(["layer", closure, "--strategy", "min-pull", "--budget", "4", "--previous", prev]);
    expect(layersOf(kept.out)).toContainEqual([S("bbbb-glibc-2.39"), S("ffff-data-7")]);
    expect(kept.err).toMatch(/2 layers kept from --previous/);
    const vol = file("vol.json", { app: 50 });
    const hist = run([
      "layer",
      closure,
      "--strategy",
      "min-pull",
      "--volatility",
      vol,
      "--history",
      closure,
      "--history",
      closure,
      "--changes-per-update",
      "2",
      "-q",
    ]);
    expect(hist.code).toBe(0);
    expect(run(["layer", closure, "--strategy", "min-pull", "--max-layer-size", "lots"]).err).toMatch(/--max-layer-size expects a size such as 500M/);
    expect(run(["layer", closure, "--strategy", "min-pull", "--volatility", file("badvol.json", { a: "x" })]).code).toBe(2);
  });

  it("groups with any strategy; --strict makes an unmatched group an error; --heavy", () => {
    for (const s of ["pipeline", "auto-layer", "nixery", "min-pull"]) {
      const r = run(["layer", closure, "--strategy", s, "--group", "py=python3*:deps", "--budget", "3", "-q"]);
      expect(r.code, s).toBe(0);
      const layers = layersOf(r.out);
      expect(layers[0].sort(), s).toEqual([S("bbbb-glibc-2.39"), S("cccc-python3-3.11.2"), S("eeee-openssl-3.0")]);
      expect(layers.length, s).toBeLessThanOrEqual(3);
    }
    const warn = run(["layer", closure, "--group", "x=nothing*"]);
    expect(warn.code).toBe(0);
    expect(warn.err).toMatch(/warning: group "x" \(nothing\*\) matches no path/);
    expect(run(["layer", closure, "--group", "x=nothing*", "--strict"]).code).toBe(2);
    const heavy = layersOf(run(["layer", closure, "--heavy", "10M", "--strategy", "auto-layer"]).out);
    expect(heavy.slice(0, 2)).toEqual([[S("cccc-python3-3.11.2")], [S("bbbb-glibc-2.39")]]);
  });

  it("--order stable-first: the same layers, least likely to change at the bottom", () => {
    const own = layersOf(run(["layer", closure, "--strategy", "popularity"]).out);
    const stable = layersOf(
      run(["layer", closure, "--strategy", "popularity", "--order", "stable-first", "--volatility", file("v2.json", { data: 1_000_000 })]).out,
    );
    expect([...stable].sort()).toEqual([...own].sort());
    expect(stable[stable.length - 1]).toContain(S("ffff-data-7"));
    expect(run(["layer", closure, "--order", "sideways"]).code).toBe(2);
  });
});

describe("explain", () => {
  it("text: layer, sizes, popularity, dominator, roots, change cost, layer mates", () => {
    const r = run(["explain", closure, "openssl", "--strategy", "popularity", "--budget", "2"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\/nix\/store\/eeee-openssl-3.0\n/);
    expect(r.out).toMatch(/layer +2 of 2/);
    expect(r.out).toMatch(/dominator +\/nix\/store\/cccc-python3-3.11.2/);
    expect(r.out).toMatch(/reached from +1 root: \/nix\/store\/aaaa-app-1.0/);
    expect(r.out).toMatch(/change cost +its layer changes in \d+\.\d% of updates/);
    expect(r.out).toMatch(/Shares layer 2 with 4 paths:/);
    expect(r.out).toMatch(/limit_layers 2 merges it into the last layer/);
  });

  it("--json with groups and min-pull facts; unknown or ambiguous paths exit 2", () => {
    const r = run(["explain", closure, S("cccc-python3-3.11.2"), "--group", "py=python3*", "--group", "all=*", "--json"]);
    expect(r.code).toBe(0);
    const x = json(r.out) as { layer: number; groups: string[]; closureBytes: number; popularity: string; dominator: string | null };
    expect(x.groups).toEqual(["py", "all"]);
    expect(x.layer).toBe(0);
    expect(x.closureBytes).toBe(116_000_000);
    expect(x.dominator).toBe(S("aaaa-app-1.0"));
    const mp = json(run(["explain", closure, "glibc", "--strategy", "min-pull", "--json", "-q"]).out) as { facts: { label: string }[] };
    expect(mp.facts.map((f) => f.label)).toContain("change probability per update");
    expect(run(["explain", closure, "nope"]).err).toMatch(/no path of the closure contains "nope"/);
    expect(run(["explain", closure, "/nix/store/"]).err).toMatch(/matches 6 paths/);
  });
});

describe("dot (parsed by Graphviz)", () => {
  const graphviz = (dot: string) => spawnSync("dot", ["-Tsvg"], { input: dot, encoding: "utf8", maxBuffer: 1 << 26 });
  const counts = (dot: string) => {
    const r = spawnSync("gvpr", ['BEG_G { printf("%d %d", nNodes($G), nEdges($G)) }'], { input: dot, encoding: "utf8" });
    expect(r.stderr).toBe("");
    return r.stdout.split(" ").map(Number);
  };

  it("small closure: full graph, layers as clusters, sizes as labels", () => {
    const r = run(["dot", closure, "--strategy", "auto-layer"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^digraph strata \{/);
    expect(r.out).toMatch(/subgraph cluster_1 \{/);
    expect(r.out).toContain('"python3-3.11.2\\n76.3 MiB"');
    expect(r.out.match(/ -> /g)!.length).toBe(6); // references without self
    const svg = graphviz(r.out);
    expect(svg.status).toBe(0);
    expect(svg.stdout).toContain("<svg");
    expect(svg.stdout).toContain("layer 1:");
  });

  it("collapsed view: one node per layer, edge labels are reference counts", () => {
    const r = run(["dot", closure, "--strategy", "popularity", "--budget", "2", "--collapsed"]);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/cluster/);
    // popularity, limit 2: glibc alone, then the rest; 3 references into glibc.
    expect(r.out).toContain('l2 -> l1 [label="3"];');
    expect(graphviz(r.out).status).toBe(0);
  });

  it("a large closure is collapsed by default; --full forces every path; both parse", () => {
    const big = sharedPath("data", "debian-bookworm", "img-texlive-full.json.gz");
    const c = run(["dot", big, "--strategy", "auto-layer", "--max-layers", "30"]);
    expect(c.code).toBe(0);
    expect(c.err).toMatch(/565 paths, over 300: collapsed view/);
    // gvpr parses without laying out: node and edge counts as Graphviz sees them.
    expect(counts(c.out)).toEqual([(c.out.match(/^  l\d+ \[/gm) ?? []).length, (c.out.match(/ -> /g) ?? []).length]);
    expect(counts(c.out)[0]).toBeLessThanOrEqual(29);
    const f = run(["dot", big, "--full", "-q", "--max-layers", "30"]);
    expect(f.out).toMatch(/subgraph cluster_29 /);
    expect(counts(f.out)[0]).toBe(565);
    expect(counts(f.out)[1]).toBe((f.out.match(/ -> /g) ?? []).length);
  });
});

describe("report", () => {
  it("one self-contained HTML file: layers, size chart, biggest paths; no scripts or network", () => {
    const out = join(dir, "report.html");
    const r = run(["report", closure, "--strategy", "auto-layer", "-o", out]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("<svg");
    expect(html).toContain("Layer sizes, bottom layer first");
    expect(html).toContain("<h2>Biggest paths</h2>");
    expect(html).toContain("python3-3.11.2");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it("with --series: the evaluation charts beside nixpkgs' default", () => {
    const v = (i: number) => sharedPath("data", "debian-bookworm", "series", `postgresql-v${i}.json.gz`);
    const r = run(["report", v(2), "--series", v(0), v(1), v(2), "--strategy", "min-pull", "--max-layers", "30", "-q"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Update series: postgresql-v0, postgresql-v1, postgresql-v2");
    expect(r.out).toContain("popularity (nixpkgs default)");
    expect(r.out).toContain("Bytes pulled per update");
  });

  it("a failed run leaves no file", () => {
    const out = join(dir, "never.html");
    const r = run(["report", file("broken.json", "{not json"), "-o", out]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe("check", () => {
  it("INPUT alone validates a closure and its pipeline", () => {
    const ok = run(["check", closure]);
    expect(ok).toMatchObject({ code: 0, err: "" });
    expect(ok.out).toBe("input: 6 paths, 111 MiB, 2 roots (paths nothing references)\nok\n");
    const dangling = run(["check", file("dangling.json", [e("a-x", 1, ["b-missing"])])]);
    expect(dangling.code).toBe(2);
    expect(dangling.out).toMatch(/^input: error: "\/nix\/store\/a-x" references "\/nix\/store\/b-missing", which is not in the closure/);
    const badField = run(["check", file("badfield.json", { graph: [{ path: S("a-x"), narSize: -1, references: [] }] })]);
    expect(badField.out).toMatch(/input: error: \$\.graph\[0\]\.narSize .* must not be negative/);
    const attrs = run([
      "check",
      file("attrs.json", { graph, pipeline: [["split_paths", [S("cccc-python3-3.11.2")]], ["popularity_contest"]], exclude_paths: [S("zzzz-gone")] }),
    ]);
    expect(attrs.code).toBe(2);
    expect(attrs.out).toMatch(/exclude_paths: "\/nix\/store\/zzzz-gone" is not in the closure/);
    expect(attrs.out).toMatch(/pipeline\[1\]: error: popularity_contest expects a graph, got a dict/);
  });

  it("a pipeline alone is still a pipeline", () => {
    expect(run(["check", '[["popularity_contest"], ["limit_layers", 99]]']).out).toBe("ok: 2 steps, result a list of graphs\n");
  });
});

describe("messages: colour only on a terminal, never with NO_COLOR", () => {
  async function inProcess(args: string[], tty: boolean, env: Record<string, string>) {
    let err = "";
    const io: CliIo = { out: () => undefined, err: (t) => void (err += t), stdoutIsTty: tty, stderrIsTty: tty, env };
    const code = await runCli(args, io);
    return { code, err };
  }
  it("warnings and errors", async () => {
    const args = ["layer", closure, "--group", "x=nothing*", "--backend", "ts"];
    expect((await inProcess(args, true, {})).err).toContain("\x1b[33mwarning\x1b[0m");
    expect((await inProcess(args, true, { NO_COLOR: "1" })).err).not.toContain("\x1b[");
    expect((await inProcess(args, false, {})).err).not.toContain("\x1b[");
    expect((await inProcess(["layer", "/no/such/file"], true, {})).err).toMatch(/^\x1b\[31mstrata:\x1b\[0m cannot read/);
    const spawned = run(["layer", closure, "--group", "x=nothing*"], undefined, { FORCE_COLOR: "1" });
    expect(spawned.err).toMatch(/^strata: warning: group "x"/);
  });
});
