// comlink ships no .d.mts beside its ESM Node adapter, so NodeNext resolution
// finds no types for the deep import; these mirror dist/esm/node-adapter.d.ts.
declare module "comlink/dist/esm/node-adapter.mjs" {
  import type { Endpoint } from "comlink";
  // `any` listeners: Node's emitter overloads take differently typed listeners per event.
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void;
    on(type: string, listener: (arg: any) => void, options?: object): unknown;
    off(type: string, listener: (arg: any) => void, options?: object): unknown;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
