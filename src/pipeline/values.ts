// Runtime values flowing between pipeline steps.
//
// A graph is a set of closure vertices in its own vertex order plus its edges,
// resident in the kernel backend. Sub-graphs keep the parent's order; a graph
// merged by limit_layers is the concatenation of its parts with no edges
// between them, so edges cannot be re-derived from the closure: every graph
// carries its own GraphRef (or null when it has no edges at all, which saves
// loading the 300k one-path graphs popularity_contest makes).
import type { GraphRef } from "../kernels/types.js";

export interface GraphValue {
  readonly t: "graph";
  /** Closure vertex id of each local vertex, in this graph's vertex order. */
  readonly verts: Uint32Array;
  /** The graph's edges, local ids; null = no edges. */
  readonly ref: GraphRef | null;
}

export interface DictValue {
  readonly t: "dict";
  /** In nixpkgs' key order (main, common, rest). */
  readonly entries: readonly (readonly [string, Value])[];
}

export interface ListValue {
  readonly t: "list";
  readonly items: readonly Value[];
}

/** A list of one-vertex graphs (popularity_contest's result), stored compactly. */
export interface SinglesValue {
  readonly t: "singles";
  readonly verts: Uint32Array;
}

export type Value = GraphValue | DictValue | ListValue | SinglesValue;

export function graphValue(verts: Uint32Array, ref: GraphRef | null): GraphValue {
  return { t: "graph", verts, ref: ref !== null && ref.m === 0 ? null : ref };
}

export function isList(v: Value): v is ListValue | SinglesValue {
  return v.t === "list" || v.t === "singles";
}

export function listLength(v: ListValue | SinglesValue): number {
  return v.t === "list" ? v.items.length : v.verts.length;
}

export function listItem(v: ListValue | SinglesValue, i: number): Value {
  return v.t === "list" ? v.items[i] : graphValue(v.verts.subarray(i, i + 1), null);
}

export function listItems(v: ListValue | SinglesValue): Value[] {
  if (v.t === "list") return v.items.slice();
  const out: Value[] = new Array(v.verts.length);
  for (let i = 0; i < v.verts.length; i++) out[i] = graphValue(v.verts.subarray(i, i + 1), null);
  return out;
}

export function kindOf(v: Value): "graph" | "dict" | "list" {
  return v.t === "singles" ? "list" : v.t;
}

/** "a graph of 3 paths", "a dict (keys main, rest)", "a list of 5"... for messages. */
export function describeValueFound(v: Value): { what: string; kind: "graph" | "dict" | "list" } {
  switch (v.t) {
    case "graph":
      return { what: `a graph (${v.verts.length} path${v.verts.length === 1 ? "" : "s"})`, kind: "graph" };
    case "dict":
      return { what: `a dict (keys ${v.entries.map(([k]) => k).join(", ")})`, kind: "dict" };
    case "list":
    case "singles": {
      const n = listLength(v);
      return { what: `a list of ${n} element${n === 1 ? "" : "s"}`, kind: "list" };
    }
  }
}
