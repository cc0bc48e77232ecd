// The strata web page. All graph work happens in one Web Worker (the same
// StrataService the Node worker API runs); this thread only reads files,
// validates pipeline text, and draws. Closure bytes are transferred to the
// worker, never copied and never sent anywhere else.
import { createWebWorker } from "../src/worker/web.js";
import type { StrataWorker } from "../src/worker/client.js";
import type { ClosureInfo, LayerRequest, LayerResult, StrategyInfo } from "../src/worker/service.js";
import { explanationRows, type Explanation } from "../src/explain/index.js";
import { formatBytes } from "../src/report/format.js";
import { layerChart } from "./chart.js";
import { paintMarks, validatePipelineText, type EditorState } from "./editor.js";
import { downloadText } from "./download.js";
import { setupFleet } from "./fleet.js";

interface Example {
  readonly name: string;
  readonly kind: "closure" | "series";
  readonly files: readonly string[];
}

/** What the page measured, for the browser tests and docs/web.md. */
interface Metrics {
  /** Per operation: worker time and round trip, and how long the longest gap between painted frames was meanwhile. */
  readonly runs: { op: string; name: string; workerMs: number; roundTripMs: number; frames: number; maxFrameGapMs: number }[];
}

declare global {
  interface Window {
    strataMetrics: Metrics;
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  file: $<HTMLInputElement>("file"),
  drop: $("drop"),
  example: $<HTMLSelectElement>("example"),
  closureStatus: $("closure-status"),
  strategy: $<HTMLSelectElement>("strategy"),
  strategySummary: $("strategy-summary"),
  maxLayers: $<HTMLInputElement>("max-layers"),
  fromImageLayers: $<HTMLInputElement>("from-image-layers"),
  pipelineBox: $("pipeline-box"),
  pipeline: $<HTMLTextAreaElement>("pipeline"),
  mirror: $("pipeline-mirror"),
  pipelineErrors: $("pipeline-errors"),
  run: $<HTMLButtonElement>("run"),
  runStatus: $("run-status"),
  result: $("result-section"),
  summary: $("summary"),
  download: $<HTMLButtonElement>("download"),
  chart: $("chart"),
  layers: $<HTMLTableElement>("layers"),
  explainSection: $("explain-section"),
  explainPath: $<HTMLInputElement>("explain-path"),
  explain: $<HTMLButtonElement>("explain"),
  suggestions: $("suggestions"),
  explanation: $("explanation"),
  seriesFiles: $<HTMLInputElement>("series-files"),
  seriesExample: $<HTMLSelectElement>("series-example"),
  seriesStrategies: $("series-strategies"),
  evaluate: $<HTMLButtonElement>("evaluate"),
  seriesStatus: $("series-status"),
  seriesResult: $("series-result"),
};

const state: {
  worker: StrataWorker;
  strategies: StrategyInfo[];
  closure?: ClosureInfo;
  plan?: LayerResult;
  editor: EditorState;
  series?: { name: string; files: () => Promise<{ name: string; bytes: ArrayBuffer }[]> };
} = { worker: startWorker(), strategies: [], editor: { value: undefined, issues: [], ok: true } };

window.strataMetrics = { runs: [] };

function startWorker(): StrataWorker {
  return createWebWorker(() => new Worker(new URL("../src/worker/web-entry.ts", import.meta.url), { type: "module", name: "strata" }));
}

function setStatus(el: HTMLElement, text: string, kind: "" | "busy" | "error" = ""): void {
  el.textContent = text;
  el.className = `status ${kind}`;
}

/**
 * Runs one worker call while watching this thread: counts painted frames and
 * the longest gap between them (a blocked main thread shows as a long gap).
 */
async function measured<T extends { planMs?: number; loadMs?: number }>(
  op: string,
  name: string,
  call: () => Promise<T>,
  onTick?: (ms: number) => void,
): Promise<T> {
  const start = performance.now();
  let frames = 0;
  let last = start;
  let maxGap = 0;
  let watching = true;
  const frame = (t: number) => {
    if (!watching) return;
    frames++;
    maxGap = Math.max(maxGap, t - last);
    last = t;
    onTick?.(t - start);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  try {
    const result = await call();
    const end = performance.now();
    window.strataMetrics.runs.push({
      op,
      name,
      workerMs: result.planMs ?? result.loadMs ?? NaN,
      roundTripMs: end - start,
      frames,
      maxFrameGapMs: Math.max(maxGap, end - last),
    });
    return result;
  } finally {
    watching = false;
  }
}

/** A crashed worker is replaced; what it held is gone. */
function recover(e: unknown, where: HTMLElement): void {
  const err = e as Error;
  if (err?.name === "WorkerCrashedError") {
    state.worker = startWorker();
    void state.worker.init();
    state.closure = undefined;
    state.plan = undefined;
    ui.run.disabled = true;
    setStatus(where, `${err.message}. The worker was restarted; open the closure again.`, "error");
    return;
  }
  setStatus(where, err?.message ?? String(e), "error");
}

// --- 1. closure input --------------------------------------------------------

/** A closure file (read by the worker piece by piece, never as one buffer) or fetched bytes. */
async function openBytes(bytes: Blob | ArrayBuffer, name: string): Promise<void> {
  setStatus(ui.closureStatus, `Reading ${name} (${formatBytes(bytes instanceof Blob ? bytes.size : bytes.byteLength)})…`, "busy");
  ui.run.disabled = true;
  try {
    if (state.closure !== undefined) await state.worker.release(state.closure.id);
    state.closure = undefined;
    const info = await measured("load", name, () => state.worker.load(bytes, name));
    state.closure = info;
    const extra = [
      info.hasPipeline ? "has a layeringPipeline" : "",
      info.excludePaths ? `${info.excludePaths} exclude_paths` : "",
      info.roots ? `${info.roots} roots` : "",
    ].filter(Boolean);
    setStatus(
      ui.closureStatus,
      `${name}: ${info.paths.toLocaleString("en")} paths, ${formatBytes(info.narBytes)} (${info.format}${extra.length ? "; " + extra.join(", ") : ""}). Read in ${Math.round(info.loadMs)} ms.`,
    );
    ui.closureStatus.dataset.paths = String(info.paths);
    updateRunButton();
    await plan();
  } catch (e) {
    recover(e, ui.closureStatus);
  }
}

ui.file.addEventListener("change", async () => {
  const f = ui.file.files?.[0];
  if (f) await openBytes(f, f.name);
  ui.file.value = "";
});
ui.drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  ui.drop.classList.add("over");
});
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", async (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  const f = e.dataTransfer?.files[0];
  if (f) await openBytes(f, f.name);
});

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

