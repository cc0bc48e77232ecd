// Entry of a strata Web Worker (module worker): exposes a StrataService to
// the page through comlink. Bundlers pick it up from
// `new Worker(new URL("./web-entry.js", import.meta.url), { type: "module" })`.
import { expose } from "comlink";
import { keepErrorFields } from "./errors.js";
import { StrataService } from "./service.js";

keepErrorFields();
expose(new StrataService());
