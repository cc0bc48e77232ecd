// What each strategy's plans cost on real update series, at budgets 99 and 30:
// bytes pulled per series against the ideal (only changed paths) and worst
// (whole image) bounds, local re-extract bytes with and without stable-first
// order, and the sensitivity of min-pull to its one model parameter
// (min-pull's planning time on large closures: bench/min-pull.bench.mjs).
//
// Series: ../shared/data/debian-bookworm/series (python-scipy, postgresql:
// 5 versions each) and bench/data (desktop: GNOME with Recommends, 11
// versions; webapp: 8 versions), made by bench/data/make-series.sh.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");
const dist = (p) => join(root, "dist", p);
const { readClosureDocument } = await import(dist("graph/document.js"));
const { evaluateSeries } = await import(dist("evaluate/evaluate.js"));
const { strategyPlanner } = await import(dist("evaluate/planners.js"));

const read = (file) => {
  let bytes = readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return readClosureDocument(JSON.parse(bytes.toString("utf8")));
};
const seriesList = [
  { name: "python-scipy", prefix: join(shared, "data/debian-bookworm/series/python-scipy"), count: 5 },
  { name: "postgresql", prefix: join(shared, "data/debian-bookworm/series/postgresql"), count: 5 },
  { name: "webapp", prefix: join(root, "bench/data/webapp"), count: 8 },
  { name: "desktop", prefix: join(root, "bench/data/desktop"), count: 11 },
];
const strategies = ["popularity", "auto-layer", "nixery", "min-pull", "min-pull+previous"];
const MiB = (b) => (b / 2 ** 20).toFixed(1);

/** A planner for evaluateSeries (NAME[+previous][@stable-first]), as `strata evaluate` makes it. */
const planner = (spec, budget, extra = {}) => strategyPlanner(spec, { maxLayers: budget + 1, fromImageLayers: 0, budget, ...extra });

const started = new Date().toISOString();
const rows = [];
const json = { started, series: [], sensitivity: [] };
const totals = new Map(); // budget -> per strategy excess sums
for (const s of seriesList) {
  const versions = Array.from({ length: s.count }, (_, k) => ({ name: `v${k}`, doc: read(`${s.prefix}-v${k}.json.gz`) }));
  for (const budget of [99, 30]) {
    const t = performance.now();
    const ev = evaluateSeries(
      versions,
      strategies.map((x) => planner(x, budget)),
    );
    const ms = performance.now() - t;
    const by = Object.fromEntries(ev.strategies.map((x) => [x.strategy, x]));
    const ideal = by["popularity"].total.idealBytes;
    const worst = by["popularity"].total.worstBytes;
    const excess = (x) => by[x].total.pulledBytes - ideal;
    const ratio = excess("auto-layer") > 0 ? excess("min-pull") / excess("auto-layer") : excess("min-pull") === 0 ? 0 : Infinity;
    const perUpdate = Math.max(...by["min-pull"].updates.map((u, k) => u.pulledBytes / Math.max(1, by["auto-layer"].updates[k].pulledBytes)));
    const sum = totals.get(budget) ?? {};
    for (const x of strategies) sum[x] = (sum[x] ?? 0) + excess(x);
    sum.ideal = (sum.ideal ?? 0) + ideal;
    totals.set(budget, sum);
    rows.push(
      `| ${s.name} | ${budget} | ${MiB(ideal)} | ${MiB(worst)} | ${strategies.map((x) => MiB(by[x].total.pulledBytes)).join(" | ")} | ${ratio.toFixed(2)} | ${perUpdate.toFixed(3)} |`,
    );
    json.series.push({
      series: s.name,
      budget,
      ideal,
      worst,
      ms,
      strategies: ev.strategies.map((x) => ({ strategy: x.strategy, total: x.total, updates: x.updates.map((u) => u.pulledBytes) })),
    });
    console.error(`evaluate: ${s.name} budget ${budget}: ${ms.toFixed(0)} ms`);
  }
}

