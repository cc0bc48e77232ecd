// The Wasm module's exports: re-exports only, one algorithm per file.
export { alloc, mark, release, fill } from "./memory";
export { reach } from "./reach";
export { transpose } from "./transpose";
export { inDegrees, topoOrder, topoAnyOrder } from "./topo";
export { inducedCount, inducedFill, unionAppend } from "./subgraph";
export { pathCounts, popularity } from "./popularity";
export { dominators } from "./dominators";
export {
  readerInit,
  readerInput,
  readerScratch,
  readerCount,
  readerRehashes,
  readerArena,
  readerUsed,
  readerKeyStart,
  readerKeyLen,
  readerEntries,
  readerRefCount,
  readerOutPath,
  readerOutNar,
  readerOutClosure,
  readerOutRefEnd,
  readerOutRefs,
  readerIntern,
  readerFindPlain,
  readerScan,
  readerScanObject,
} from "./reader";
