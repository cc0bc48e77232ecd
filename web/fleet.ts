// Section 5 of the page: several closures planned jointly (issue 16). Shows
// what the images share (bytes of each image held by others, and the shared
// layers of the joint plan) and each image's plan; downloads fleet.json as
// `strata fleet` writes it. Everything runs in the page's worker.
import type { StrataWorker } from "../src/worker/client.js";
import type { FleetPlan } from "../src/fleet/plan.js";
import { fleetDocument, FLEET_OBJECTIVE } from "../src/fleet/document.js";
import { formatBytes, formatPercent } from "../src/report/format.js";
import { downloadText } from "./download.js";

export interface FleetUi {
  readonly files: HTMLInputElement;
  readonly budget: HTMLInputElement;
  readonly run: HTMLButtonElement;
  readonly status: HTMLElement;
  readonly result: HTMLElement;
  readonly download: HTMLButtonElement;
}

type Status = (el: HTMLElement, text: string, kind?: "" | "busy" | "error") => void;

function cell(tag: "td" | "th", text: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): HTMLTableElement {
  const t = document.createElement("table");
  const head = document.createElement("tr");
  head.append(...header.map((h) => cell("th", h)));
  t.append(
    head,
    ...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.append(...r.map((c) => cell("td", c)));
      return tr;
    }),
  );
  return t;
}

export function setupFleet(ui: FleetUi, worker: () => StrataWorker, setStatus: Status, recover: (e: unknown, where: HTMLElement) => void): void {
  let last: FleetPlan | undefined;
  ui.files.addEventListener("change", () => {
    const n = ui.files.files?.length ?? 0;
    ui.run.disabled = n < 1;
    setStatus(ui.status, n > 0 ? `${n} closures: ${[...ui.files.files!].map((f) => f.name).join(", ")}` : "");
  });
  ui.run.addEventListener("click", async () => {
    const files = [...(ui.files.files ?? [])];
    if (files.length === 0) return;
    ui.run.disabled = true;
    setStatus(ui.status, `Planning ${files.length} images together…`, "busy");
    const ids: number[] = [];
    try {
      const w = worker();
      for (const f of files) ids.push((await w.load(await f.arrayBuffer(), f.name.replace(/\.gz$/, "").replace(/\.json$/, ""))).id);
      const budget = Number(ui.budget.value) || undefined;
      const plan = await w.fleet(ids, budget ? { budget } : {});
      last = plan;
      show(plan);
      setStatus(ui.status, `${plan.images.length} images, ${plan.summary.distinctLayers} distinct layers.`);
    } catch (e) {
      recover(e, ui.status);
    } finally {
      for (const id of ids)
        await worker()
          .release(id)
          .catch(() => undefined);
      ui.run.disabled = false;
      document.body.dataset.fleets = String(Number(document.body.dataset.fleets ?? 0) + 1);
    }
  });
  ui.download.addEventListener("click", () => {
    if (!last) return;
    downloadText(JSON.stringify(fleetDocument(last), null, 1) + "\n", "fleet.json");
  });

  function show(plan: FleetPlan): void {
    const s = plan.summary;
    const intro = document.createElement("p");
    intro.textContent =
      `Registry ${formatBytes(s.registryBytes)} (ideal, one layer per path: ${formatBytes(s.idealRegistryBytes)}; without sharing ${formatBytes(s.totalImageBytes)}). ` +
      `Sharing captured: ${formatPercent(s.sharingCaptured)}. ${s.sharedLayers} of ${s.distinctLayers} layers are shared; ` +
      `${s.imagesWithPrivateCopies} images hold a private copy of a shared path.`;
    const objective = document.createElement("p");
    objective.className = "note";
    objective.textContent = `Objective: ${FLEET_OBJECTIVE}.`;
    // What each image shares: its bytes that other images hold too, and in shared layers.
    const perImage = plan.images.map((img) => {
      let shared = 0;
      for (const id of img.layerIds) if (plan.layers[id].images.length > 1) shared += plan.layers[id].bytes;
      return [
        img.name,
        String(img.layers.length),
        String(img.budget),
        formatBytes(img.bytes),
        formatBytes(shared),
        formatBytes(img.privateCopyBytes),
        formatBytes(img.expectedUpdateBytes),
      ];
    });
    const sharedLayers = plan.layers
      .filter((l) => l.images.length > 1)
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 30)
      .map((l) => [formatBytes(l.bytes), String(l.paths.length), l.images.map((i) => plan.images[i].name).join(", ")]);
    const h1 = document.createElement("h3");
    h1.textContent = "Images";
    const h2 = document.createElement("h3");
    h2.textContent = "Largest shared layers";
    ui.result.replaceChildren(
      intro,
      objective,
      h1,
      table(["image", "layers", "budget", "size", "in shared layers", "private copies", "expected update"], perImage),
      h2,
      table(["size", "paths", "images"], sharedLayers),
    );
    ui.result.dataset.summary = JSON.stringify(s);
    ui.result.dataset.layers = JSON.stringify(plan.images.map((i) => i.layers));
    ui.download.disabled = false;
  }
}
