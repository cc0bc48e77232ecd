// `strata build` (issue 14): the docker-archive of a realistic store against
// plain tar of the same store paths, whole processes, interleaved (A B A B
// ...) so that a drifting machine affects both alike.
//
// Store: the postgresql closure (92 Debian packages, ~380 MB of narSize) made
// into a real Nix store by ../shared/tools/nix-store-from-debian.py; give its
// output directory with STRATA_BENCH_PG (default /tmp/strata-pg/v0, the
// directory holding closure.json). Every store path must be on disk.
//
// Pairs (each command in `sh -c`; CPU = the shell's children user+sys from
// `times`, so both sides are measured the same way):
//   file:   strata build CLOSURE -o FILE        vs  tar -cf FILE PATHS
//   stream: strata build CLOSURE > /dev/null    vs  tar -cf - PATHS | cat > /dev/null
//   floor:  tar -cf - PATHS | sha256sum          (tar plus the one digest every layer needs)
// (GNU tar writing straight to /dev/null skips reading the files, so it is no floor.)
// Peak RSS of strata: its own process.resourceUsage().maxRSS (a wrapper runs the CLI in-process).
// With STRATA_BENCH_SCRIPT=/path/to/stream_layered_image.py (nixpkgs' script, not shipped here) a
// fourth pair runs the script and `strata build --nixpkgs-conf` on the same conf.json (to a pipe),
// after checking that both write the same bytes.
// Run: npm run build && node bench/build.bench.mjs [--runs N]
// Writes bench/results/build.md and build.json.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, writeResults } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cliModule = join(root, "dist", "cli", "main.js");
const storeDir = process.env.STRATA_BENCH_PG ?? "/tmp/strata-pg/v0";
const closureFile = join(storeDir, "closure.json");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

if (!existsSync(closureFile)) {
  console.error(`build bench: ${closureFile} not found. Make the store first (root, Debian 12 with nix-bin):
  python3 ../shared/tools/nix-store-from-debian.py ../shared/data/debian-bookworm/img-postgresql.json.gz --cache /tmp/debs --out ${storeDir}
or set STRATA_BENCH_PG to its --out directory.`);
  process.exit(1);
}
const closure = JSON.parse(readFileSync(closureFile, "utf8"));
const paths = (closure.graph ?? closure).map((e) => e.path);
const narSize = (closure.graph ?? closure).reduce((a, e) => a + e.narSize, 0);
for (const p of paths) if (!existsSync(p)) throw new Error(`store path ${p} is not on disk (rebuild the store)`);

const work = mkdtempSync(join(tmpdir(), "strata-build-bench-"));
const pathList = join(work, "paths.txt");
writeFileSync(pathList, paths.join("\n") + "\n");
const wrapper = join(work, "strata.mjs");
// Runs the CLI in this process and reports its peak RSS (KiB) on fd 3.
writeFileSync(
  wrapper,
  `import { writeSync } from "node:fs";
const { runCli, processIo } = await import(${JSON.stringify(cliModule)});
const code = await runCli(process.argv.slice(2), processIo);
writeSync(3, JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }) + "\\n");
process.exitCode = code;
`,
);
const rssFile = join(work, "rss.jsonl");
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const strata = (args) => `${q(process.execPath)} ${q(wrapper)} build ${q(closureFile)} -q ${args} 3>>${q(rssFile)}`;
const out = join(work, "out.tar");

