// Random, well-kinded nixpkgs layering pipelines over a given set of paths,
// for property tests: every step gets the kind of value it expects (graph,
// dict or list), so most pipelines run; the paths any remove_paths step names
// are collected, since only those may vanish from the image.
import type { Rng } from "./fuzz.js";

export interface RandomPipeline {
  readonly json: unknown[];
  /** Every path a remove_paths step names (they may or may not be removed). */
  readonly removable: ReadonlySet<string>;
  /** limit_layers count when it is the last step (the layer count bound), else undefined. */
  readonly limit?: number;
}

/** A graph -> list-of-graphs pipeline. */
export function randomPipeline(rng: Rng, paths: readonly string[], maxDepth = 3): RandomPipeline {
  const removable = new Set<string>();
  const some = (): string[] => {
    const k = paths.length === 0 ? 0 : rng.int(Math.min(4, paths.length) + 1);
    const out = Array.from({ length: k }, () => rng.pick(paths));
    if (rng.chance(0.1)) out.push("/nix/store/00000000000000000000000000000000-absent");
    return out;
  };
  const removeStep = (): unknown[] => {
    const ps = some();
    for (const p of ps) removable.add(p);
    return ["remove_paths", ps.length === 1 && rng.chance(0.3) ? ps[0] : ps];
  };
  /** graph -> dict with the keys it may have. */
  const dict = (): { step: unknown[]; keys: string[] } => {
    switch (rng.int(3)) {
      case 0:
        return { step: ["subcomponent_in", some()], keys: ["main", "rest"] };
      case 1:
        return { step: ["subcomponent_out", some()], keys: ["main", "rest"] };
      default: {
        const specs = some().map((p) => (rng.chance(0.3) ? { children_of: rng.chance(0.5) ? p : [p] } : p));
        return { step: ["split_paths", specs], keys: ["main", "common", "rest"] };
      }
    }
  };
  /** graph -> list of graphs, as a list of steps. */
  const toList = (depth: number): unknown[][] => {
    const leaf = depth >= maxDepth;
    switch (leaf ? rng.int(2) : rng.int(7)) {
      case 0:
        return [["popularity_contest"]];
      case 1:
        return [["split_every", 1 + rng.int(4)]];
      case 2:
        return [removeStep(), ...toList(depth + 1)];
      case 3: {
        const d = dict();
        const steps: unknown[][] = [d.step];
        for (const key of rng.shuffle([...d.keys]).slice(0, 1 + rng.int(d.keys.length))) {
          steps.push(["over", key, rng.chance(0.3) ? removeStep() : ["pipe", toList(depth + 1)]]);
        }
        steps.push(["flatten"]);
        return steps;
      }
      case 4:
        return [...toList(depth + 1), ["limit_layers", 1 + rng.int(6)]];
      case 5:
        return [...toList(depth + 1), rng.chance(0.5) ? ["reverse"] : ["map", removeStep()]];
      default:
        return [...toList(depth + 1), ["map", ["pipe", toList(depth + 1)]], ["flatten"]];
    }
  };
  const json = toList(0);
  const last = json[json.length - 1];
  const limit = last[0] === "limit_layers" ? (last[1] as number) : undefined;
  return { json, removable, limit };
}
