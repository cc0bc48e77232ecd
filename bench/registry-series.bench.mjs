// Bytes really pulled from a registry over an update series, per strategy,
// beside evaluate's narSize prediction and its compressed prediction
// (`strata evaluate --against`). Needs real stores of the versions on disk
// (closure.json per version, e.g. made by nix-store-from-debian.py with
// --bump), docker-registry and skopeo.
//
//   node bench/registry-series.bench.mjs --max-layers 31 DIR/v0 DIR/v1 ... DIR/vN
//
// (`npm run bench` runs it without arguments: it then keeps its last results,
// since the stores it needs are built separately, see bench/README.md.)
//
// For each strategy and version: plan, build an OCI layout (gzip level 6,
// through a layer cache, 1 worker), `strata push` it to a local registry,
// predict the pull with `strata evaluate --against` the previous tag, then let
// skopeo pull it into an OCI directory holding the previous version and count
// the bytes of blob GETs in the registry's access log.
// "min-pull, compressed" plans with each path weighted by its compressed size
// (the path alone as a gzip layer, measured once per path through the cache).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readClosureInput } from "../dist/io/node.js";
import { evaluateSeries } from "../dist/evaluate/evaluate.js";
import { strategyPlanner } from "../dist/evaluate/planners.js";
import { writeOciLayout } from "../dist/image/oci/layout.js";
import { LayerCache } from "../dist/image/cache/index.js";
import { writeResults } from "./lib.mjs";

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const args = process.argv.slice(2);
let maxLayers = 31;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--max-layers") maxLayers = Number(args[++i]);
  else dirs.push(resolve(args[i]));
}
if (dirs.length < 2) {
  console.error(
    "registry-series: needs real stores of an update series: node bench/registry-series.bench.mjs [--max-layers M] DIR/v0 DIR/v1 ...; kept the last results",
  );
  process.exit(0);
}
const budget = maxLayers - 1;
const work = mkdtempSync(join(tmpdir(), "strata-regbench-"));
const cache = await LayerCache.open(join(work, "cache"));
const settings = { mtime: 1, uid: 0, gid: 0, uname: "root", gname: "root" };
const compression = /** @type {const} */ ({ algorithm: "gzip", level: 6 });
const t0 = Date.now();
const log = (s) => console.error(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}`);

// ---- registry
const port = await new Promise((r) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const p = /** @type {import("node:net").AddressInfo} */ (s.address()).port;
    s.close(() => r(p));
  });
});
const regLog = join(work, "registry.log");
writeFileSync(
  join(work, "registry.yml"),
  `version: 0.1\nlog: {level: info, formatter: text, accesslog: {disabled: false}}\nstorage: {filesystem: {rootdirectory: ${join(work, "registry")}}}\nhttp: {addr: 127.0.0.1:${port}}\n`,
);
const fd = openSync(regLog, "a");
const registry = spawn("docker-registry", ["serve", join(work, "registry.yml")], { stdio: ["ignore", fd, fd] });
for (let i = 0; i < 100; i++) {
  const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
    () => true,
    () => false,
  );
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}
const host = `127.0.0.1:${port}`;
const accessLines = () =>
  readFileSync(regLog, "utf8")
    .split("\n")
    .filter((l) => !l.includes("msg="))
    .map((l) => /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-)/.exec(l))
    .filter(Boolean)
    .map((m) => ({ method: m[1], path: m[2], status: Number(m[3]), bytes: m[4] === "-" ? 0 : Number(m[4]) }));
const blobGetBytes = (lines) =>
  lines.filter((l) => l.method === "GET" && l.path.includes("/blobs/sha256:") && l.status === 200).reduce((s, l) => s + l.bytes, 0);

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0 && !(cmd === process.execPath && r.status === 3)) throw new Error(`${cmd} ${argv.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

// ---- versions
const versions = [];
for (const d of dirs) {
  const doc = await readClosureInput(join(d, "closure.json"));
  versions.push({ name: d.split("/").pop(), doc });
}
const narHashesOf = (doc) => new Map(doc.entries.map((e) => [e.path, e.narHash]).filter(([, h]) => typeof h === "string"));
const config = (diffIds) =>
  new TextEncoder().encode(
    JSON.stringify({ architecture: "amd64", os: "linux", created: "1970-01-01T00:00:01Z", config: {}, rootfs: { type: "layers", diff_ids: diffIds } }),
  );

// ---- per-path compressed sizes (each path alone as a gzip layer), measured once per path via the cache
const pathSize = new Map();
async function measurePaths(doc) {
  const todo = doc.entries.map((e) => e.path).filter((p) => !pathSize.has(p));
  if (todo.length === 0) return { paths: 0, ms: 0 };
  const out = join(work, "single");
  const t = Date.now();
  const r = await writeOciLayout({
    outDir: out,
    layers: todo.map((p) => ({ paths: [p] })),
    settings,
    store: { storeDir: "/nix/store" },
    compression,
    narHashes: narHashesOf(doc),
    cache,
    workers: 1,
    config,
  });
  r.layers.forEach((l, i) => pathSize.set(todo[i], l.size));
  rmSync(out, { recursive: true, force: true });
  return { paths: todo.length, ms: Date.now() - t };
}
const measureCost = [];
for (const v of versions) {
  const c = await measurePaths(v.doc);
  measureCost.push({ version: v.name, ...c });
  log(`per-path compressed sizes of ${v.name}: ${JSON.stringify(c)}`);
}
// A new document (not a spread: a streamed document's columns would keep the narSize).
const compressedDoc = (doc) => ({
  format: doc.format,
  entries: doc.entries.map((e) => ({ ...e, narSize: pathSize.get(e.path) })),
  ...(doc.roots ? { roots: doc.roots } : {}),
});

// ---- strategies
const base = { maxLayers, fromImageLayers: 0, budget };
const specs = [
  { name: "popularity", planner: strategyPlanner("popularity", base) },
  { name: "auto-layer", planner: strategyPlanner("auto-layer", base) },
  { name: "nixery", planner: strategyPlanner("nixery", base) },
  { name: "min-pull", planner: strategyPlanner("min-pull+previous", base) },
  { name: "min-pull, compressed", planner: strategyPlanner("min-pull+previous", base), compressed: true },
];

const results = [];
for (const spec of specs) {
  const repo = `bench/${spec.name.replace(/[^a-z-]/g, "")}`;
  const client = join(work, "client", repo.replace("/", "-"));
  mkdirSync(join(work, "client"), { recursive: true });
  const plans = [];
  const updates = [];
  let prevDir;
  for (let k = 0; k < versions.length; k++) {
    const v = versions[k];
    const doc = spec.compressed ? compressedDoc(v.doc) : v.doc;
    const prevDoc = k === 0 ? undefined : spec.compressed ? compressedDoc(versions[k - 1].doc) : versions[k - 1].doc;
    const layers = spec.planner.plan(doc, k === 0 ? undefined : { doc: prevDoc, layers: plans[k - 1] });
    plans.push(layers);
    const dir = join(work, "layouts", `${repo.replace("/", "-")}-${v.name}`);
    mkdirSync(join(work, "layouts"), { recursive: true });
    const tb = Date.now();
    const built = await writeOciLayout({
      outDir: dir,
      layers: layers.map((paths) => ({ paths })),
      settings,
      store: { storeDir: "/nix/store" },
      compression,
      narHashes: narHashesOf(v.doc),
      cache,
      workers: 1,
      config,
      tag: v.name,
    });
    const buildMs = Date.now() - tb;
    const push = JSON.parse(run(process.execPath, [cli, "push", `${dir}:${v.name}`, `docker://${host}/${repo}:${v.name}`, "--json"]));
    let predicted;
    if (k > 0)
      predicted = JSON.parse(
        run(process.execPath, [cli, "evaluate", "--against", `docker://${host}/${repo}:${versions[k - 1].name}`, `${dir}:${v.name}`, "--json"]),
      );
    const mark = accessLines().length;
    run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${host}/${repo}:${v.name}`, `oci:${client}:${v.name}`]);
    const pulled = blobGetBytes(accessLines().slice(mark));
    if (k > 0) {
      const newPaths = v.doc.entries.map((e) => e.path).filter((p) => !new Set(versions[k - 1].doc.entries.map((e) => e.path)).has(p));
      updates.push({
        from: versions[k - 1].name,
        to: v.name,
        pulledBytes: pulled,
        predictedCompressed: predicted.pullBytes,
        configBytes: predicted.configBytes,
        newLayers: predicted.newLayers,
        idealCompressed: newPaths.reduce((s, p) => s + pathSize.get(p), 0),
        worstCompressed: v.doc.entries.reduce((s, e) => s + pathSize.get(e.path), 0),
        uploadedBytes: push.bytesUploaded,
        predictedNarSize: 0, // filled in below from evaluateSeries
        idealNarSize: 0,
        worstNarSize: 0,
        buildMs,
        cacheHits: built.cacheHits,
      });
    }
    if (prevDir) rmSync(prevDir, { recursive: true, force: true });
    prevDir = dir;
    log(
      `${spec.name} ${v.name}: ${layers.length} layers, built in ${buildMs} ms (${built.cacheHits} cached), pushed ${push.bytesUploaded}, pulled ${pulled}${predicted ? `, predicted ${predicted.pullBytes}` : ""}`,
    );
  }
  if (prevDir) rmSync(prevDir, { recursive: true, force: true });
  // narSize prediction of the very same plans.
  let i = 0;
  const replay = { name: spec.name, plan: () => plans[i++] };
  const ev = evaluateSeries(versions, [replay]).strategies[0];
  ev.updates.forEach((u, j) => Object.assign(updates[j], { predictedNarSize: u.pulledBytes, idealNarSize: u.idealBytes, worstNarSize: u.worstBytes }));
  results.push({ strategy: spec.name, updates });
  rmSync(client, { recursive: true, force: true });
}
registry.kill();

// ---- report
const sum = (xs, k) => xs.reduce((s, u) => s + u[k], 0);
const mib = (b) => (b / 2 ** 20).toFixed(1);
const rows = results.map((r) => {
  const u = r.updates;
  const pulled = sum(u, "pulledBytes");
  const ideal = sum(u, "idealCompressed");
  return {
    strategy: r.strategy,
    pulled,
    predicted: sum(u, "predictedCompressed"),
    narSize: sum(u, "predictedNarSize"),
    ideal,
    worst: sum(u, "worstCompressed"),
    excess: pulled - ideal,
    exact: u.every((x) => x.pulledBytes === x.predictedCompressed),
  };
});
const auto = rows.find((r) => r.strategy === "auto-layer");
let md = `## registry-series: bytes really pulled from a registry (issue 15)

Each strategy's plans built as OCI layouts (gzip 6 through the layer cache), pushed with \`strata push\` to a
local docker-registry (distribution 2.8), priced with \`strata evaluate --against\` the previous tag, then pulled
by skopeo into an OCI directory holding the previous version; "pulled by skopeo" is the sum of blob GETs in the
registry's access log. Config blobs (a few hundred bytes per version) are in the pulled and --against figures,
not in the narSize ones. Command: \`node bench/registry-series.bench.mjs --max-layers ${maxLayers} DIR/v0 ... DIR/v${versions.length - 1}\`.

`;
md += `Series: ${versions.map((v) => v.name).join(", ")} (${versions.length - 1} updates), max-layers ${maxLayers} (${budget} store-path layers), gzip level 6 (fflate), node ${process.version}.\n\n`;
md +=
  "| strategy | pulled by skopeo, MiB | evaluate --against, MiB | exact | evaluate narSize, MiB | ideal (compressed), MiB | worst (compressed), MiB | excess over ideal, MiB | excess / auto-layer's |\n| --- | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: |\n";
for (const r of rows)
  md += `| ${r.strategy} | ${mib(r.pulled)} | ${mib(r.predicted)} | ${r.exact ? "yes" : "NO"} | ${mib(r.narSize)} | ${mib(r.ideal)} | ${mib(r.worst)} | ${mib(r.excess)} | ${(r.excess / auto.excess).toFixed(2)} |\n`;
md +=
  "\nPer update (bytes pulled by skopeo / narSize prediction):\n\n| strategy | " +
  results[0].updates.map((u) => `${u.from}→${u.to}`).join(" | ") +
  " |\n| --- |" +
  results[0].updates.map(() => " ---: |").join("") +
  "\n";
for (const r of results) md += `| ${r.strategy} | ${r.updates.map((u) => `${mib(u.pulledBytes)} / ${mib(u.predictedNarSize)}`).join(" | ")} |\n`;
md += `\nPer-path compressed sizes (min-pull, compressed): ${measureCost.map((c) => `${c.version}: ${c.paths} paths in ${(c.ms / 1000).toFixed(1)} s`).join("; ")}.\n`;
console.log(md);
writeResults("registry-series", md, { maxLayers, versions: versions.map((v) => v.name), results, measureCost });
rmSync(work, { recursive: true, force: true });
