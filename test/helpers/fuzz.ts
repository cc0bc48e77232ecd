// Shared machinery of the property, differential and fuzz tests: seeds that
// can be replayed, Nix-like closure generators, and mutators for JSON text and
// parsed values.
//
// Seeds. Every randomised test draws a run seed and derives case i's seed as
// runSeed + i. The run seed is STRATA_FUZZ_SEED (or STRATA_SEED) when set;
// otherwise FIXED_SEED, so `npm test` is deterministic; `npm run fuzz`
// (STRATA_FUZZ_RANDOM=1) draws a fresh one per run and prints it. A failing case
// reports its own seed; `STRATA_SEED=<that seed>` makes it case 0 of the next
// run, so it fails first. fast-check properties take the same variable as
// their `seed` (fast-check prints the seed it used on failure).
import { randomBytes } from "node:crypto";
import { StrataError } from "../../src/errors.js";
import { mulberry32, randomDag } from "./random-dag.js";

export { mulberry32 };

/** The seed of `npm test` when no seed is given (any fixed value; this one has no meaning). */
export const FIXED_SEED = 0x5eed0018;

/** STRATA_FUZZ_SEED (else STRATA_SEED) as a u32 (decimal or 0x hex), or undefined. */
export function envSeed(): number | undefined {
  const name = process.env.STRATA_FUZZ_SEED !== undefined && process.env.STRATA_FUZZ_SEED !== "" ? "STRATA_FUZZ_SEED" : "STRATA_SEED";
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const v = Number(raw);
  if (!Number.isSafeInteger(v)) throw new Error(`${name} must be an integer, got ${raw}`);
  return v >>> 0;
}

/** Whether this run explores fresh seeds (`npm run fuzz`) instead of the fixed one. */
export function randomSeeds(): boolean {
  return process.env.STRATA_FUZZ_RANDOM === "1";
}

/** The run seed: the given one, else fresh under `npm run fuzz`, else FIXED_SEED. */
export function runSeed(): number {
  return envSeed() ?? (randomSeeds() ? randomBytes(4).readUInt32LE(0) : FIXED_SEED);
}

/** Multiplies case counts: 1 in `npm test`, larger under `npm run fuzz` (STRATA_FUZZ_SCALE). */
export function fuzzScale(): number {
  const v = Number(process.env.STRATA_FUZZ_SCALE ?? "1");
  return Number.isFinite(v) && v > 0 ? v : 1;
}

/** A test timeout that grows with the fuzz scale. */
export function scaledTimeout(ms: number): number {
  return Math.ceil(ms * fuzzScale());
}

export interface CaseReport {
  readonly runSeed: number;
  readonly cases: number;
  readonly ms: number;
}

/**
 * Runs `count` cases with seeds runSeed, runSeed+1, ... (or one case, when
 * STRATA_SEED is set and STRATA_ONE_CASE=1). The first failure is rethrown
 * with the case seed and the command that replays it.
 */
export function forEachCase(testFile: string, count: number, fn: (seed: number, index: number) => void): CaseReport {
  const seed0 = runSeed();
  const total = process.env.STRATA_ONE_CASE === "1" && envSeed() !== undefined ? 1 : count;
  // Printed first, so a run that hangs (and hits its timeout) can still be replayed.
  console.log(`${testFile}: run seed ${seed0}, ${total} cases`);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const seed = (seed0 + i) >>> 0;
    try {
      fn(seed, i);
    } catch (e) {
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      const err = new Error(
        `case ${i} failed (seed ${seed}; run seed ${seed0}).\n` + `Replay: STRATA_SEED=${seed} STRATA_ONE_CASE=1 npx vitest run ${testFile}\n${msg}`,
      );
      if (e instanceof Error && e.stack) err.stack = `${err.message}\n--- original ---\n${e.stack}`;
      throw err;
    }
  }
  const report = { runSeed: seed0, cases: total, ms: Math.round(performance.now() - started) };
  console.log(`${testFile}: ${report.cases} cases from seed ${seed0} in ${report.ms} ms`);
  return report;
}