const baseName = (f: string) => f.slice(f.lastIndexOf("/") + 1);

ui.example.addEventListener("change", async () => {
  const file = ui.example.value;
  if (file) await openBytes(await fetchBytes(file), baseName(file));
});

// --- 2. strategy and pipeline ------------------------------------------------

function selectedStrategy(): StrategyInfo | undefined {
  return state.strategies.find((s) => s.name === ui.strategy.value);
}

function updateRunButton(): void {
  const usesPipeline = selectedStrategy()?.takesPipeline === true;
  ui.pipelineBox.hidden = !usesPipeline;
  const customPipeline = usesPipeline && state.editor.value !== undefined;
  // nixpkgs ignores maxLayers when a pipeline is set: limit_layers goes in the pipeline.
  ui.maxLayers.disabled = customPipeline;
  ui.fromImageLayers.disabled = customPipeline;
  ui.run.disabled = state.closure === undefined || (usesPipeline && !state.editor.ok);
  ui.strategySummary.textContent = selectedStrategy()?.summary ?? "";
  ui.evaluate.disabled = state.series === undefined;
}

function validateEditor(): void {
  const text = ui.pipeline.value;
  state.editor = validatePipelineText(text);
  paintMarks(ui.mirror, text, state.editor.issues);
  ui.pipelineErrors.replaceChildren(
    ...state.editor.issues.map((issue) => {
      const li = document.createElement("li");
      li.className = issue.severity;
      li.dataset.location = issue.location;
      const go = document.createElement("button");
      go.textContent = `line ${issue.line}`;
      go.title = "select the step in the editor";
      go.addEventListener("click", () => {
        ui.pipeline.focus();
        ui.pipeline.setSelectionRange(issue.start, issue.end);
      });
      li.append(go, `${issue.severity === "error" ? "" : issue.severity + ": "}${issue.message}`);
      return li;
    }),
  );
  updateRunButton();
}

