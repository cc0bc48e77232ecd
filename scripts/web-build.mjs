#!/usr/bin/env node
// Builds the browser side into dist-web/ (gitignored):
//   dist-web/index.html + assets/   the static web page (web/), its Web Worker bundled
//   dist-web/lib/strata.js          ESM browser bundle of the library (src/browser.ts)
//   dist-web/lib/strata-worker.js   ready-made module worker entry for that bundle
//   dist-web/examples/              bundled example closures and a manifest
// Vite (rolldown) bundles; the Wasm kernels are already inlined as base64.
import { build } from "vite";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "dist-web");

/** Examples shipped with the page: files of this repository only. */
const examples = [
  { name: "python-scipy (Debian bookworm, 112 paths)", kind: "closure", files: ["examples/python-scipy.json.gz"] },
  {
    name: "web-app image, 8 versions",
    kind: "series",
    files: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => `bench/data/webapp-v${k}.json.gz`),
  },
];

// Nothing in the browser build may reach for Node's built-ins.
const noNode = {
  name: "strata-no-node-builtins",
  enforce: "pre",
  resolveId(id, importer) {
    if (id.startsWith("node:"))
      throw new Error(`browser build: ${importer ?? "?"} imports ${id}; Node-only code belongs in src/io/node.ts, src/cli/ or src/worker/node.ts`);
    return null;
  },
};

const shared = { configFile: false, logLevel: "warn", plugins: [noNode], worker: { format: "es", plugins: () => [noNode] } };

export async function buildWeb() {
  rmSync(out, { recursive: true, force: true });
  await build({
    ...shared,
    root: join(root, "web"),
    base: "./",
    build: { outDir: out, emptyOutDir: false, target: "es2022", sourcemap: true, reportCompressedSize: false },
  });
  await build({
    ...shared,
    build: {
      outDir: join(out, "lib"),
      emptyOutDir: false,
      target: "es2022",
      sourcemap: true,
      reportCompressedSize: false,
      lib: {
        entry: { strata: join(root, "src/browser.ts"), "strata-worker": join(root, "src/worker/web-entry.ts") },
        formats: ["es"],
        fileName: (_format, name) => `${name}.js`,
      },
      rollupOptions: { output: { chunkFileNames: "strata-shared-[hash].js" } },
    },
  });
  mkdirSync(join(out, "examples"), { recursive: true });
  const manifest = examples.map((e) => ({
    ...e,
    files: e.files.map((f) => {
      copyFileSync(join(root, f), join(out, "examples", basename(f)));
      return `examples/${basename(f)}`;
    }),
  }));
  writeFileSync(join(out, "examples", "index.json"), JSON.stringify(manifest, null, 2) + "\n");
  const html = readFileSync(join(out, "index.html"), "utf8");
  if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) throw new Error("dist-web/index.html has an inline script, which its Content-Security-Policy blocks");
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = await buildWeb();
  console.log(`strata: web page and browser bundle in ${dir}`);
}
