// Byte-exact reproductions of the JSON text Python's json.dumps writes, which
// is what nixpkgs' tools print. ensure_ascii is on by default: every non-ASCII
// code unit becomes \uXXXX (lowercase hex, UTF-16 surrogates for astral
// characters), control characters use the short escapes where JSON has them.

/** Printable ASCII except `"` and `\`: written as is (the common case for store paths). */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export function pyJsonString(s: string): string {
  if (PLAIN.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c < 0x20 || c > 0x7e) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += s[i];
  }
  return out + '"';
}

/**
 * nixpkgs' flatten_references_graph CLI output: json.dumps(layers, indent=2,
 * sort_keys=True, separators=(",", ": ")) followed by print's newline.
 */
export function formatLayersIndented(layers: readonly (readonly string[])[]): string {
  if (layers.length === 0) return "[]\n";
  const parts = layers.map((layer) =>
    layer.length === 0 ? "  []" : "  [\n" + layer.map((p) => "    " + pyJsonString(p)).join(",\n") + "\n  ]",
  );
  return "[\n" + parts.join(",\n") + "\n]\n";
}

/** auto-layer.py's output: json.dumps(layers) (", " separators) and a newline. */
export function formatLayersCompact(layers: readonly (readonly string[])[]): string {
  return "[" + layers.map((layer) => "[" + layer.map(pyJsonString).join(", ") + "]").join(", ") + "]\n";
}

/**
 * json.dumps(value, indent=...) for plain JSON values (objects keep key order
 * unless sortKeys). Numbers must be integers or finite floats.
 */
export function pyJsonDumps(value: unknown, indent?: number, sortKeys = false, level = 0): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return pyJsonString(value);
  const nl = indent === undefined ? "" : "\n" + " ".repeat(indent * (level + 1));
  const close = indent === undefined ? "" : "\n" + " ".repeat(indent * level);
  const itemSep = indent === undefined ? ", " : ",";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return "[" + value.map((v) => nl + pyJsonDumps(v, indent, sortKeys, level + 1)).join(itemSep) + close + "]";
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (sortKeys) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return "{}";
  return (
    "{" +
    entries.map(([k, v]) => nl + pyJsonString(k) + ": " + pyJsonDumps(v, indent, sortKeys, level + 1)).join(itemSep) +
    close +
    "}"
  );
}