/** A small random-number toolkit over mulberry32. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  }
}

// --- Nix-like closures ---------------------------------------------------------

const NAMES = [
  "glibc-2.39",
  "bash-5.2",
  "zlib-1.3",
  "openssl-3.0.13",
  "python3-3.12.4",
  "python3.12-numpy-1.26",
  "gcc-13.2.0-lib",
  "hello-2.12",
  "foo",
  "foo-1.0",
  "foo-1.0-dev",
  "ncurses-6.4",
  "libffi-3.4",
];
const ODD_NAMES = [
  "caf\u00e9-1.0",
  "\u65e5\u672c-2",
  'q"uote',
  "back\\slash",
  "tab\there",
  "emoji-\u{1f600}",
  "nul\u0000x",
  "del\u007f",
  "line\nbreak",
  "\u2028sep",
];
const B32 = "0123456789abcdfghijklmnpqrsvwxyz";

/** A store path: "/nix/store/<32 chars of base32>-<name>". */
export function storePath(rng: Rng, name: string): string {
  let h = "";
  for (let i = 0; i < 32; i++) h += B32[rng.int(32)];
  return `/nix/store/${h}-${name}`;
}

export interface ClosureOptions {
  readonly n: number;
  /** Also use names with unicode, quotes, backslashes and control characters. */
  readonly oddNames?: boolean;
  /** Mean references per path. */
  readonly avgRefs?: number;
}

/**
 * An exportReferencesGraph list: random Nix-like DAG (randomDag), store-path
 * names with repeats (package-name ties), sizes with ties and a heavy tail,
 * and sometimes self references.
 */
export function nixLikeClosure(rng: Rng, options: ClosureOptions): { path: string; narSize: number; references: string[] }[] {
  const { n } = options;
  const g = randomDag({ seed: rng.int(2 ** 31), n, avgRefs: options.avgRefs ?? 1 + rng.int(5), skew: 1 + rng.int(4), chain: rng.next() });
  const paths = new Set<string>();
  const list: string[] = [];
  while (list.length < n) {
    const name = options.oddNames && rng.chance(0.3) ? rng.pick(ODD_NAMES) : rng.pick(NAMES);
    const p = storePath(rng, name);
    if (!paths.has(p)) (paths.add(p), list.push(p));
  }
  const sizes = [0, 1, 4096, 4096, 123456, 2 ** 31, 2 ** 32 + 5];
  return list.map((path, v) => {
    const references = Array.from(g.targets.subarray(g.offsets[v], g.offsets[v + 1]), (w) => list[w]);
    if (rng.chance(0.2)) references.push(path);
    const narSize = rng.chance(0.4) ? rng.pick(sizes) : rng.int(2 ** 20) * (rng.chance(0.1) ? 4096 : 1);
    return { path, narSize, references };
  });
}

/** JSON text of a value with each object's keys in a random order. */
export function shuffledKeysJson(value: unknown, rng: Rng): string {
  const walk = (v: unknown): string => {
    if (Array.isArray(v)) return "[" + v.map(walk).join(",") + "]";
    if (typeof v === "object" && v !== null) {
      const keys = rng.shuffle(Object.keys(v));
      return "{" + keys.map((k) => JSON.stringify(k) + ":" + walk((v as Record<string, unknown>)[k])).join(",") + "}";
    }
    return JSON.stringify(v);
  };
  return walk(value);
}

// --- mutators ------------------------------------------------------------------

