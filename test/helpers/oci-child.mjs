// A separate process building one OCI layout (for the concurrency and crash
// tests). Argument: JSON {outDir, cacheDir, layers, settings, store, compression, workers}.
import { writeOciLayout } from "../../dist/image/oci/layout.js";
import { LayerCache } from "../../dist/image/cache/index.js";

const a = JSON.parse(process.argv[2]);
const cache = a.cacheDir === undefined ? undefined : await LayerCache.open(a.cacheDir);
const config = (d) => new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: d } }));
const r = await writeOciLayout({ ...a, cache, config, narHashes: new Map(a.narHashes ?? []) });
process.stdout.write(JSON.stringify({ manifestDigest: r.manifestDigest, hits: r.cacheHits, misses: r.cacheMisses }));
