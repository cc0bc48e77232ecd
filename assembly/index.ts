// The Wasm module's exports: re-exports only, one algorithm per file.
export { alloc, mark, release, fill } from "./memory";
export { reach } from "./reach";
export { transpose } from "./transpose";
