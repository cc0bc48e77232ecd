// Small, dependency-free SVG charts for self-contained HTML reports (no
// scripts, no network). Colours are fixed per series so reports compare.
import { escapeHtml, formatBytes } from "./format.js";

const PALETTE = ["#2f6db5", "#d9822b", "#3a9a5b", "#b8433f", "#7d5ba6", "#8c6d31", "#c65d9e", "#5b8c8c"];
export const BOUND_COLOURS = { ideal: "#9ccc65", worst: "#bdbdbd" };

export function seriesColour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

export interface BarSeries {
  readonly name: string;
  readonly values: readonly number[];
  readonly colour?: string;
}

/** Grouped vertical bars: one group per category, one bar per series. */
export function groupedBarChart(title: string, categories: readonly string[], series: readonly BarSeries[], width = 860, height = 320): string {
  const left = 72;
  const bottom = 48;
  const top = 36;
  const plotW = width - left - 16;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const groupW = plotW / Math.max(1, categories.length);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, series.length));
  const parts: string[] = [];
  parts.push(axisAndTitle(title, left, top, plotW, plotH, max, width, height));
  categories.forEach((cat, ci) => {
    const gx = left + ci * groupW + groupW * 0.1;
    series.forEach((s, si) => {
      const v = s.values[ci] ?? 0;
      const h = (v / max) * plotH;
      const colour = s.colour ?? seriesColour(si);
      parts.push(
        `<rect x="${(gx + si * barW).toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}"><title>${escapeHtml(`${s.name}, ${cat}: ${formatBytes(v)} (${v} B)`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${(left + ci * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${escapeHtml(cat)}</text>`,
    );
  });
  parts.push(
    legend(
      series.map((s, i) => ({ name: s.name, colour: s.colour ?? seriesColour(i) })),
      left,
      height - 14,
    ),
  );
  return svg(width, height, parts);
}

export interface LineSeries {
  readonly name: string;
  readonly values: readonly number[];
}

/** Lines over an index axis with a log-scale y axis (layer sizes span decades). */
export function logLineChart(title: string, xLabel: string, series: readonly LineSeries[], width = 860, height = 320): string {
  const left = 72;
  const bottom = 48;
  const top = 36;
  const plotW = width - left - 16;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.values).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.max(1, Math.min(...all, 1e3))));
  const hi = Math.ceil(Math.log10(Math.max(10, ...all)));
  const maxLen = Math.max(1, ...series.map((s) => s.values.length));
  const y = (v: number) => top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo)) * plotH;
  const x = (i: number) => left + (maxLen === 1 ? plotW / 2 : (i / (maxLen - 1)) * plotW);
  const parts: string[] = [`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeHtml(title)}</text>`];
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#444"/>`);
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#444"/>`);
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e);
    parts.push(`<line x1="${left}" y1="${yy.toFixed(1)}" x2="${left + plotW}" y2="${yy.toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end" font-size="10">${escapeHtml(formatBytes(10 ** e))}</text>`);
  }
  series.forEach((s, si) => {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${seriesColour(si)}" stroke-width="1.5" points="${pts}"><title>${escapeHtml(s.name)}</title></polyline>`);
  });
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${escapeHtml(xLabel)}</text>`);
  parts.push(
    legend(
      series.map((s, i) => ({ name: s.name, colour: seriesColour(i) })),
      left,
      height - 14,
    ),
  );
  return svg(width, height, parts);
}

function axisAndTitle(title: string, left: number, top: number, plotW: number, plotH: number, max: number, width: number, _height: number): string {
  const parts = [`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeHtml(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const yy = top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${left}" y1="${yy.toFixed(1)}" x2="${width - 16}" y2="${yy.toFixed(1)}" stroke="${i === 0 ? "#444" : "#eee"}"/>`);
    parts.push(`<text x="${left - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end" font-size="10">${escapeHtml(formatBytes(v))}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#444"/>`);
  void plotW;
  return parts.join("");
}

function legend(items: readonly { name: string; colour: string }[], x: number, y: number): string {
  let at = x;
  return items
    .map((it) => {
      const s = `<rect x="${at}" y="${y - 9}" width="10" height="10" fill="${it.colour}"/><text x="${at + 14}" y="${y}" font-size="11">${escapeHtml(it.name)}</text>`;
      at += 24 + it.name.length * 6.5;
      return s;
    })
    .join("");
}

function svg(width: number, height: number, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" role="img">${parts.join("")}</svg>`;
}
