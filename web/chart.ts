// Layer sizes as an SVG bar chart, bottom layer on the left. The y axis is
// logarithmic: one merged layer often holds more than all the others together.
import { formatBytes } from "../src/report/format.js";

const NS = "http://www.w3.org/2000/svg";

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function layerChart(sizes: readonly number[], onPick: (layer: number) => void, width = 900, height = 260): SVGSVGElement {
  const left = 64;
  const right = 12;
  const top = 14;
  const bottom = 34;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  // Log-2 axis with a tick every factor of 32 (1 KiB, 32 KiB, 1 MiB, ...): binary units stay round.
  const positive = sizes.filter((s) => s > 0);
  const lo = 5 * Math.floor(Math.log2(Math.max(1, Math.min(...positive, 1024))) / 5);
  const hi = Math.max(lo + 5, 5 * Math.ceil(Math.log2(Math.max(32, ...positive)) / 5));
  const y = (v: number) => top + plotH - ((Math.log2(Math.max(v, 2 ** lo)) - lo) / (hi - lo)) * plotH;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "layer sizes", class: "layer-chart" });
  for (let e = lo; e <= hi; e += 5) {
    const yy = y(2 ** e);
    svg.append(el("line", { x1: left, x2: width - right, y1: yy, y2: yy, class: "grid" }));
    svg.append(el("text", { x: left - 6, y: yy + 4, "text-anchor": "end", class: "tick" }, formatBytes(2 ** e)));
  }
  const n = Math.max(1, sizes.length);
  const step = plotW / n;
  sizes.forEach((s, i) => {
    const yy = y(s);
    const bar = el("rect", {
      x: left + i * step + step * 0.1,
      y: yy,
      width: Math.max(1, step * 0.8),
      height: Math.max(0, top + plotH - yy),
      class: "bar",
      "data-layer": i,
    });
    bar.append(el("title", {}, `layer ${i + 1}: ${formatBytes(s)} (${s} B)`));
    bar.addEventListener("click", () => onPick(i));
    svg.append(bar);
  });
  svg.append(el("line", { x1: left, x2: width - right, y1: top + plotH, y2: top + plotH, class: "axis" }));
  const every = Math.max(1, Math.ceil(n / 20));
  for (let i = 0; i < sizes.length; i += every) {
    svg.append(el("text", { x: left + i * step + step / 2, y: top + plotH + 14, "text-anchor": "middle", class: "tick" }, String(i + 1)));
  }
  svg.append(el("text", { x: left + plotW / 2, y: height - 4, "text-anchor": "middle", class: "label" }, "layer (bottom first)"));
  return svg;
}
