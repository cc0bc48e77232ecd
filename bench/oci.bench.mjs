// OCI layouts on a realistic store: `strata build --format oci` against
// `tar | pigz -6` (gzip) and `tar | zstd -3` (zstd) of the same store paths on
// the same cores, the cached rebuild after one low-level package changes, and
// peak RSS. Whole processes, timed with GNU time (`/usr/bin/time -f`), which
// also reports the peak RSS.
//
// Needs the postgresql store series made by the shared tool (as root, with
// Debian's nix-bin):
//   python3 ../shared/tools/nix-store-from-debian.py ../shared/data/debian-bookworm/img-postgresql.json.gz \
//     --cache /tmp/strata-debs --out $STRATA_PG_STORE/v0 --max-jobs 1
//   ... same with --bump libssl3 --out $STRATA_PG_STORE/v1
// STRATA_PG_STORE defaults to /tmp/strata-pg. BENCH_JOBS (default 2) sets the
// cores given to both sides; BENCH_REPS (default 3) the repetitions (medians).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, writeResults } from "./lib.mjs";

const store = process.env.STRATA_PG_STORE ?? "/tmp/strata-pg";
const jobs = Number(process.env.BENCH_JOBS ?? 2);
const reps = Number(process.env.BENCH_REPS ?? 3);
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
for (const v of ["v0", "v1"]) {
  if (!existsSync(join(store, v, "closure.json"))) {
    console.error(`oci bench: ${join(store, v, "closure.json")} is missing; build the postgresql store series first (see the header of bench/oci.bench.mjs)`);
    process.exit(1);
  }
}
const closure = (v) => join(store, v, "closure.json");
const paths = (v) => JSON.parse(readFileSync(closure(v), "utf8")).graph.map((e) => e.path);
const narSize = (v) => JSON.parse(readFileSync(closure(v), "utf8")).graph.reduce((n, e) => n + e.narSize, 0);
const changed = (() => {
  const before = new Set(paths("v0"));
  const g = JSON.parse(readFileSync(closure("v1"), "utf8")).graph.filter((e) => !before.has(e.path));
  return { count: g.length, bytes: g.reduce((n, e) => n + e.narSize, 0) };
})();
const work = mkdtempSync(join(tmpdir(), "strata-oci-bench-"));

/** Runs a shell command under GNU time: wall s, CPU s, peak RSS MiB. */
function timed(command) {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", "bash", "-c", command], { encoding: "utf8", maxBuffer: 1 << 26 });
  const line = r.stderr.split("\n").find((l) => l.startsWith("TIME "));
  if (r.status !== 0 || line === undefined) throw new Error(`failed: ${command}\n${r.stderr}`);
  const [, wall, user, sys, rss] = line.split(" ").map(Number);
  return { wall, cpu: user + sys, rssMiB: rss / 1024, stderr: r.stderr };
}

const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
const tarOf = (v) =>
  `tar -cf - -C / ${paths(v)
    .map((p) => q(p.slice(1)))
    .join(" ")}`;
const strata = (v, out, extra) => `node ${q(cli)} build ${q(closure(v))} --format oci -o ${q(out)} --jobs ${jobs} ${extra}`;

const runs = { pigz: [], zstdTool: [], gzipNoCache: [], zstdNoCache: [], cold: [], warmV1: [], warmSame: [] };
for (let i = 0; i < reps; i++) {
  console.error(`oci bench: repetition ${i + 1}/${reps}`);
  runs.pigz.push(timed(`${tarOf("v0")} | pigz -6 -p ${jobs} > /dev/null`));
  runs.gzipNoCache.push(timed(strata("v0", join(work, "a"), "--no-cache --compression gzip:6")));
  runs.zstdTool.push(timed(`${tarOf("v0")} | zstd -3 -T${jobs} > /dev/null`));
  runs.zstdNoCache.push(timed(strata("v0", join(work, "z"), "--no-cache --compression zstd:3")));
  const cache = join(work, `cache-${i}`);
  runs.cold.push(timed(strata("v0", join(work, "c0"), `--cache ${q(cache)}`)));
  runs.warmV1.push(timed(strata("v1", join(work, "c1"), `--cache ${q(cache)}`)));
  runs.warmSame.push(timed(strata("v1", join(work, "c2"), `--cache ${q(cache)}`)));
  rmSync(cache, { recursive: true, force: true });
}
const summary = (xs) => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)), rssMiB: Math.max(...xs.map((x) => x.rssMiB)) });
const s = Object.fromEntries(Object.entries(runs).map(([k, xs]) => [k, summary(xs)]));
const size = (dir) => Number(spawnSync("du", ["-sb", join(work, dir, "blobs")], { encoding: "utf8" }).stdout.split("\t")[0]);
const gzipBytes = size("a");
const zstdBytes = size("z");
const hitsLine =
  runs.warmV1
    .at(-1)
    .stderr.split("\n")
    .find((l) => l.includes("OCI layout")) ?? "";