ui.pipeline.addEventListener("input", validateEditor);
ui.pipeline.addEventListener("scroll", () => {
  ui.mirror.scrollTop = ui.pipeline.scrollTop;
});
ui.strategy.addEventListener("change", updateRunButton);
ui.run.addEventListener("click", () => void plan());

function numberField(input: HTMLInputElement): number | undefined {
  if (input.disabled || input.value.trim() === "") return undefined;
  const v = Number(input.value);
  return Number.isInteger(v) ? v : undefined;
}

function layerRequest(): LayerRequest {
  const strategy = ui.strategy.value;
  const request: { -readonly [K in keyof LayerRequest]: LayerRequest[K] } = { strategy, format: "nixpkgs" };
  const takesPipeline = selectedStrategy()?.takesPipeline === true;
  if (takesPipeline && state.editor.value !== undefined) request.pipeline = state.editor.value;
  const maxLayers = numberField(ui.maxLayers);
  const fromImageLayers = numberField(ui.fromImageLayers);
  if (maxLayers !== undefined) request.maxLayers = maxLayers;
  if (fromImageLayers !== undefined) request.fromImageLayers = fromImageLayers;
  return request;
}

async function plan(): Promise<void> {
  const closure = state.closure;
  if (closure === undefined || ui.run.disabled) return;
  const request = layerRequest();
  const label = `Planning ${closure.name} with ${request.strategy}`;
  setStatus(ui.runStatus, `${label}…`, "busy");
  ui.run.disabled = true;
  try {
    const result = await measured(
      "layer",
      `${closure.name}/${request.strategy}`,
      () => state.worker.layer(closure.id, request),
      (ms) => {
        // Updated every frame while the worker plans: the page stays live.
        ui.runStatus.textContent = `${label}… ${(ms / 1000).toFixed(1)} s`;
      },
    );
    state.plan = result;
    showPlan(closure, result);
    setStatus(ui.runStatus, `Planned in ${Math.round(result.planMs)} ms (in the worker).${result.warnings.length ? " " + result.warnings.join(" ") : ""}`);
  } catch (e) {
    recover(e, ui.runStatus);
    const location = (e as { location?: unknown }).location;
    if (typeof location === "string") ui.runStatus.dataset.location = location;
  } finally {
    // A counter the browser tests wait on: one more settled plan.
    document.body.dataset.plans = String(Number(document.body.dataset.plans ?? 0) + 1);
    updateRunButton();
  }
}

// --- 3. layers ---------------------------------------------------------------

const SHOWN_PATHS = 500;

function showPlan(closure: ClosureInfo, r: LayerResult): void {
  ui.result.hidden = false;
  ui.explainSection.hidden = false;
  ui.summary.textContent = `${r.layers.length} layers, ${r.paths.toLocaleString("en")} paths, ${formatBytes(r.totalBytes)} (${r.strategy}, ${closure.name}).`;
  ui.summary.dataset.layers = String(r.layers.length);
  ui.chart.replaceChildren(layerChart(r.layerBytes, (i) => void explain(r.layers[i][0])));
  const rows = r.layers.map((layer, i) => {
    const tr = document.createElement("tr");
    tr.id = `layer-${i}`;
    const cells = [String(i + 1), String(layer.length), formatBytes(r.layerBytes[i])].map((t) => {
      const td = document.createElement("td");
      td.textContent = t;
      return td;
    });
    const contents = document.createElement("td");
    if (layer.length === 1) contents.append(pathLink(layer[0]));
    else {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.append(pathLink(layer[0]), ` and ${layer.length - 1} more`);
      details.append(summary);
      // Filled on first open: a merged layer can hold tens of thousands of paths.
      details.addEventListener("toggle", () => {
        if (!details.open || details.querySelector("ol")) return;
        const ol = document.createElement("ol");
        for (const p of layer.slice(0, SHOWN_PATHS)) {
          const li = document.createElement("li");
          li.append(pathLink(p));
          ol.append(li);
        }
        details.append(ol);
        if (layer.length > SHOWN_PATHS) details.append(`… ${layer.length - SHOWN_PATHS} more in the downloaded JSON.`);
      });
      contents.append(details);
    }
    tr.append(...cells, contents);
    return tr;
  });
  ui.layers.tBodies[0].replaceChildren(...rows);
}

