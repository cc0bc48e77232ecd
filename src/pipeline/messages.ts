// Error texts shared by the static checker and the interpreter, so a mismatch
// reads the same whether it is found before or during the run.

/** What a pipeline value is, as the static checker infers it. */
export type Kind =
  { readonly k: "graph" } | { readonly k: "dict"; readonly keys: readonly DictKey[] } | { readonly k: "list"; readonly of: Kind } | { readonly k: "any" };

export interface DictKey {
  readonly key: string;
  readonly kind: Kind;
  /** False when the producer may omit the key (split_paths omits empty parts). */
  readonly sure: boolean;
}

export type Expected = "graph" | "list" | "dict";

const hints: Record<Expected, Partial<Record<"graph" | "dict" | "list", string>>> = {
  graph: {
    dict: `; apply it to one part with ["over", "rest", ...] or make a list with ["flatten"] and use ["map", ...]`,
    list: `; apply it to each element with ["map", ...]`,
  },
  list: {
    dict: `; nixpkgs would iterate the dict's keys (strings) and crash; use ["flatten"] to get its graphs as a list, or ["over", key, ...] for one part`,
    graph: `; make a list first, e.g. with ["popularity_contest"] or ["split_every", N]`,
  },
  dict: {
    graph: `; over works on the dict that split_paths and subcomponent_in/out return`,
    list: `; over works on the dict that split_paths and subcomponent_in/out return; use ["map", ...] for lists`,
  },
};

export function kindMismatch(op: string, expected: Expected, found: { what: string; kind: "graph" | "dict" | "list" | "any" }): string {
  const article = expected === "graph" ? "a graph" : expected === "list" ? "a list" : "a dict";
  const hint = found.kind === "any" ? "" : (hints[expected][found.kind] ?? "");
  return `${op} expects ${article}, got ${found.what}${hint}`;
}

export function describeKindFound(kind: Kind): { what: string; kind: "graph" | "dict" | "list" | "any" } {
  switch (kind.k) {
    case "graph":
      return { what: "a graph", kind: "graph" };
    case "dict":
      return { what: `a dict (keys ${kind.keys.map((e) => e.key).join(", ")})`, kind: "dict" };
    case "list":
      return { what: kind.of.k === "any" ? "a list" : `a list of ${kind.of.k}s`, kind: "list" };
    case "any":
      return { what: "a value", kind: "any" };
  }
}
