// TypeScript twin of assembly/transpose.ts: referrers of each vertex, ascending.
import type { CsrGraph } from "../../graph/csr.js";

export function transposeTs(g: CsrGraph): CsrGraph {
  const { n, offsets, targets } = g;
  const rOffsets = new Uint32Array(n + 1);
  for (let e = 0; e < targets.length; e++) rOffsets[targets[e] + 1]++;
  for (let v = 0; v < n; v++) rOffsets[v + 1] += rOffsets[v];
  const cursor = rOffsets.slice(0, n);
  const rTargets = new Uint32Array(targets.length);
  for (let v = 0; v < n; v++) {
    for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) rTargets[cursor[targets[e]]++] = v;
  }
  return { n, offsets: rOffsets, targets: rTargets };
}