function pathLink(path: string): HTMLElement {
  const code = document.createElement("code");
  code.className = "path";
  code.textContent = path;
  code.title = "explain this path";
  code.addEventListener("click", () => void explain(path));
  return code;
}

function pickLayer(i: number): void {
  ui.layers.querySelectorAll("tr.picked").forEach((tr) => tr.classList.remove("picked"));
  const tr = document.getElementById(`layer-${i}`);
  tr?.classList.add("picked");
  tr?.scrollIntoView({ block: "center" });
}

ui.download.addEventListener("click", () => {
  const r = state.plan;
  if (r?.text === undefined || state.closure === undefined) return;
  downloadText(r.text, `${state.closure.name.replace(/\.json(\.gz)?$/, "")}-${r.strategy}-layers.json`);
});

// --- 4. explain --------------------------------------------------------------

ui.explainPath.addEventListener("input", () => {
  const q = ui.explainPath.value.trim().toLowerCase();
  const out: HTMLElement[] = [];
  if (q.length >= 2 && state.plan) {
    for (const layer of state.plan.layers) {
      for (const p of layer) {
        if (p.toLowerCase().includes(q)) {
          const li = document.createElement("li");
          li.textContent = p;
          li.addEventListener("click", () => void explain(p));
          out.push(li);
          if (out.length >= 12) break;
        }
      }
      if (out.length >= 12) break;
    }
  }
  ui.suggestions.replaceChildren(...out);
});
ui.explainPath.addEventListener("keydown", (e) => {
  if (e.key === "Enter") void explain(ui.explainPath.value.trim());
});
ui.explain.addEventListener("click", () => void explain(ui.explainPath.value.trim()));

async function explain(path: string): Promise<void> {
  const closure = state.closure;
  if (!closure || !path) return;
  ui.explainSection.hidden = false;
  ui.explainPath.value = path;
  ui.suggestions.replaceChildren();
  ui.explanation.textContent = "Explaining…";
  try {
    const ex = await state.worker.explain(closure.id, path);
    renderExplanation(ex);
    if (ex.layer !== null) pickLayer(ex.layer);
    ui.explainSection.scrollIntoView({ block: "nearest" });
  } catch (e) {
    recover(e, ui.explanation);
  }
}

function renderExplanation(ex: Explanation): void {
  const box = document.createElement("div");
  box.className = "explain";
  const title = document.createElement("p");
  const code = document.createElement("code");
  code.textContent = ex.path;
  title.append(code);
  const why = document.createElement("p");
  why.textContent = ex.why.join(" ");
  why.className = "why";
  const dl = document.createElement("dl");
  const add = (label: string, value: string) => {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.fact = label;
    dl.append(dt, dd);
  };
  for (const [label, value] of explanationRows(ex)) add(label, value);
  box.append(title, why, dl);
  ui.explanation.replaceChildren(box);
}

// --- 5. series ---------------------------------------------------------------

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

ui.seriesFiles.addEventListener("change", () => {
  const files = [...(ui.seriesFiles.files ?? [])].sort((a, b) => naturalOrder(a.name, b.name));
  if (files.length < 2) {
    setStatus(ui.seriesStatus, "A series needs at least two versions.", "error");
    return;
  }
  state.series = { name: `${files.length} files`, files: () => Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))) };
  setStatus(ui.seriesStatus, `${files.length} versions: ${files.map((f) => f.name).join(", ")}`);
  updateRunButton();
});

