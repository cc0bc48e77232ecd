// Entry of a layer worker thread: builds compressed layer blobs
// (writeLayerBlob) for the main thread, through comlink like src/worker/.
import { parentPort } from "node:worker_threads";
import { expose } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { keepErrorFields } from "../../worker/errors.js";
import { writeLayerBlob } from "../compress/layer.js";

if (parentPort === null) throw new Error("strata's layer worker runs as a worker thread, not as a main script");
keepErrorFields();

export const layerWorkerApi = { writeLayerBlob };
export type LayerWorkerApi = typeof layerWorkerApi;

expose(layerWorkerApi, nodeEndpoint(parentPort));