/** Runs a shell command; wall ms and the children's CPU ms (from `times`). */
function run(cmd) {
  if (existsSync(out)) rmSync(out);
  const t0 = performance.now();
  const r = spawnSync("sh", ["-c", `${cmd}\ntimes`], { encoding: "utf8", maxBuffer: 1 << 20 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  const child = lines[lines.length - 1].split(/\s+/).map((t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return m ? (Number(m[1]) * 60 + Number(m[2])) * 1000 : NaN;
  });
  return { wall, cpu: child[0] + child[1] };
}

const script = process.env.STRATA_BENCH_SCRIPT;
let scriptConf;
if (script !== undefined) {
  // conf.json as streamLayeredImage writes it: strata's default plan, an empty customisation layer (as nixpkgs makes for contents = [])
  const plan = JSON.parse(spawnSync(process.execPath, [cliModule, "layer", closureFile], { encoding: "utf8", maxBuffer: 1 << 26 }).stdout);
  const custom = join(work, "customisation");
  const empty = join(custom, "root");
  spawnSync("mkdir", ["-p", empty]);
  const t = spawnSync("tar", [
    "--sort=name",
    "--format=gnu",
    "--numeric-owner",
    "--owner=0",
    "--group=0",
    "--mtime=@315532800",
    "-C",
    empty,
    "-cf",
    join(custom, "layer.tar"),
    ".",
  ]);
  if (t.status !== 0) throw new Error("GNU tar failed to make the customisation layer");
  writeFileSync(join(custom, "checksum"), spawnSync("sha256sum", [join(custom, "layer.tar")], { encoding: "utf8" }).stdout.split(" ")[0] + "\n");
  scriptConf = join(work, "conf.json");
  writeFileSync(
    scriptConf,
    JSON.stringify({
      config: { Cmd: ["/bin/sh"] },
      architecture: "amd64",
      os: "linux",
      store_dir: "/nix/store",
      from_image: null,
      store_layers: plan,
      customisation_layer: custom,
      repo_tag: "bench:v0",
      created: "1970-01-01T00:00:01+00:00",
      mtime: "1970-01-01T00:00:01+00:00",
      uid: 0,
      gid: 0,
      uname: "root",
      gname: "root",
    }),
  );
  const sumOf = (cmd) => spawnSync("sh", ["-c", `${cmd} | sha256sum`], { encoding: "utf8", maxBuffer: 1 << 20 }).stdout.split(" ")[0];
  const a = sumOf(`${q(process.execPath)} ${q(cliModule)} build --nixpkgs-conf ${q(scriptConf)}`);
  const b = sumOf(`python3 ${q(script)} ${q(scriptConf)} 2>/dev/null`);
  if (a !== b || a.length !== 64) throw new Error(`strata and the script disagree on ${scriptConf}: ${a} vs ${b}`);
  console.error(`build bench: strata and ${script} write identical bytes (sha256 ${a})`);
}

const pairs = [
  { name: "file", what: "docker-archive to a file", a: strata(`-o ${q(out)}`), b: `tar -cf ${q(out)} -T ${q(pathList)} 2>/dev/null`, bName: "tar -cf FILE" },
  {
    name: "stream",
    what: "docker-archive to a pipe",
    a: `${strata("")} > /dev/null`,
    b: `tar -cf - -T ${q(pathList)} 2>/dev/null | cat > /dev/null`,
    bName: "tar -cf - | cat",
  },
  {
    name: "floor",
    what: "docker-archive to a file",
    a: strata(`-o ${q(out)}`),
    b: `tar -cf - -T ${q(pathList)} 2>/dev/null | sha256sum > /dev/null`,
    bName: "tar -cf - | sha256sum",
  },
];
if (scriptConf !== undefined) {
  pairs.push({
    name: "script",
    what: "conf.json to a pipe",
    a: `${q(process.execPath)} ${q(wrapper)} build --nixpkgs-conf ${q(scriptConf)} > /dev/null 3>>${q(rssFile)}`,
    b: `python3 ${q(script)} ${q(scriptConf)} > /dev/null 2>/dev/null`,
    bName: "stream_layered_image.py",
  });
}

console.error(`build bench: ${paths.length} store paths, ${(narSize / 2 ** 20).toFixed(1)} MiB narSize, ${RUNS} runs per side`);
run(`tar -cf - -T ${q(pathList)} 2>/dev/null | cat > /dev/null`); // warm the page cache
const results = [];
for (const p of pairs) {
  run(p.a);
  run(p.b); // warm-up
  const a = [];
  const b = [];
  const ratioWall = [];
  const ratioCpu = [];
  for (let i = 0; i < RUNS; i++) {
    const x = run(p.a);
    const y = run(p.b);
    a.push(x);
    b.push(y);
    ratioWall.push(x.wall / y.wall);
    ratioCpu.push(x.cpu / y.cpu);
  }
  const r = {
    name: p.name,
    what: p.what,
    baseline: p.bName,
    strataWallMs: median(a.map((x) => x.wall)),
    strataCpuMs: median(a.map((x) => x.cpu)),
    baselineWallMs: median(b.map((x) => x.wall)),
    baselineCpuMs: median(b.map((x) => x.cpu)),
    wallRatio: median(ratioWall),
    cpuRatio: median(ratioCpu),
  };
  results.push(r);
  console.error(
    `  ${p.name}: strata ${r.strataWallMs.toFixed(0)} ms (cpu ${r.strataCpuMs.toFixed(0)}), ${p.bName} ${r.baselineWallMs.toFixed(0)} ms (cpu ${r.baselineCpuMs.toFixed(0)}): ${r.wallRatio.toFixed(2)}x wall, ${r.cpuRatio.toFixed(2)}x cpu`,
  );
}
const rss = readFileSync(rssFile, "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l).maxRssKiB);
// Peak RSS on a small image (the compat store, 3.5 MB) for comparison: memory should not grow with the image.
const small = join(root, "..", "shared", "compat", "build", "store-closure.json");
let smallRss;
if (existsSync(small) && JSON.parse(readFileSync(small, "utf8")).graph.every((e) => existsSync(e.path))) {
  writeFileSync(rssFile, "");
  for (let i = 0; i < 3; i++) run(`${q(process.execPath)} ${q(wrapper)} build ${q(small)} -q -o ${q(out)} 3>>${q(rssFile)}`);
  smallRss = median(
    readFileSync(rssFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).maxRssKiB),
  );
}
const imageBytes = (() => {
  run(strata(`-o ${q(out)}`));
  return statSync(out).size;
})();
rmSync(work, { recursive: true, force: true });

const md = [
  "## build",
  "",
  `\`strata build\` (docker-archive, byte for byte nixpkgs' stream_layered_image.py) of the postgresql store from`,
  `\`../shared/tools/nix-store-from-debian.py\` (${paths.length} paths, ${(narSize / 2 ** 20).toFixed(1)} MiB narSize, image ${(imageBytes / 2 ** 20).toFixed(1)} MiB,`,
  `default plan), against GNU tar of the same paths; whole processes, interleaved, median of ${RUNS} pairs; ratio = median of`,
  "the per-pair ratios. CPU = user + system of the command's processes. Run: `npm run build && node bench/build.bench.mjs`",
  `(ran ${new Date().toISOString()}).`,
  "",
  "| output | baseline | strata wall | baseline wall | wall ratio | strata CPU | baseline CPU | CPU ratio |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...results.map(
    (r) =>
      `| ${r.what} | \`${r.baseline}\` | ${(r.strataWallMs / 1000).toFixed(2)} s | ${(r.baselineWallMs / 1000).toFixed(2)} s | ${r.wallRatio.toFixed(2)}x | ${(r.strataCpuMs / 1000).toFixed(2)} s | ${(r.baselineCpuMs / 1000).toFixed(2)} s | ${r.cpuRatio.toFixed(2)}x |`,
  ),
  "",
  `Peak RSS of \`strata build\`: median ${(median(rss) / 1024).toFixed(0)} MiB, max ${(Math.max(...rss) / 1024).toFixed(0)} MiB over ${rss.length} runs (the whole process: Node, the closure, the plan, a 1 MiB read buffer)` +
    (smallRss === undefined
      ? "."
      : `; for the 3.5 MB image of ../shared/compat/build: ${(smallRss / 1024).toFixed(0)} MiB (memory does not grow with the image).`),
  "",
  ...(scriptConf === undefined
    ? ["nixpkgs' script was not measured in this run (set STRATA_BENCH_SCRIPT to a copy of stream_layered_image.py to add it).", ""]
    : [
        "Against nixpkgs' stream_layered_image.py (a local copy, CPython " +
          spawnSync("python3", ["--version"], { encoding: "utf8" }).stdout.trim().replace("Python ", "") +
          ") on the same conf.json (strata's default plan, an empty customisation layer): both wrote identical bytes, checked before timing.",
        "",
      ]),
  "strata reads the store once for a file (sizes from metadata first, each layer's header written once its digest is",
  "known) and twice for a pipe (all digests first, so a bad input leaves no partial stream), as nixpkgs' script does",
  "always; every layer is hashed once. tar computes no digest, which is why `tar | sha256sum` is the fair floor.",
  "",
].join("\n");
writeResults("build", md, { paths: paths.length, narSize, imageBytes, runs: RUNS, results, maxRssKiB: rss, smallImageMaxRssKiB: smallRss });
console.error(md);
