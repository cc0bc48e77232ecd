// Fleets (issue 16): many images planned jointly, against the layers a
// registry already holds, and priced over revisions. Browser-safe.
export { planFleet, fleetLayers, unionDocument, DEFAULT_FLEET_BUDGET, DEFAULT_UPDATE_WEIGHT } from "./plan.js";
export type { FleetImage, FleetOptions, FleetPlan, FleetLayer, FleetImagePlan, FleetSummary } from "./plan.js";
export { evaluateFleet, jointPlanner, perImagePlanner } from "./evaluate.js";
export type { FleetEvaluation, FleetEvaluationOptions, FleetPlanner, FleetRevision, FleetRevisionCost, FleetStrategySeries } from "./evaluate.js";
export { fleetDocument, existingLayersOf, manifestLayers, STORE_PATHS_ANNOTATION, FLEET_OBJECTIVE } from "./document.js";
export type { FleetDocument } from "./document.js";
