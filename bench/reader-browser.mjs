// The streaming closure reader in a browser Web Worker (headless Chromium):
// readClosureWeb over the bytes of gen-nix-graph.py 10000 / 100000 --seed 1,
// cold (the first read in a fresh worker) and warm (median of 5 after it),
// with the Wasm fast path, the TypeScript parser alone, and a previous
// build's browser bundle when given. Wall milliseconds inside the worker
// (a browser has no CPU clock), medians over fresh workers taken in turn.
//
//   npm run build && node bench/reader-browser.mjs [previous-checkout] [chromium]
// (the previous checkout needs its dist-web/ built too; chromium defaults to /usr/bin/chromium).
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { median, syntheticClosure } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const baseRoot = process.argv[2];
const executablePath = process.argv[3] ?? "/usr/bin/chromium";
const runs = Number(process.env.RUNS ?? 5);

const dir = mkdtempSync(join(tmpdir(), "strata-reader-browser-"));
symlinkSync(join(root, "dist-web", "lib"), join(dir, "lib"));
if (baseRoot) symlinkSync(join(baseRoot, "dist-web", "lib"), join(dir, "base-lib"));
const inputs = [10000, 100000].map((n) => ({ name: `syn-${n}`, file: syntheticClosure(n) }));
inputs.forEach((input, i) => symlinkSync(input.file, join(dir, `input-${i}.json`)));
// One worker per measurement: it fetches the input, then times its first read and 5 more.
writeFileSync(
  join(dir, "worker.js"),
  `self.onmessage = async (e) => {
    const { lib, input, reader } = e.data;
    const { readClosureWeb } = await import(lib);
    const bytes = new Uint8Array(await (await fetch(input)).arrayBuffer());
    const once = async () => { const t = performance.now(); const doc = await readClosureWeb(bytes, reader ? { reader } : {}); if (!doc.format) throw new Error("no document"); return performance.now() - t; };
    const cold = await once();
    const warm = [];
    for (let i = 0; i < 5; i++) warm.push(await once());
    warm.sort((a, b) => a - b);
    self.postMessage({ cold, warm: warm[2] });
  };`,
);
writeFileSync(join(dir, "index.html"), "<!doctype html><title>reader bench</title>");

// Loaded by URL: scripts/ is not part of the bench typecheck.
const { startServer } = await import(new URL("../scripts/web-serve.mjs", import.meta.url).href);
const server = await startServer(dir);
const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage();
await page.goto(server.url);

const variants = [
  ["this build, Wasm fast path", "./lib/strata.js", undefined],
  ["this build, TS parser alone", "./lib/strata.js", "ts"],
];
if (baseRoot) variants.push(["previous build", "./base-lib/strata.js", undefined]);

const lines = ["| input | " + variants.map(([n]) => `${n}: cold / warm ms`).join(" | ") + " |", "| --- |" + variants.map(() => " ---: |").join("")];
for (const [i, input] of inputs.entries()) {
  const samples = variants.map(() => ({ cold: [], warm: [] }));
  for (let r = 0; r < runs; r++) {
    for (const [k, [, lib, reader]] of variants.entries()) {
      const m = await page.evaluate(
        ({ lib, input, reader }) =>
          new Promise((resolve, reject) => {
            const w = new Worker("./worker.js");
            w.onmessage = (e) => {
              w.terminate();
              resolve(e.data);
            };
            w.onerror = (e) => reject(new Error(e.message));
            w.postMessage({ lib: new URL(lib, location.href).href, input, reader });
          }),
        { lib, input: `./input-${i}.json`, reader },
      );
      samples[k].cold.push(m.cold);
      samples[k].warm.push(m.warm);
    }
  }
  lines.push(`| ${input.name} | ` + samples.map((s) => `${median(s.cold).toFixed(0)} / ${median(s.warm).toFixed(0)}`).join(" | ") + " |");
}
await browser.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
console.log(lines.join("\n"));
