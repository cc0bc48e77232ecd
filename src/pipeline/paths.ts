// The store paths a pipeline names, with their locations (for `strata check`
// against a closure: nixpkgs silently ignores paths that are not there).
import { assertNever, type Pipeline, type Step } from "./model.js";

export interface NamedPath {
  readonly location: string;
  readonly path: string;
  readonly op: string;
}

export function namedPaths(p: Pipeline, root = "pipeline"): NamedPath[] {
  const out: NamedPath[] = [];
  const work: [Step, string][] = p.map((s, i) => [s, `${root}[${i}]`]);
  while (work.length > 0) {
    const [s, at] = work.shift()!;
    switch (s.op) {
      case "split_paths":
        if (typeof s.specs === "string") break; // per-character paths: reported by the checker
        s.specs.forEach((spec, i) => {
          if (typeof spec === "string") out.push({ location: `${at}[1][${i}]`, path: spec, op: s.op });
          else if (typeof spec.childrenOf === "string") out.push({ location: `${at}[1][${i}].children_of`, path: spec.childrenOf, op: "children_of" });
          else spec.childrenOf.forEach((c, j) => out.push({ location: `${at}[1][${i}].children_of[${j}]`, path: c, op: "children_of" }));
        });
        break;
      case "subcomponent_in":
      case "subcomponent_out":
        s.paths.forEach((path, i) => out.push({ location: `${at}[1][${i}]`, path, op: s.op }));
        break;
      case "remove_paths":
        if (typeof s.paths === "string") out.push({ location: `${at}[1]`, path: s.paths, op: s.op });
        else s.paths.forEach((path, i) => out.push({ location: `${at}[1][${i}]`, path, op: s.op }));
        break;
      case "over":
        work.push([s.step, `${at}[2]`]);
        break;
      case "map":
        work.push([s.step, `${at}[1]`]);
        break;
      case "pipe":
        s.pipeline.forEach((x, i) => work.push([x, `${at}[1][${i}]`]));
        break;
      case "popularity_contest":
      case "limit_layers":
      case "split_every":
      case "reverse":
      case "flatten":
      case "extension":
        break;
      default:
        assertNever(s);
    }
  }
  return out.sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
}
