// Renderings of evaluation results: a terminal table, and a self-contained
// HTML report with SVG charts (no scripts, no network).
import type { ImagesEvaluation, SeriesEvaluation } from "./evaluate.js";
import { escapeHtml, formatBytes, formatPercent, textTable } from "../report/format.js";
import { BOUND_COLOURS, groupedBarChart, logLineChart } from "../report/svg.js";

export function seriesTable(ev: SeriesEvaluation): string {
  const out: string[] = [];
  const first = ev.strategies[0];
  if (first === undefined) return "no strategies\n";
  const header = ["update", "ideal", "worst", ...ev.strategies.map((s) => s.strategy)];
  const rows = first.updates.map((u, k) => [
    `${u.from} -> ${u.to}`,
    formatBytes(u.idealBytes),
    formatBytes(u.worstBytes),
    ...ev.strategies.map((s) => formatBytes(s.updates[k].pulledBytes)),
  ]);
  rows.push(["total", formatBytes(first.total.idealBytes), formatBytes(first.total.worstBytes), ...ev.strategies.map((s) => formatBytes(s.total.pulledBytes))]);
  out.push("Bytes pulled by a client holding the previous version:\n");
  out.push(textTable(header, rows));
  out.push("\n");
  out.push(
    textTable(
      ["strategy", "pulled", "excess over ideal", "of the way to worst", "local re-extract", "layers (last)"],
      ev.strategies.map((s) => [
        s.strategy,
        formatBytes(s.total.pulledBytes),
        formatBytes(s.total.pulledBytes - s.total.idealBytes),
        formatPercent(s.total.fractionOfWorst),
        formatBytes(s.total.localBytes),
        String(s.versions[s.versions.length - 1].layerCount),
      ]),
    ),
  );
  return out.join("");
}

export function imagesTable(ev: ImagesEvaluation): string {
  return (
    `Layer sharing across ${ev.images.length} images:\n` +
    textTable(
      ["strategy", "images total", "registry", "shared", "shared layers", "dedup ratio"],
      ev.strategies.map((s) => [
        s.strategy,
        formatBytes(s.totalImageBytes),
        formatBytes(s.registryBytes),
        formatBytes(s.sharedBytes),
        String(s.sharedLayers),
        s.dedupRatio === null ? "-" : s.dedupRatio.toFixed(3),
      ]),
    )
  );
}

const STYLE = `body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#f4f4f4}.note{color:#666;font-size:90%}`;

export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
<p class="note">Made by strata. Self-contained: no scripts, no network requests.</p>
</body></html>
`;
}

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("")}</table>`;
}

/** Body of the series section (also used by `strata report`). */
export function seriesHtml(ev: SeriesEvaluation): string {
  const first = ev.strategies[0];
  if (first === undefined) return "<p>No strategies.</p>";
  const categories = first.updates.map((u) => `${u.from}→${u.to}`);
  const bars = groupedBarChart("Bytes pulled per update", categories, [
    { name: "ideal (one layer per path)", values: first.updates.map((u) => u.idealBytes), colour: BOUND_COLOURS.ideal },
    ...ev.strategies.map((s) => ({ name: s.strategy, values: s.updates.map((u) => u.pulledBytes) })),
    { name: "worst (one layer)", values: first.updates.map((u) => u.worstBytes), colour: BOUND_COLOURS.worst },
  ]);
  const sizes = logLineChart(
    `Layer sizes of ${ev.versions[ev.versions.length - 1]}, largest first`,
    "layer rank",
    ev.strategies.map((s) => ({ name: s.strategy, values: [...s.versions[s.versions.length - 1].layerBytes].sort((a, b) => b - a) })),
  );
  const table = htmlTable(
    ["update", "ideal", "worst", ...ev.strategies.map((s) => s.strategy)],
    [
      ...first.updates.map((u, k) => [
        `${u.from} → ${u.to}`,
        formatBytes(u.idealBytes),
        formatBytes(u.worstBytes),
        ...ev.strategies.map((s) => formatBytes(s.updates[k].pulledBytes)),
      ]),
      ["total", formatBytes(first.total.idealBytes), formatBytes(first.total.worstBytes), ...ev.strategies.map((s) => formatBytes(s.total.pulledBytes))],
    ],
  );
  const summary = htmlTable(
    ["strategy", "pulled", "excess over ideal", "of the way to worst", "local re-extract"],
    ev.strategies.map((s) => [
      s.strategy,
      formatBytes(s.total.pulledBytes),
      formatBytes(s.total.pulledBytes - s.total.idealBytes),
      formatPercent(s.total.fractionOfWorst),
      formatBytes(s.total.localBytes),
    ]),
  );
  return `<h2>Update series: ${escapeHtml(ev.versions.join(", "))}</h2>${bars}${table}${summary}<h2>Layer-size distribution</h2>${sizes}`;
}

export function imagesHtml(ev: ImagesEvaluation): string {
  const bars = groupedBarChart(
    "Registry bytes per strategy",
    ev.strategies.map((s) => s.strategy),
    [
      { name: "images total", values: ev.strategies.map((s) => s.totalImageBytes), colour: BOUND_COLOURS.worst },
      { name: "registry (distinct layers)", values: ev.strategies.map((s) => s.registryBytes) },
      { name: "shared by 2+ images", values: ev.strategies.map((s) => s.sharedBytes) },
    ],
  );
  const table = htmlTable(
    ["strategy", "images total", "registry", "shared", "shared layers", "dedup ratio"],
    ev.strategies.map((s) => [
      s.strategy,
      formatBytes(s.totalImageBytes),
      formatBytes(s.registryBytes),
      formatBytes(s.sharedBytes),
      String(s.sharedLayers),
      s.dedupRatio === null ? "-" : s.dedupRatio.toFixed(3),
    ]),
  );
  return `<h2>Images: ${escapeHtml(ev.images.join(", "))}</h2>${bars}${table}`;
}
