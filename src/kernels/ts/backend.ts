// The plain TypeScript backend: graphs are JS typed arrays, kernels are the twins.
import type { CsrGraph } from "../../graph/csr.js";
import type { GraphRef, Kernels } from "../types.js";
import { reachTs } from "./reach.js";
import { transposeTs } from "./transpose.js";
import { disjointUnionTs, inducedTs } from "./subgraph.js";
import { inDegreesTs, topoOrderTs } from "./topo.js";
import { popularityTs } from "./popularity.js";
import { dominatorsTs } from "./dominators.js";

class TsGraph implements GraphRef {
  private reversed?: CsrGraph;
  constructor(readonly csr: CsrGraph) {}
  get n(): number {
    return this.csr.n;
  }
  get m(): number {
    return this.csr.targets.length;
  }
  get reverse(): CsrGraph {
    return (this.reversed ??= transposeTs(this.csr));
  }
}

function own(g: GraphRef): TsGraph {
  if (!(g instanceof TsGraph)) throw new TypeError("kernels(ts): graph was not loaded by this backend");
  return g;
}

export const tsKernels: Kernels = {
  backend: "ts",
  load: (g) => new TsGraph({ n: g.n, offsets: g.offsets.slice(), targets: g.targets.slice() }),
  read: (g) => {
    const { n, offsets, targets } = own(g).csr;
    return { n, offsets: offsets.slice(), targets: targets.slice() };
  },
  scope: (fn) => fn(),
  reach: (g, seeds, direction, blocked) => {
    const t = own(g);
    return reachTs(direction === "out" ? t.csr : t.reverse, seeds, blocked);
  },
  inDegrees: (g) => inDegreesTs(own(g).csr),
  topoOrder: (g) => topoOrderTs(own(g).csr),
  induced: (g, vertices, blocked) => new TsGraph(inducedTs(own(g).csr, vertices, blocked)),
  disjointUnion: (parts) => new TsGraph(disjointUnionTs(parts.map((p) => own(p).csr))),
  popularity: (g) => popularityTs(own(g).csr, own(g).reverse),
  dominators: (g, roots) => dominatorsTs(own(g).csr, own(g).reverse, roots),
};