/** Fragments that tend to reach error paths: odd numbers, escapes, keys, nesting. */
const TOKENS = [
  "null",
  "true",
  "false",
  "0",
  "-0",
  "1e999",
  "-1",
  "1.5",
  "9007199254740993",
  "9007199254740992",
  "18446744073709551616",
  "1e-7",
  '""',
  '"\\ud800"',
  '"\\u0000"',
  '"\\\\"',
  '"\\""',
  '"\u00e9"',
  '"__proto__"',
  '"constructor"',
  '"toString"',
  '"graph"',
  '"pipeline"',
  '"exclude_paths"',
  '"roots"',
  '"references"',
  '"narSize"',
  '"path"',
  '"closureSize"',
  '"narHash"',
  '"valid"',
  '"exportReferencesGraph"',
  '"/nix/store/x"',
  "[]",
  "{}",
  "[[[[[[[[",
  "]]]]",
  "{{",
  "}}",
  ",",
  ":",
  '"',
  "\\",
  '{"__proto__": {"path": "x"}}',
  '{"children_of": "x"}',
  '["popularity_contest"]',
  '["limit_layers", 0]',
  '["split_every", -1]',
  '["over", "main", ["reverse"]]',
  '["map", ["flatten"]]',
  '["pipe", []]',
  '["remove_paths", "x"]',
  "\u0000",
  "\uFEFF",
  "\ud800",
];

const BYTES = [
  0x00, 0x09, 0x0a, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x39, 0x3a, 0x45, 0x5b, 0x5c, 0x5d, 0x65, 0x6e, 0x74, 0x7b, 0x7d, 0x7f, 0x80, 0xbf, 0xc0, 0xc3,
  0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xff,
];

/** 1 to 4 byte-level edits of UTF-8 JSON text: flips, inserts, deletions, splices, truncation. */
export function mutateBytes(input: Uint8Array, rng: Rng): Uint8Array {
  let b = Array.from(input);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(8)) {
      case 0: // flip a bit
        if (b.length > 0) b[Math.min(at, b.length - 1)] ^= 1 << rng.int(8);
        break;
      case 1: // interesting byte
        b.splice(at, 0, rng.pick(BYTES));
        break;
      case 2: // replace a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = rng.pick(BYTES);
        break;
      case 3: // delete a run
        b.splice(at, 1 + rng.int(8));
        break;
      case 4: // token
        b.splice(at, 0, ...new TextEncoder().encode(rng.pick(TOKENS)));
        break;
      case 5: {
        // duplicate a slice elsewhere
        const from = rng.int(b.length + 1);
        const slice = b.slice(from, from + 1 + rng.int(40));
        b.splice(at, 0, ...slice);
        break;
      }
      case 6: // truncate
        b = b.slice(0, at);
        break;
      default: {
        // replace a digit run with another number
        const s = new TextDecoder().decode(Uint8Array.from(b));
        const m = [...s.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
        if (m.length > 0) {
          const hit = rng.pick(m);
          const repl = rng.pick(["0", "-1", "1e400", "9007199254740993", "1.0", "0.5", "-0", "123456789012345678901234567890"]);
          const t = s.slice(0, hit.index) + repl + s.slice(hit.index! + hit[0].length);
          b = Array.from(new TextEncoder().encode(t));
        }
      }
    }
  }
  return Uint8Array.from(b);
}

/** Values a structural mutation may put anywhere, JSON-representable or not. */
function randomValue(rng: Rng, pathsHint: readonly string[], depth = 0): unknown {
  switch (rng.int(depth > 2 ? 9 : 12)) {
    case 0:
      return null;
    case 1:
      return rng.pick([0, -0, -1, 1.5, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e300, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity]);
    case 2:
      return rng.pick(["", "x", "/nix/store/x", "__proto__", "main", "rest", "common", "popularity_contest", "\ud800", "\u0000"]);
    case 3:
      return pathsHint.length > 0 ? rng.pick(pathsHint) : "/";
    case 4:
      return rng.chance(0.5);
    case 5:
      return undefined;
    case 6:
      return rng.int(1000);
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return Array.from({ length: 1 + rng.int(3) }, () => randomValue(rng, pathsHint, depth + 1));
    case 10: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(3); i >= 0; i--)
        o[rng.pick(["path", "narSize", "references", "children_of", "graph", "x", "pipeline"])] = randomValue(rng, pathsHint, depth + 1);
      return o;
    }
    default:
      return [
        rng.pick([
          "popularity_contest",
          "limit_layers",
          "split_every",
          "over",
          "map",
          "pipe",
          "flatten",
          "reverse",
          "remove_paths",
          "split_paths",
          "subcomponent_in",
          "subcomponent_out",
        ]),
        randomValue(rng, pathsHint, depth + 1),
      ];
  }
}

