// The fleet summary document (`fleet.json` next to the per-image plans) and
// reading the layers a registry already holds from what earlier runs wrote.
// Browser-safe: values in, values out.
import { UsageError } from "../errors.js";
import type { Layers } from "../strategies/types.js";
import type { FleetPlan } from "./plan.js";

export const FLEET_DOCUMENT_VERSION = 1;

export interface FleetDocument {
  readonly strataFleet: number;
  readonly objective: string;
  readonly summary: FleetPlan["summary"];
  readonly images: readonly {
    readonly name: string;
    readonly budget: number;
    readonly layers: readonly number[];
    readonly bytes: number;
    readonly expectedUpdateBytes: number;
  }[];
  readonly layers: readonly {
    readonly paths: readonly string[];
    readonly bytes: number;
    readonly images: readonly string[];
    readonly changeProbability: number;
    readonly existing: boolean;
  }[];
}

export const FLEET_OBJECTIVE =
  "minimise registry bytes (distinct layers stored once) + bytes a node running every image pulls (the same layers), " +
  "each image within its layer budget; then spend each image's spare layers on its own expected update cost (min-pull's model)";

export function fleetDocument(plan: FleetPlan): FleetDocument {
  return {
    strataFleet: FLEET_DOCUMENT_VERSION,
    objective: FLEET_OBJECTIVE,
    summary: plan.summary,
    images: plan.images.map((i) => ({ name: i.name, budget: i.budget, layers: [...i.layerIds], bytes: i.bytes, expectedUpdateBytes: i.expectedUpdateBytes })),
    layers: plan.layers.map((l) => ({
      paths: [...l.paths],
      bytes: l.bytes,
      images: l.images.map((i) => plan.images[i].name),
      changeProbability: l.changeProbability,
      existing: l.existing,
    })),
  };
}

/** The OCI layer annotation `strata build` writes: a JSON array of the layer's store paths. */
export const STORE_PATHS_ANNOTATION = "org.strata.store-paths";

/**
 * The store-path layers of an OCI image manifest whose layer descriptors carry
 * the store-paths annotation (layers without it, e.g. the customisation
 * layer, are skipped). Undefined when `value` is not such a manifest.
 */
export function manifestLayers(value: unknown, what: string): Layers | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const layers = (value as { layers?: unknown }).layers;
  if (!Array.isArray(layers) || !("schemaVersion" in value || "mediaType" in value || "config" in value)) return undefined;
  const out: Layers = [];
  layers.forEach((d, i) => {
    const text = (d as { annotations?: Record<string, unknown> } | null)?.annotations?.[STORE_PATHS_ANNOTATION];
    if (text === undefined) return;
    let paths: unknown;
    try {
      paths = typeof text === "string" ? JSON.parse(text) : undefined;
    } catch {
      paths = undefined;
    }
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) {
      throw new UsageError(`${what}: layers[${i}] annotation ${STORE_PATHS_ANNOTATION} must be a JSON array of store paths`);
    }
    if (paths.length > 0) out.push(paths);
  });
  return out;
}

const isLayers = (v: unknown): v is Layers => Array.isArray(v) && v.every((l) => Array.isArray(l) && l.every((p) => typeof p === "string"));

/**
 * Layers from what an earlier build wrote: a layers list (`strata layer`'s
 * nixpkgs or nix2container output), a fleet summary (`fleet.json`), or a
 * debug listing ([{paths: [...]}, ...]).
 */
export function existingLayersOf(value: unknown, what: string): Layers {
  if (isLayers(value)) return value;
  const fromManifest = manifestLayers(value, what);
  if (fromManifest !== undefined) return fromManifest;
  if (typeof value === "object" && value !== null && !Array.isArray(value) && "strataFleet" in value) {
    const layers = (value as { layers?: unknown }).layers;
    if (Array.isArray(layers)) {
      const out = layers.map((l) => (typeof l === "object" && l !== null ? (l as { paths?: unknown }).paths : undefined));
      if (isLayers(out)) return out;
    }
    throw new UsageError(`${what}: a fleet summary without a valid "layers" list ([{"paths": [...]}, ...])`);
  }
  if (Array.isArray(value) && value.every((l) => typeof l === "object" && l !== null && Array.isArray((l as { paths?: unknown }).paths))) {
    const out = value.map((l) => (l as { paths: unknown }).paths);
    if (isLayers(out)) return out;
  }
  throw new UsageError(
    `${what}: expected a layers JSON list ([["/nix/store/...", ...], ...]) as 'strata layer' prints it, a fleet.json that 'strata fleet' wrote, or an OCI manifest whose layers carry the ${STORE_PATHS_ANNOTATION} annotation`,
  );
}
