#!/usr/bin/env node
// Records a digest of the CLI's stdout, stderr and exit code for a fixed set of
// inputs, strategies, formats and commands, one line per run. Refactorings that
// must not change any output compare two such files:
//
//   node scripts/cli-digests.mjs > before.txt
//   ... change the code, npm run build ...
//   node scripts/cli-digests.mjs > after.txt && diff before.txt after.txt
//
// Needs a built dist/ and, for the larger inputs, ../shared/data (skipped with
// a note on stderr when absent: this is a tool, not a test).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist", "cli", "main.js");
const shared = join(root, "..", "shared", "data");

const inputs = [
  "examples/python-scipy.json.gz",
  "docs/examples/hello.attrs.json",
  "bench/data/desktop-v0.json.gz",
  join(shared, "real", "tvix-hello-exportReferencesGraph.json"),
  join(shared, "debian-bookworm", "img-postgresql.json.gz"),
].filter((f) => {
  const ok = existsSync(join(root, f)) || existsSync(f);
  if (!ok) process.stderr.write(`cli-digests: skipping missing ${f}\n`);
  return ok;
});

const runs = [];
for (const input of inputs) {
  const strategies = ["", "popularity", "auto-layer", "nixery", "min-pull"];
  for (const s of strategies) {
    const st = s ? ["--strategy", s] : [];
    runs.push(["layer", input, ...st]);
    runs.push(["layer", input, ...st, "--budget", "30", "-v"]);
    runs.push(["layer", input, ...st, "--format", "debug"]);
    runs.push(["layer", input, ...st, "--format", "nix2container"]);
    runs.push(["layer", input, ...st, "--format", "pipeline"]);
    runs.push(["layer", input, ...st, "--order", "stable-first", "--max-layers", "40"]);
    runs.push(["layer", input, ...st, "--group", "py=python3*|libpython*", "--heavy", "20M", "--budget", "20"]);
    runs.push(["explain", input, "glibc", ...st, "--json"]);
    runs.push(["explain", input, "glibc", ...st, "--mates", "0"]);
    runs.push(["dot", input, ...st]);
    runs.push(["report", input, ...st]);
  }
  runs.push(["layer", input, "--strategy", "auto-layer", "--format", "auto-layer"]);
  runs.push(["layer", input, "--strategy", "nixery", "--format", "nixery"]);
  runs.push(["layer", input, "--strategy", "nixery", "--strict"]);
  runs.push(["layer", input, "--strategy", "nixery", "--drop-unreachable", "--budget", "10"]);
  runs.push(["layer", input, "--strategy", "min-pull", "--changes-per-update", "2", "--min-layer-size", "1M", "--max-layer-size", "1G"]);
  runs.push(["layer", input, "--strategy", "min-pull", "--budget", "0"]);
  runs.push(["layer", input, "--strategy", "auto-layer", "--max-layers", "1"]);
  runs.push(["layer", input, "--strategy", "popularity", "--from-image-layers", "99"]);
  runs.push(["layer", input, "--pipeline", '[["popularity_contest"],["limit_layers",5]]']);
  runs.push(["layer", input, "--pipeline", '[["min_pull",4]]']);
  runs.push(["layer", input, "--pipeline", '[["auto_layer",4]]']);
  runs.push(["layer", input, "--pipeline", '[["nixery",4]]']);
  runs.push(["layer", input, "--pipeline", '[["layer_groups",{"groups":[{"name":"g","match":"glibc*"}],"budget":6,"strategy":"auto-layer"}]]']);
  runs.push(["popularity", input]);
  runs.push(["layer", input, "--strategy", "popularity", "--root", "/x"]);
  runs.push(["layer", input, "--strategy", "auto-layer", "--previous", "/x"]);
  runs.push(["layer", input, "--strategy", "auto-layer", "--lenient"]);
}
const series = ["bench/data/desktop-v0.json.gz", "bench/data/desktop-v1.json.gz", "bench/data/desktop-v2.json.gz"];
runs.push(["evaluate", "--series", ...series]);
runs.push(["evaluate", "--series", ...series, "--json", "--budget", "30"]);
runs.push(["evaluate", "--images", ...series, "--strategy", "auto-layer", "--strategy", "min-pull"]);
runs.push(["evaluate", "--series", ...series, "--strategy", "min-pull+previous", "--strategy", "popularity@stable-first"]);
runs.push(["report", series[2], "--series", ...series, "--strategy", "min-pull"]);
runs.push(["layer", "--help"]);
runs.push(["explain", "--help"]);
runs.push(["evaluate", "--help"]);
runs.push(["report", "--help"]);
runs.push(["dot", "--help"]);
runs.push(["check", '[["popularity_contest"],["limit_layers",99]]']);
runs.push(["check", '[["min_pull",0]]']);
runs.push(["layer", "examples/python-scipy.json.gz", "--strategy", "bogus"]);

const sha = (b) => createHash("sha256").update(b).digest("hex").slice(0, 16);
for (const args of runs) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: "1" } });
  const name = args.map((a) => (a.startsWith(shared) ? "shared:" + a.slice(shared.length + 1) : a)).join(" ");
  process.stdout.write(`${r.status} ${sha(r.stdout)} ${sha(r.stderr)} ${name}\n`);
}
