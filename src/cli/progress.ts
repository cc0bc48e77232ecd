// Progress on stderr for long runs: one line, redrawn in place, only on a
// terminal, only once a run has taken over a second (short runs stay silent),
// never with --quiet. Stages: reading bytes, parsing entries, building the
// graph, planning. The reader reports through readClosureInput's callback;
// the graph build and planning stages are marked by the command (stage()).
import type { ReadProgress } from "../io/stream-json.js";

export interface ProgressSink {
  /** The reader's callback (pass to readClosureInput). */
  readonly onRead: (p: ReadProgress) => void;
  /** Marks the start of a later stage ("building graph", "planning"). */
  stage(name: string): void;
  /** A free-form status line (throttled like the reader's), e.g. layer compression. */
  status(text: string): void;
  /** Clears the line; call before writing results or errors. */
  done(): void;
}

export interface ProgressOptions {
  /** Where lines go (stderr). */
  readonly write: (text: string) => void;
  /** Whether stderr is a terminal; nothing is written otherwise. */
  readonly isTty: boolean;
  readonly quiet?: boolean;
  /** Silence before the first line, ms (default 1000). */
  readonly delayMs?: number;
  /** Least time between redraws, ms (default 100). */
  readonly intervalMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

const silent: ProgressSink = { onRead: () => undefined, stage: () => undefined, status: () => undefined, done: () => undefined };

export function createProgress(options: ProgressOptions): ProgressSink {
  if (!options.isTty || options.quiet) return silent;
  const now = options.now ?? (() => performance.now());
  const delay = options.delayMs ?? 1000;
  const interval = options.intervalMs ?? 100;
  const start = now();
  let last = -Infinity;
  let shown = false;
  let width = 0;
  const draw = (text: string, force = false) => {
    const t = now();
    if (t - start < delay || (!force && t - last < interval)) return;
    last = t;
    shown = true;
    const line = `strata: ${text} (${((t - start) / 1000).toFixed(1)} s)`;
    options.write(`\r${line.padEnd(width)}`);
    width = line.length;
  };
  return {
    onRead(p) {
      if (p.stage === "done") return draw(`read ${formatCount(p.entries)} paths, ${formatBytes(p.bytes)}`, true);
      const of = p.totalBytes !== undefined && p.totalBytes > 0 ? ` ${Math.min(100, Math.floor((100 * (p.compressedBytes ?? p.bytes)) / p.totalBytes))}%` : "";
      if (p.stage === "reading") draw(`reading ${formatBytes(p.bytes)}${of}`);
      else draw(`parsing: ${formatCount(p.entries)} paths, ${formatBytes(p.bytes)}${of}`);
    },
    stage(name) {
      draw(name, true);
    },
    status(text) {
      draw(text);
    },
    done() {
      if (shown) options.write(`\r${" ".repeat(width)}\r`);
      shown = false;
      width = 0;
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
