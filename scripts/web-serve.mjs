#!/usr/bin/env node
// A minimal static server for dist-web/ on 127.0.0.1 (`npm run web`, and the
// browser tests). Files are sent as they are: .gz with its own type, never a
// Content-Encoding, so the page receives the compressed bytes it asked for.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".gz": "application/gzip",
  ".map": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
};

/** Serves `dir`; resolves to { url, close() } once listening (port 0 = any free port). */
export function startServer(dir, port = 0, host = "127.0.0.1") {
  const rootDir = normalize(dir);
  const server = createServer(async (req, res) => {
    try {
      const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      let file = normalize(join(rootDir, pathname));
      if (file !== rootDir && !file.startsWith(rootDir + sep)) throw Object.assign(new Error("outside"), { code: "ENOENT" });
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      const missing = e && (e.code === "ENOENT" || e.code === "ENOTDIR");
      res.writeHead(missing ? 404 : 500, { "content-type": "text/plain" });
      res.end(missing ? "not found\n" : "error\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({ url: `http://${host}:${address.port}/`, close: () => new Promise((r) => server.close(() => r(undefined))) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? fileURLToPath(new URL("../dist-web", import.meta.url));
  const port = Number(process.env.PORT ?? 8080);
  const { url } = await startServer(dir, port);
  console.log(`strata web page: ${url} (serving ${dir}; Ctrl-C to stop)`);
}
