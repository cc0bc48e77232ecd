// Node-only additions to the library: reading files and stdin (gzip detected
// by content) and atomic writes.
export { readTextInput, readJsonInput, readClosureInput, writeFileAtomic } from "./io/node.js";
