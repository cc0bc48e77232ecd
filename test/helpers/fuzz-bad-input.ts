// The catalogue of bad inputs: each case, the exact message strata prints on
// stderr and the exit code. test/bad-input.test.ts runs every case through the
// CLI and generates the table of docs/bad-input.md from this same list, so the
// doc and the behaviour cannot drift apart.
//
// In `args`, INPUT stands for a file holding `input`; in messages, INPUT stands
// for that file's path and "…" for text that comes from the platform (V8's JSON
// wording, node:util's option errors) or from lists that grow (known steps).

export interface BadInputCase {
  readonly id: string;
  /** What is wrong, for the doc. */
  readonly what: string;
  /** File contents: text, or bytes. */
  readonly input?: string | Uint8Array;
  readonly args: readonly string[];
  /** stderr, exactly (INPUT = the input file's path). */
  readonly message: string;
  readonly exit: number;
}

const ok = '[{"path": "/nix/store/a-x", "narSize": 1, "references": []}]';

export const badInputs: readonly BadInputCase[] = [
  // --- the closure document ---
  {
    id: "invalid-json",
    what: "not JSON (truncated)",
    input: '[{"path": "/nix/store/a"',
    args: ["layer", "INPUT"],
    exit: 2,
    message: "strata: INPUT is not valid JSON: …",
  },
  {
    id: "not-utf8",
    what: "bytes that are not UTF-8",
    input: Uint8Array.of(0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d),
    args: ["layer", "INPUT"],
    exit: 2,
    message: "strata: INPUT is not valid UTF-8 text",
  },
  {
    id: "bad-gzip",
    what: "gzip magic bytes, corrupt stream",
    input: Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02),
    args: ["layer", "INPUT"],
    exit: 2,
    message: "strata: INPUT looks gzip-compressed but does not decompress: unexpected end of file",
  },
  {
    id: "no-file",
    what: "input file does not exist",
    args: ["layer", "/nonexistent/closure.json"],
    exit: 2,
    message: "strata: cannot read /nonexistent/closure.json: no such file",
  },
  {
    id: "scalar",
    what: "a number instead of a document",
    input: "42",
    args: ["layer", "INPUT"],
    exit: 2,
    message: "strata: input must be a JSON list of store path entries or an object, got number 42",
  },
  {
    id: "unknown-object",
    what: "an object with neither graph nor store-path keys",
    input: '{"nodes": []}',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: input object has neither a "graph" list nor store-path keys (keys: "nodes")',
  },
  {
    id: "graph-not-list",
    what: "graph is not a list",
    input: '{"graph": {}}',
    args: ["layer", "INPUT"],
    exit: 2,
    message: "strata: $.graph must be a list of store path entries, got an object",
  },
  {
    id: "entry-not-object",
    what: "an entry is not an object",
    input: "[1]",
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0] must be an object with "path", got number 1',
  },
  {
    id: "no-path",
    what: "an entry without path",
    input: '[{"narSize": 1}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: "strata: $[0].path must be a non-empty string, got undefined undefined",
  },
  {
    id: "empty-path",
    what: "an empty path",
    input: '[{"path": "", "narSize": 1}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0].path must be a non-empty string, got ""',
  },
  {
    id: "no-nar-size",
    what: "an entry without narSize",
    input: '[{"path": "/nix/store/a"}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0] ("/nix/store/a") has no narSize',
  },
  {
    id: "nar-size-string",
    what: "narSize is a string",
    input: '[{"path": "/nix/store/a", "narSize": "12"}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0].narSize ("/nix/store/a") must be a number of bytes, got "12"',
  },
  {
    id: "nar-size-negative",
    what: "narSize is negative",
    input: '[{"path": "/nix/store/a", "narSize": -1}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0].narSize ("/nix/store/a") must not be negative, got -1',
  },
  {
    id: "nar-size-fraction",
    what: "narSize is not whole",
    input: '[{"path": "/nix/store/a", "narSize": 1.5}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0].narSize ("/nix/store/a") must be a whole number of bytes, got 1.5',
  },
  {
    id: "nar-size-2^53",
    what: "narSize beyond 2^53-1 (not exact in JavaScript)",
    input: '[{"path": "/nix/store/a", "narSize": 9007199254740993}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0].narSize ("/nix/store/a") is 9007199254740992, above 2^53-1 bytes, which strata cannot represent exactly',
  },
  {
    id: "references-not-list",
    what: "references is a string",
    input: '[{"path": "/nix/store/a", "narSize": 1, "references": "/nix/store/a"}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0].references ("/nix/store/a") must be a list of paths, got "/nix/store/a"',
  },
  {
    id: "reference-not-string",
    what: "a reference is not a string",
    input: '[{"path": "/nix/store/a", "narSize": 1, "references": [null]}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $[0].references[0] ("/nix/store/a") must be a non-empty string, got null',
  },
  {
    id: "path-info-null",
    what: "nix path-info reports a path as invalid (null)",
    input: '{"/nix/store/a": null}',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: $["/nix/store/a"]: path-info reports "/nix/store/a" as not valid in the store (null)',
  },
  {
    id: "duplicate-path",
    what: "the same path twice",
    input: '[{"path": "/nix/store/a", "narSize": 1}, {"path": "/nix/store/a", "narSize": 2}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: "/nix/store/a" appears twice in the closure (entries 0 and 1)',
  },
  {
    id: "dangling-reference",
    what: "a reference to a path not in the closure",
    input: '[{"path": "/nix/store/a", "narSize": 1, "references": ["/nix/store/b"]}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: "/nix/store/a" references "/nix/store/b", which is not in the closure',
  },
  {
    id: "cycle",
    what: "a dependency cycle",
    input: '[{"path": "/nix/store/a", "narSize": 1, "references": ["/nix/store/b"]}, {"path": "/nix/store/b", "narSize": 1, "references": ["/nix/store/a"]}]',
    args: ["layer", "INPUT"],
    exit: 2,
    message: 'strata: the closure has a dependency cycle (Nix closures are acyclic): "/nix/store/b" -> "/nix/store/a" -> "/nix/store/b"',
  },
  // --- pipelines ---
  {
    id: "pipeline-not-list",
    what: "a pipeline that is not a list",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", '{"popularity_contest": 1}'],
    exit: 2,
    message: 'strata: pipeline: a pipeline is a list of steps like [["popularity_contest"], ["limit_layers", 99]], got an object',
  },
  {
    id: "pipeline-bad-json",
    what: "--pipeline that is not JSON",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", "[[popularity_contest]]"],
    exit: 2,
    message: "strata: --pipeline is not valid JSON: …",
  },
  {
    id: "unknown-step",
    what: "a misspelt step",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", '[["popularity_contst"]]'],
    exit: 2,
    message: 'strata: pipeline[0][0]: unknown step "popularity_contst"; did you mean "popularity_contest"? Known steps: …',
  },
  {
    id: "prototype-step",
    what: "a step named after a JavaScript built-in",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", '[["toString"]]'],
    exit: 2,
    message: 'strata: pipeline[0][0]: unknown step "toString" Known steps: …',
  },
  {
    id: "arity",
    what: "a step with the wrong number of arguments",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", '[["limit_layers"]]'],
    exit: 2,
    message: "strata: pipeline[0]: limit_layers expects a layer count, got 0 arguments",
  },
  {
    id: "limit-zero",
    what: "limit_layers 0",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", '[["popularity_contest"], ["limit_layers", 0]]'],
    exit: 2,
    message: 'strata: pipeline[1][1]: limit_layers needs a count greater than 0, got 0 (nixpkgs: AssertionError "max count needs to > 0")',
  },
  {
    id: "kind",
    what: "a step given the wrong kind of value",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", '[["popularity_contest"], ["over", "main", ["reverse"]]]'],
    exit: 2,
    message:
      'strata: pipeline[1]: over expects a dict, got a list of graphs; over works on the dict that split_paths and subcomponent_in/out return; use ["map", ...] for lists',
  },
  {
    id: "bare-graph",
    what: "a pipeline that ends in a single graph",
    input: ok,
    args: ["layer", "INPUT", "--pipeline", '[["remove_paths", []]]'],
    exit: 2,
    message:
      'strata: pipeline: the pipeline ends with a single graph, not a list of layers (nixpkgs: TypeError: \'Graph\' object is not iterable); end with a step that makes layers, e.g. ["popularity_contest"] or ["split_every", N]',
  },
  {
    id: "document-pipeline",
    what: "a bad pipeline inside the .attrs.json document",
    input: '{"graph": ' + ok + ', "pipeline": [["split_every", 0]]}',
    args: ["layer", "INPUT"],
    exit: 2,
    message: "strata: pipeline[0][1]: split_every needs a chunk size other than 0 (nixpkgs: ValueError from range())",
  },
  // --- usage ---
  { id: "unknown-command", what: "an unknown command", args: ["lay"], exit: 2, message: 'strata: unknown command "lay". Commands: …' },
  {
    id: "no-input",
    what: "layer without INPUT",
    args: ["layer"],
    exit: 2,
    message: "strata: layer: expected one INPUT (a file or \"-\"), got 0. See 'strata layer --help'.",
  },
  {
    id: "unknown-option",
    what: "an unknown option",
    input: ok,
    args: ["layer", "INPUT", "--max-layer", "3"],
    exit: 2,
    message: "strata: layer: Unknown option '--max-layer'… See 'strata layer --help'.",
  },
  {
    id: "unknown-strategy",
    what: "an unknown strategy",
    input: ok,
    args: ["layer", "INPUT", "--strategy", "fastest"],
    exit: 2,
    message: 'strata: layer: unknown strategy "fastest". Strategies: …',
  },
  {
    id: "max-layers-word",
    what: "--max-layers that is not a number",
    input: ok,
    args: ["layer", "INPUT", "--max-layers", "ten"],
    exit: 2,
    message: 'strata: layer: --max-layers expects a whole number, got "ten"',
  },
  {
    id: "no-layer-left",
    what: "--max-layers leaves no layer for store paths",
    input: ok,
    args: ["layer", "INPUT", "--max-layers", "2", "--from-image-layers", "1"],
    exit: 2,
    message: "strata: no layer left for store paths: maxLayers 2 must exceed 1 (customisation layer) + 1 (base image layers) = 2",
  },
  {
    id: "bad-backend",
    what: "an unknown kernel backend",
    input: ok,
    args: ["layer", "INPUT", "--backend", "gpu"],
    exit: 2,
    message: 'strata: layer: --backend must be wasm or ts, got "gpu"',
  },
];
