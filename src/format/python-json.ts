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
  const parts = layers.map((layer) => (layer.length === 0 ? "  []" : "  [\n    " + joinStrings(layer, ",\n    ") + "\n  ]"));
  return "[\n" + parts.join(",\n") + "\n]\n";
}

/** auto-layer.py's output: json.dumps(layers) (", " separators) and a newline. */
export function formatLayersCompact(layers: readonly (readonly string[])[]): string {
  return "[" + layers.map((layer) => "[" + joinStrings(layer, ", ") + "]").join(", ") + "]\n";
}

/**
 * The JSON strings of `items` joined by `separator`. Printable ASCII without
 * '"' and '\\' (every store path) is written as is, and PLAIN is a class of
 * single characters, so it matches a concatenation exactly when it matches
 * every item: a native test per block of items and one native join for the
 * common case (the CLI runs this once, cold, so a per-item loop would run
 * unoptimised). Blocks keep the tested copy small on large layers.
 */
export function joinStrings(items: readonly string[], separator: string): string {
  if (items.length === 0) return "";
  for (let i = 0; i < items.length; i += PLAIN_BLOCK) {
    if (!PLAIN.test((i === 0 && items.length <= PLAIN_BLOCK ? items : items.slice(i, i + PLAIN_BLOCK)).join(""))) {
      return items.map(pyJsonString).join(separator);
    }
  }
  return '"' + items.join('"' + separator + '"') + '"';
}

const PLAIN_BLOCK = 1024;

/**
 * json.dumps(value, indent=...) for plain JSON values (objects keep key order
 * unless sortKeys). Numbers must be integers or finite floats.
 */
export function pyJsonDumps(value: unknown, indent?: number, sortKeys = false, level = 0): string {
  if (value === null) return "null";
  if (value instanceof PyNumber) return value.text;
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
  const entries = value instanceof Map ? [...(value as Map<string, unknown>).entries()] : Object.entries(value as Record<string, unknown>);
  if (sortKeys) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return "{}";
  return "{" + entries.map(([k, v]) => nl + pyJsonString(k) + ": " + pyJsonDumps(v, indent, sortKeys, level + 1)).join(itemSep) + close + "}";
}

/**
 * A JSON number as Python's json module reads and writes it back: integers
 * keep every digit (Python ints are unbounded), floats print as Python's
 * repr(float) (e.g. "1.0", "1e+16", "1e-05").
 */
export class PyNumber {
  constructor(readonly text: string) {}
  static fromJson(literal: string): PyNumber {
    if (/^-?\d+$/.test(literal)) return new PyNumber(/^-0+$/.test(literal) ? "0" : literal.replace(/^(-?)0+(?=\d)/, "$1"));
    if (literal === "NaN" || literal === "Infinity" || literal === "-Infinity") return new PyNumber(literal);
    return new PyNumber(pyFloatRepr(Number(literal)));
  }
}

/** Python's repr(float). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = Math.abs(x).toExponential().split("e");
  const exp = Number(expText);
  const digits = mant.replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (exp >= -4 && exp < 16) {
    let s: string;
    if (exp >= 0) {
      const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, "0");
      const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : "0";
      s = intPart + "." + frac;
    } else {
      s = "0." + "0".repeat(-exp - 1) + digits;
    }
    return sign + s;
  }
  const m = digits.length === 1 ? digits : digits[0] + "." + digits.slice(1);
  const e = Math.abs(exp).toString().padStart(2, "0");
  return sign + m + "e" + (exp < 0 ? "-" : "+") + e;
}

/** A JSON value as Python's json.loads gives it: objects keep key order (Map), numbers keep Python's text. */
export type PyJsonValue = null | boolean | string | PyNumber | PyJsonValue[] | Map<string, PyJsonValue>;

/**
 * Parses JSON text the way Python's json.loads does: key order kept (a
 * repeated key keeps its first position and its last value), integers exact,
 * NaN/Infinity accepted. Throws SyntaxError with the offset on bad input.
 */
export function parsePyJson(text: string): PyJsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${i}`);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const str = (): string => {
    i++; // opening quote
    let out = "";
    for (;;) {
      const j = i;
      while (i < text.length && text[i] !== '"' && text[i] !== "\\" && text.charCodeAt(i) >= 0x20) i++;
      out += text.slice(j, i);
      if (i >= text.length) fail("unterminated string");
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c !== "\\") fail("control character in string");
      const e = text[i + 1];
      i += 2;
      if (e === "u") {
        const hex = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else {
        const m = ({ '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" } as Record<string, string>)[e];
        if (m === undefined) fail("bad escape");
        out += m;
      }
    }
  };
  const value = (): PyJsonValue => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const m = new Map<string, PyJsonValue>();
      ws();
      if (text[i] === "}") {
        i++;
        return m;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const k = str();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        m.set(k, value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return m;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const a: PyJsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    for (const lit of ["NaN", "Infinity", "-Infinity"]) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return PyNumber.fromJson(lit);
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null) fail("expected a value");
    i += m![0].length;
    return PyNumber.fromJson(m![0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail("extra data");
  return v;
}