ui.seriesExample.addEventListener("change", () => {
  const files = ui.seriesExample.value ? (JSON.parse(ui.seriesExample.value) as string[]) : [];
  if (files.length === 0) return;
  state.series = {
    name: ui.seriesExample.selectedOptions[0].text,
    files: () => Promise.all(files.map(async (f) => ({ name: baseName(f), bytes: await fetchBytes(f) }))),
  };
  setStatus(ui.seriesStatus, `${files.length} versions: ${files.map(baseName).join(", ")}`);
  updateRunButton();
});

ui.evaluate.addEventListener("click", async () => {
  const series = state.series;
  if (!series) return;
  const specs = [...ui.seriesStrategies.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value);
  if (specs.length === 0) {
    setStatus(ui.seriesStatus, "Pick at least one strategy.", "error");
    return;
  }
  ui.evaluate.disabled = true;
  setStatus(ui.seriesStatus, `Evaluating ${series.name}…`, "busy");
  const ids: number[] = [];
  try {
    for (const f of await series.files()) ids.push((await state.worker.load(f.bytes, f.name)).id);
    const maxLayers = numberField(ui.maxLayers);
    const fromImageLayers = numberField(ui.fromImageLayers);
    const { evaluation, html } = await measured("evaluate", series.name, async () => {
      const r = await state.worker.evaluateSeries(ids, {
        strategies: specs,
        ...(maxLayers ? { maxLayers } : {}),
        ...(fromImageLayers ? { fromImageLayers } : {}),
      });
      return { ...r, planMs: NaN };
    });
    // seriesHtml escapes every name it prints; it is strata's own markup.
    ui.seriesResult.innerHTML = html;
    ui.seriesResult.dataset.totals = JSON.stringify(evaluation.strategies.map((s) => ({ strategy: s.strategy, ...s.total })));
    setStatus(ui.seriesStatus, `${evaluation.versions.length} versions, ${evaluation.strategies.length} strategies.`);
  } catch (e) {
    recover(e, ui.seriesStatus);
  } finally {
    for (const id of ids) await state.worker.release(id).catch(() => undefined);
    document.body.dataset.evaluations = String(Number(document.body.dataset.evaluations ?? 0) + 1);
    updateRunButton();
  }
});

// --- start -------------------------------------------------------------------

async function start(): Promise<void> {
  await state.worker.init();
  state.strategies = await state.worker.strategies();
  ui.strategy.replaceChildren(
    ...state.strategies.map((s) => {
      const o = document.createElement("option");
      o.value = s.name;
      o.textContent = s.name;
      return o;
    }),
  );
  ui.seriesStrategies.append(
    ...state.strategies
      .filter((s) => !s.takesPipeline)
      .flatMap((s) => [s.name, ...(s.takesPrevious ? [`${s.name}+previous`] : [])])
      .map((name) => {
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = name;
        box.checked = !name.endsWith("+previous");
        label.append(box, ` ${name}`);
        return label;
      }),
  );
  try {
    const examples = (await (await fetch("examples/index.json")).json()) as Example[];
    for (const ex of examples) {
      const o = document.createElement("option");
      o.textContent = ex.name;
      if (ex.kind === "closure") {
        o.value = ex.files[0];
        ui.example.append(o);
      } else {
        o.value = JSON.stringify(ex.files);
        ui.seriesExample.append(o);
      }
    }
  } catch {
    // A page served without its examples still works with files.
  }
  validateEditor();
  document.body.dataset.ready = "true";
}

// --- 5. fleets (web/fleet.ts) -------------------------------------------------
setupFleet(
  {
    files: $<HTMLInputElement>("fleet-files"),
    budget: $<HTMLInputElement>("fleet-budget"),
    run: $<HTMLButtonElement>("fleet-run"),
    status: $("fleet-status"),
    result: $("fleet-result"),
    download: $<HTMLButtonElement>("fleet-download"),
  },
  () => state.worker,
  setStatus,
  recover,
);

void start().catch((e) => recover(e, ui.closureStatus));
