// Entry of a layer worker thread: builds compressed layer blobs
// (writeLayerBlob) for the main thread, through comlink like src/worker/.
import { parentPort } from "node:worker_threads";
import { expose } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { keepErrorFields } from "../../worker/errors.js";
import { writeLayerBlob, type LayerBlobRequest, type LayerBlobResult } from "../compress/layer.js";

if (parentPort === null) throw new Error("strata's layer worker runs as a worker thread, not as a main script");
keepErrorFields();

export const layerWorkerApi = {
  writeLayerBlob(req: LayerBlobRequest, onTarBytes?: (bytes: number) => void): Promise<LayerBlobResult> {
    return writeLayerBlob(req, onTarBytes);
  },
};
export type LayerWorkerApi = typeof layerWorkerApi;

expose(layerWorkerApi, nodeEndpoint(parentPort));
