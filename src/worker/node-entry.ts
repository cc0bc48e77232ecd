// Entry of a strata worker thread (Node worker_threads): exposes a
// StrataService on the parent port through comlink's Node adapter.
import { parentPort } from "node:worker_threads";
import { expose } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { keepErrorFields } from "./errors.js";
import { StrataService } from "./service.js";

if (parentPort === null) throw new Error("strata's node-entry runs as a worker thread, not as a main script");
keepErrorFields();
expose(new StrataService(), nodeEndpoint(parentPort));
