// `strata evaluate --series ... --compressed` (issue 15): compressed bytes per
// update beside narSize, from the layer cache (built into it where missing).
import { UsageError } from "../../errors.js";
import { compressedSeries, type CompressedSeries } from "../../evaluate/compressed-node.js";
import type { NamedClosure, Planner } from "../../evaluate/evaluate.js";
import { defaultCacheDir } from "../../image/cache/index.js";
import { compressionSyntax, parseCompression } from "../../image/compress/index.js";
import { formatBytes, textTable } from "../../report/format.js";
import type { Layers } from "../../strategies/types.js";
import type { CliIo, ParsedArgs } from "../command.js";

const stringOption = (v: string | boolean | (string | boolean)[] | undefined): string | undefined => (typeof v === "string" ? v : undefined);

export const compressedOptionSpecs = {
  compressed: { type: "boolean" },
  cache: { type: "string" },
  "store-root": { type: "string" },
  compression: { type: "string" },
} as const;

export const compressedHelp = `
Compressed bytes (--series only; needs the store paths on disk, or their
layers in the layer cache):
  --compressed            also report the compressed bytes each update pulls:
                          every layer of every plan compressed as 'strata
                          build --format oci' compresses it, taken from the
                          layer cache or built into it (the first run
                          compresses every distinct layer once); ideal = each
                          changed path compressed alone, worst = every path
                          compressed alone, summed
  --cache DIR             the layer cache (default ~/.cache/strata/layers,
                          the same as strata build --format oci)
  --store-root DIR        where the store directory is mounted on disk
  --compression C         ${compressionSyntax}
`;

/** Wraps planners so their plans can be priced again afterwards. */
export function recordPlans(planners: readonly Planner[]): { planners: Planner[]; plans: Map<string, Layers[]> } {
  const plans = new Map<string, Layers[]>();
  return {
    plans,
    planners: planners.map((p) => {
      const list: Layers[] = [];
      plans.set(p.name, list);
      return {
        name: p.name,
        plan(doc, previous) {
          const layers = p.plan(doc, previous);
          list.push(layers);
          return layers;
        },
      };
    }),
  };
}

export function wantsCompressed(values: ParsedArgs["values"], series: boolean): boolean {
  const on = values.compressed === true;
  if (!on) {
    for (const k of ["cache", "store-root", "compression"]) if (values[k] !== undefined) throw new UsageError(`evaluate: --${k} goes with --compressed`);
    return false;
  }
  if (!series) throw new UsageError("evaluate: --compressed prices updates: use it with --series");
  return true;
}

export async function runCompressed(
  values: ParsedArgs["values"],
  closures: readonly NamedClosure[],
  plans: Map<string, Layers[]>,
  io: CliIo,
): Promise<CompressedSeries> {
  const c = stringOption(values.compression);
  const storeRoot = stringOption(values["store-root"]);
  let last = 0;
  return compressedSeries(closures, plans, {
    cacheDir: stringOption(values.cache) ?? defaultCacheDir({ ...io.env }),
    ...(storeRoot !== undefined ? { storeRoot } : {}),
    ...(c !== undefined ? { compression: parseCompression(c) } : {}),
    onProgress: io.stderrIsTty
      ? (p) => {
          if (Date.now() - last < 500) return;
          last = Date.now();
          io.err(`\rstrata: compressing layers ${p.layersDone}/${p.layers} (${formatBytes(p.bytesDone)})   `);
        }
      : undefined,
  });
}

export function compressedTable(c: CompressedSeries, narSize: ReadonlyMap<string, number>): string {
  const mib = (b: number) => formatBytes(b);
  const rows = c.strategies.map((s) => [
    s.strategy,
    mib(s.total.pulledBytes),
    mib(narSize.get(s.strategy) ?? 0),
    mib(s.total.idealBytes),
    mib(s.total.worstBytes),
    mib(s.total.pulledBytes - s.total.idealBytes),
  ]);
  return `\nCompressed bytes pulled over the series (${c.compression}; ${c.layersCached} layers from the cache, ${c.layersBuilt} compressed now):\n${textTable(["strategy", "pulled", "narSize pulled", "ideal", "worst", "excess"], rows)}`;
}
