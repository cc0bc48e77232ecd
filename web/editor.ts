// The pipeline editor: validates as you type (on the main thread: parsing and
// the static check touch no graph, so they stay instant while the worker is
// busy) and marks each problem at its step in the text.
import { PipelineError } from "../src/errors.js";
import { checkPipeline, parsePipeline, pipelineExtensions, type Pipeline } from "../src/pipeline/index.js";

export interface EditorIssue {
  readonly severity: "error" | "conditional" | "warning";
  /** `pipeline[1][2]`, or "JSON" for a syntax error. */
  readonly location: string;
  readonly message: string;
  /** Character range in the editor text. */
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

export interface EditorState {
  /** The pipeline JSON to send (undefined: the editor is empty). */
  readonly value: unknown;
  readonly pipeline?: Pipeline;
  readonly issues: readonly EditorIssue[];
  /** No error-severity issue: the pipeline can run. */
  readonly ok: boolean;
}

export function validatePipelineText(text: string): EditorState {
  if (text.trim() === "") return { value: undefined, issues: [], ok: true };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    const at = m ? Number(m[1]) : text.length;
    return {
      value: undefined,
      ok: false,
      issues: [
        { severity: "error", location: "JSON", message: `not valid JSON: ${message}`, start: at, end: Math.min(text.length, at + 1), line: lineOf(text, at) },
      ],
    };
  }
  // A document with a "pipeline" key (an .attrs.json) gives its pipeline, as on the CLI.
  const isDoc = typeof json === "object" && json !== null && !Array.isArray(json) && "pipeline" in json;
  const value = isDoc ? (json as { pipeline: unknown }).pipeline : json;
  const spans = jsonSpans(text, isDoc ? "$" : "pipeline");
  const place = (location: string) => {
    const span = locate(spans, isDoc ? location.replace(/^pipeline/, "$.pipeline") : location) ?? [0, text.length];
    return { start: span[0], end: span[1], line: lineOf(text, span[0]) };
  };
  let pipeline: Pipeline;
  try {
    pipeline = parsePipeline(value, { extensions: pipelineExtensions });
  } catch (e) {
    if (!(e instanceof PipelineError)) throw e;
    const location = e.location ?? "pipeline";
    return { value, ok: false, issues: [{ severity: "error", location, message: e.message, ...place(location) }] };
  }
  const { issues } = checkPipeline(pipeline, { extensions: pipelineExtensions });
  const out = issues.map((i): EditorIssue => ({ severity: i.severity, location: i.location, message: i.message, ...place(i.location) }));
  return { value, pipeline, issues: out, ok: !out.some((i) => i.severity === "error") };
}

/**
 * Character ranges of every value in a valid JSON text, keyed like strata's
 * locations: `root[1][2]` for list elements, `root.key` for object members.
 */
export function jsonSpans(text: string, root: string): Map<string, [number, number]> {
  const spans = new Map<string, [number, number]>();
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  const string = (): string => {
    const s = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(s, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === "[" || c === "{") {
      const close = c === "[" ? "]" : "}";
      i++;
      ws();
      let k = 0;
      while (i < text.length && text[i] !== close) {
        if (c === "[") value(`${path}[${k++}]`);
        else {
          ws();
          const key = string();
          ws();
          i++; // ':'
          value(`${path}.${key}`);
        }
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (c === '"') {
      string();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
    }
    spans.set(path, [start, i]);
  };
  value(root);
  return spans;
}

/** The span of a location, or of its longest known prefix (`pipeline[1][2][0]` -> `pipeline[1][2]`). */
function locate(spans: Map<string, [number, number]>, location: string): [number, number] | undefined {
  let at = location;
  for (;;) {
    const span = spans.get(at);
    if (span !== undefined) return span;
    const cut = Math.max(at.lastIndexOf("["), at.lastIndexOf("."));
    if (cut <= 0) return undefined;
    at = at.slice(0, cut);
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Draws the marks: `mirror` is a <pre> laid exactly under the textarea (same
 * font, padding, wrapping), holding the same text with <mark>s at the issues.
 */
export function paintMarks(mirror: HTMLElement, text: string, issues: readonly EditorIssue[]): void {
  const ranges = [...issues].sort((a, b) => a.start - b.start || b.end - a.end);
  mirror.replaceChildren();
  let at = 0;
  for (const r of ranges) {
    if (r.start < at) continue; // nested in an earlier mark
    mirror.append(text.slice(at, r.start));
    const mark = document.createElement("mark");
    mark.className = r.severity;
    mark.textContent = text.slice(r.start, Math.max(r.end, r.start + 1)) || " ";
    mirror.append(mark);
    at = Math.max(r.end, r.start + 1);
  }
  // The trailing newline keeps the mirror as tall as the textarea's last line.
  mirror.append(text.slice(at) + "\n");
}
