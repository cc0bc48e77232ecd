// Nixery layering on large closures, against reference doc section D
// (Nixery's own GroupLayers: archive-all 1.07-1.20 s, syn-100000 1.75-1.97 s
// in-process on a 2-core EPYC).
//
// Inputs: the Debian archive closure (63,667 paths, popularity from
// data/popularity) and, when present, a 100k synthetic graph made with
//   python3 ../shared/tools/gen-nix-graph.py 100000 --seed 1 --closure-size-limit 200000 -o bench/data/syn100k.json
// (takes minutes; set STRATA_SYN100K to use another location).
// Run: npm run build && node --expose-gc bench/nixery.bench.mjs
// Times parsing separately from planning: plan = closure build + dominators
// + grouping + SHA-1, as `nixeryLayers` does it.
import { readFileSync, existsSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { Bench } from "tinybench";
import { readClosureDocument } from "../dist/graph/document.js";
import { nixeryLayers } from "../dist/strategies/nixery/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const shared = join(root, "..", "shared");

function readJson(path) {
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString("utf8"));
}

export function inputs() {
  const out = [];
  const archive = join(shared, "data", "debian-bookworm", "archive-all.json.gz");
  if (existsSync(archive)) {
    out.push({
      name: "archive-all (63,667 paths)",
      doc: readClosureDocument(readJson(archive)),
      popularity: readJson(join(shared, "data", "popularity", "debian-archive-popcount.json")),
    });
  }
  const syn = process.env.STRATA_SYN100K ?? join(root, "bench", "data", "syn100k.json");
  if (existsSync(syn)) {
    // popularity: popcount over the graph itself (the default without a map).
    out.push({ name: "syn-100000", doc: readClosureDocument(readJson(syn)), popularity: undefined });
  }
  return out;
}

export async function run({ time = 2000, iterations = 5 } = {}) {
  const bench = new Bench({ time, iterations, warmupIterations: 1 });
  const notes = [];
  for (const input of inputs()) {
    for (const backend of ["wasm", "ts"]) {
      for (const budget of [20, 94, 125]) {
        const go = () => nixeryLayers(input.doc, { budget, popularity: input.popularity, kernels: backend });
        const r = go();
        notes.push(`${input.name} ${backend} budget ${budget}: ${r.layers.length} layers, ${r.detail.subtrees.length} subtrees`);
        bench.add(`nixery ${input.name} ${backend} budget ${budget}`, go);
      }
    }
  }
  await bench.run();
  return { table: bench.table(), notes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { table, notes } = await run();
  for (const n of notes) console.log(n);
  console.table(table);
  console.log(`maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}