rmSync(work, { recursive: true, force: true });

const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const date = new Date().toISOString();
const md = `## oci: OCI layouts with compressed layers, layer cache

Run ${date} by \`bench/oci.bench.mjs\` (${cpus().length} x ${cpus()[0]?.model ?? "?"}, node ${process.version}; shared VM, medians of ${reps} runs; wall and CPU seconds and peak RSS of whole processes from GNU time).
Input: the postgresql image's real Nix store made by \`../shared/tools/nix-store-from-debian.py\` (92 paths, ${f1(narSize("v0") / 2 ** 20)} MiB narSize; v1 = \`--bump libssl3\`, ${changed.count} paths changed).
strata plans with its default (popularity, 100 layers: one path per layer here) and writes \`--format oci -o DIR --jobs ${jobs}\`.
Baselines: \`tar -cf - PATHS | pigz -6 -p ${jobs} > /dev/null\` and \`tar -cf - PATHS | zstd -3 -T${jobs} > /dev/null\` of the same 92 paths.

| run | wall s | CPU s | peak RSS MiB | ratio |
| --- | ---: | ---: | ---: | --- |
| tar \\| pigz -6 (baseline) | ${f1(s.pigz.wall)} | ${f1(s.pigz.cpu)} | ${f1(s.pigz.rssMiB)} | 1 |
| strata oci gzip:6, --no-cache | ${f1(s.gzipNoCache.wall)} | ${f1(s.gzipNoCache.cpu)} | ${f1(s.gzipNoCache.rssMiB)} | **${f2(s.gzipNoCache.wall / s.pigz.wall)}x** pigz wall (aim <= 1.5x), ${f2(s.gzipNoCache.cpu / s.pigz.cpu)}x CPU |
| tar \\| zstd -3 (baseline) | ${f1(s.zstdTool.wall)} | ${f1(s.zstdTool.cpu)} | ${f1(s.zstdTool.rssMiB)} | 1 |
| strata oci zstd:3, --no-cache | ${f1(s.zstdNoCache.wall)} | ${f1(s.zstdNoCache.cpu)} | ${f1(s.zstdNoCache.rssMiB)} | ${f2(s.zstdNoCache.wall / s.zstdTool.wall)}x zstd wall, ${f2(s.zstdNoCache.cpu / s.zstdTool.cpu)}x CPU |
| strata oci gzip, v0, empty cache | ${f1(s.cold.wall)} | ${f1(s.cold.cpu)} | ${f1(s.cold.rssMiB)} | 1 (first build) |
| strata oci gzip, v1 after v0, same cache | ${f1(s.warmV1.wall)} | ${f1(s.warmV1.cpu)} | ${f1(s.warmV1.rssMiB)} | **${f2(s.warmV1.wall / s.cold.wall)}** of the first build's wall (aim <= 0.20), ${f2(s.warmV1.cpu / s.cold.cpu)} of its CPU |
| strata oci gzip, v1 again (all cached) | ${f1(s.warmSame.wall)} | ${f1(s.warmSame.cpu)} | ${f1(s.warmSame.rssMiB)} | ${f2(s.warmSame.wall / s.cold.wall)} of the first build |

Compressed layers: gzip:6 ${f1(gzipBytes / 2 ** 20)} MiB, zstd:3 ${f1(zstdBytes / 2 ** 20)} MiB (of ${f1(narSize("v0") / 2 ** 20)} MiB narSize).
Rebuild report: \`${hitsLine.replace(/^strata: /, "").replace(/\/\S+/g, "DIR")}\`.
The ${changed.count} changed paths are ${f1(changed.bytes / 2 ** 20)} MiB (${f1((100 * changed.bytes) / narSize("v1"))}% of the bytes): the rebuild cannot go below that share of the compression work; the rest is planning, hashing the cached blobs on the way out (every hit is digest-checked) and hard-linking them.
Peak RSS is the whole process tree's largest process (GNU time %M: the strata process with its worker threads).
Reading the ratios: on a shared, oversubscribed VM the wall ratio mostly measures how many runnable threads each side has (the pigz pipeline runs tar, pigz's reader/writer and its compress threads; strata two workers), so the CPU ratio is the steadier figure. Per core, fflate (pure JavaScript, pinned for determinism) needs about 1.25-1.4x pigz's CPU on this tar, and the zstd Wasm build about 1.5x native zstd; the rest is the tar writer, two sha256 passes and two cores contending.
`;
writeResults("oci", md, { store, jobs, reps, runs, summary: s, gzipBytes, zstdBytes });
console.log(md);
