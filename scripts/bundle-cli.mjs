#!/usr/bin/env node
// Bundles the CLI (after `tsc`) so a run loads two files instead of ~80 modules.
//
// Why: for the closures most images have (hundreds to thousands of paths), a
// run's time was mostly Node resolving, reading and compiling the CLI's module
// graph (bench/README.md, start-up). A bundle removes the per-module
// resolution and file I/O. Output, over tsc's own dist/cli/main.js:
//   dist/cli/main.js           the entry: argument dispatch, --version, --help
//   dist/cli/strata-cli-*.js   each command and the code commands share, loaded
//                              on first use (src/cli/commands/lazy.ts)
// The version and the main help text are inlined, so `--version` and `--help`
// read nothing else. The library (dist/index.js, dist/node.js) is not bundled.
//
// Idempotent: it reads the sources (src/, TypeScript) and only writes dist/cli.
import { rolldown } from "rolldown";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = join(root, "dist/cli");

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// The help text from the built command modules (tsc output), so it is exactly what the unbundled CLI prints.
const { commands } = await import(pathToFileURL(join(outDir, "commands/index.js")).href);
const { helpText } = await import(pathToFileURL(join(root, "dist/cli/help.js")).href);

// src/worker/node.ts starts its worker from a URL relative to its own module;
// inside a chunk in dist/cli/ that module lives one folder up.
const workerUrl = {
  name: "strata-worker-url",
  transform(code, id) {
    if (!id.endsWith("/src/worker/node.ts")) return null;
    const from = 'new URL("./node-entry.js", import.meta.url)';
    if (!code.includes(from)) throw new Error(`bundle-cli: ${id} no longer contains ${from}; update scripts/bundle-cli.mjs`);
    return { code: code.replace(from, 'new URL("../worker/node-entry.js", import.meta.url)'), map: null };
  },
};
// The same for the image builder's layer workers (src/image/parallel/pool.ts), two folders up.
const layerWorkerUrl = {
  name: "strata-layer-worker-url",
  transform(code, id) {
    if (!id.endsWith("/src/image/parallel/pool.ts")) return null;
    const from = 'new URL("./worker-entry.js", import.meta.url)';
    if (!code.includes(from)) throw new Error(`bundle-cli: ${id} no longer contains ${from}; update scripts/bundle-cli.mjs`);
    return { code: code.replace(from, 'new URL("../image/parallel/worker-entry.js", import.meta.url)'), map: null };
  },
};

for (const f of readdirSync(outDir)) if (f.startsWith("strata-cli-")) rmSync(join(outDir, f));

const bundle = await rolldown({
  input: join(root, "src/cli/main.ts"),
  platform: "node",
  // zstd-wasm loads its .wasm file next to its own module: keep the encoders package imports.
  external: [/^node:/, "@bokuweb/zstd-wasm", "fflate"],
  resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
  transform: {
    define: {
      __STRATA_VERSION__: JSON.stringify(pkg.version),
      __STRATA_HELP__: JSON.stringify(helpText(commands)),
    },
  },
  plugins: [workerUrl, layerWorkerUrl],
  logLevel: "warn",
});
await bundle.write({
  dir: outDir,
  format: "es",
  entryFileNames: "main.js",
  chunkFileNames: "strata-cli-[name]-[hash].js",
  // errors and messages in one small chunk with main.js's other shared code, whichever commands use them
  codeSplitting: { groups: [{ name: "core", test: /[\\/]src[\\/](errors|cli[\\/]messages)\.ts$/ }] },
  sourcemap: true,
});
await bundle.close();