/** Every container reachable from the root, with its parent chain kept implicit. */
function containers(root: unknown): (unknown[] | Record<string, unknown>)[] {
  const out: (unknown[] | Record<string, unknown>)[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      out.push(v);
      for (const x of v) stack.push(x);
    } else if (typeof v === "object" && v !== null) {
      out.push(v as Record<string, unknown>);
      for (const x of Object.values(v)) stack.push(x);
    }
  }
  return out;
}

/**
 * 1 to 3 structural edits of a parsed JSON value (a deep copy is edited):
 * replace, delete, duplicate or reorder elements and keys, rename keys, add
 * references between existing paths (cycles, dangling paths).
 */
export function mutateValue(value: unknown, rng: Rng): unknown {
  const root = structuredClone(value);
  const wrapper = { root };
  const paths = containers(root).flatMap((c) => (Array.isArray(c) ? [] : typeof c.path === "string" ? [c.path] : []));
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const all = containers(wrapper.root);
    all.push(wrapper as unknown as Record<string, unknown>);
    const c = rng.pick(all);
    if (Array.isArray(c)) {
      const i = rng.int(c.length + 1);
      switch (rng.int(6)) {
        case 0:
          c.splice(i, 1);
          break;
        case 1:
          c.splice(i, 0, randomValue(rng, paths));
          break;
        case 2:
          if (c.length > 0) c.splice(i, 0, structuredClone(c[rng.int(c.length)]));
          break;
        case 3:
          rng.shuffle(c);
          break;
        case 4:
          if (i < c.length) c[i] = randomValue(rng, paths);
          break;
        default:
          c.push(paths.length > 0 ? rng.pick(paths) : "/nix/store/x");
      }
    } else {
      const keys = Object.keys(c);
      const k = keys.length > 0 ? rng.pick(keys) : "path";
      switch (rng.int(5)) {
        case 0:
          delete c[k];
          break;
        case 1:
          c[k] = randomValue(rng, paths);
          break;
        case 2: {
          const v = c[k];
          delete c[k];
          // defineProperty: an own "__proto__" key, as JSON.parse makes, not a prototype change.
          const key = rng.pick(["path", "narSize", "references", "closureSize", "graph", "pipeline", "roots", "exclude_paths", "__proto__", "/nix/store/y"]);
          Object.defineProperty(c, key, { value: v, enumerable: true, writable: true, configurable: true });
          break;
        }
        case 3:
          if (Array.isArray(c.references) && paths.length > 0) c.references.push(rng.pick(paths));
          else c[k] = randomValue(rng, paths);
          break;
        default: {
          // rebuild with shuffled key order
          const entries = rng.shuffle(Object.entries(c));
          for (const key of keys) delete c[key];
          for (const [key, v] of entries) c[key] = v;
        }
      }
    }
  }
  return wrapper.root;
}

/**
 * Runs `fn`; a StrataError is an accepted outcome (returned), anything else
 * thrown is a finding and rethrown with what was being done.
 */
export function typedOutcome<T>(what: string, fn: () => T): { ok: true; value: T } | { ok: false; error: StrataError } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof StrataError) return { ok: false, error: e };
    const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const err = new Error(`${what}: untyped ${detail}`);
    if (e instanceof Error) err.stack = `${err.message}\n${e.stack}`;
    throw err;
  }
}