// Local re-extract bytes (overlay2 chain IDs) with and without stable-first order.
const localRows = [];
for (const s of seriesList.filter((x) => x.name === "desktop" || x.name === "webapp")) {
  const versions = Array.from({ length: s.count }, (_, k) => ({ name: `v${k}`, doc: read(`${s.prefix}-v${k}.json.gz`) }));
  for (const budget of [99, 30]) {
    const specs = ["popularity", "popularity@stable-first", "auto-layer", "auto-layer@stable-first", "min-pull"];
    const ev = evaluateSeries(
      versions,
      specs.map((x) => planner(x, budget)),
    );
    localRows.push(`| ${s.name} | ${budget} | ${ev.strategies.map((x) => `${MiB(x.total.pulledBytes)} / ${MiB(x.total.localBytes)}`).join(" | ")} |`);
  }
}

// min-pull's model parameter: expected own changes per update.
const sensRows = [];
{
  const s = seriesList.find((x) => x.name === "desktop");
  const versions = Array.from({ length: s.count }, (_, k) => ({ name: `v${k}`, doc: read(`${s.prefix}-v${k}.json.gz`) }));
  for (const budget of [99, 30]) {
    const auto = evaluateSeries(versions, [planner("auto-layer", budget)]).strategies[0].total;
    const cells = [];
    for (const rate of [1, 2, 4, 8]) {
      const t = evaluateSeries(versions, [planner("min-pull", budget, { changesPerUpdate: rate })]).strategies[0].total;
      const r = (t.pulledBytes - t.idealBytes) / (auto.pulledBytes - auto.idealBytes);
      cells.push(`${MiB(t.pulledBytes - t.idealBytes)} (${r.toFixed(2)})`);
      json.sensitivity.push({ budget, rate, excess: t.pulledBytes - t.idealBytes, autoExcess: auto.pulledBytes - auto.idealBytes });
    }
    sensRows.push(`| ${budget} | ${MiB(auto.pulledBytes - auto.idealBytes)} | ${cells.join(" | ")} |`);
  }
}

const sumRows = [...totals].map(
  ([budget, sum]) =>
    `| ${budget} | ${MiB(sum.ideal)} | ${strategies.map((x) => MiB(sum[x])).join(" | ")} | ${(sum["min-pull"] / sum["auto-layer"]).toFixed(2)} |`,
);

const md = `## evaluate: bytes pulled per update series, every strategy

Run ${started}. Made by \`bench/evaluate.bench.mjs\` with strata's own \`evaluateSeries\` (the library behind
\`strata evaluate\`). Each version is planned independently (\`min-pull+previous\` also sees its own previous plan
and the history of the series). "Pulled" sums, over the updates of a series, the bytes of the layers a client
holding the previous version does not have (a layer is identified by its ordered path list). Budget = store-path
layers (nixpkgs' maxLayers - 1). MiB throughout.

| series | budget | ideal | worst | ${strategies.join(" | ")} | min-pull excess / auto-layer excess | worst single update, min-pull / auto-layer |
| --- | ---: | ---: | ---: | ${strategies.map(() => "---:").join(" | ")} | ---: | ---: |
${rows.join("\n")}

Excess over the ideal, summed over all four series:

| budget | ideal | ${strategies.join(" | ")} | min-pull / auto-layer |
| ---: | ---: | ${strategies.map(() => "---:").join(" | ")} | ---: |
${sumRows.join("\n")}

Series with fewer paths than the budget (python-scipy 112, postgresql 92, webapp about 90 paths at budget 99)
leave little to choose: one layer per path is nearly possible, and every strategy reaches or approaches the ideal.

### Local re-extract bytes (overlay2 chain IDs)

A local store re-extracts every layer above the first changed one. Pulled / re-extracted MiB over each series:

| series | budget | popularity | popularity@stable-first | auto-layer | auto-layer@stable-first | min-pull (always stable-first) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${localRows.join("\n")}

### min-pull's model parameter

Excess over the ideal on the desktop series for several values of the expected own-content changes per update
(in parentheses: the ratio to auto-layer's excess). The default is 4.

| budget | auto-layer excess | rate 1 | rate 2 | rate 4 | rate 8 |
| ---: | ---: | ---: | ---: | ---: | ---: |
${sensRows.join("\n")}

min-pull's planning time on large closures: \`bench/min-pull.bench.mjs\` (section "min-pull: planning time").
`;
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/evaluate.md"), md);
writeFileSync(join(root, "bench/results/evaluate.json"), JSON.stringify(json, null, 2) + "\n");
console.error("evaluate: wrote bench/results/evaluate.md");
