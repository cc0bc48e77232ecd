// An independent oracle for nixpkgs' popularity_contest, written the way the
// reference computes it (not the closed form the kernels use): counts over the
// tree unfolded from the roots, memoised per path. For a set of sibling
// subtrees, each sibling gets +1 and every path counted inside a sibling's
// subtree gets that count + 1. Iterative, so deep chains work.
export interface NaiveRecord {
  path: string;
  references: readonly string[];
}

export function naivePopularity(records: readonly NaiveRecord[]): Map<string, bigint> {
  const refs = new Map<string, string[]>();
  for (const r of records) refs.set(r.path, [...new Set(r.references.filter((x) => x !== r.path))]);
  const referenced = new Set<string>();
  for (const [, rs] of refs) for (const x of rs) referenced.add(x);
  const roots = records.map((r) => r.path).filter((p) => !referenced.has(p));
  // memo[p] = counts over the sibling set "children of p".
  const memo = new Map<string, Map<string, bigint>>();
  const siblings = (children: readonly string[]): Map<string, bigint> => {
    const out = new Map<string, bigint>();
    for (const c of children) {
      out.set(c, (out.get(c) ?? 0n) + 1n);
      for (const [p, n] of memo.get(c)!) out.set(p, (out.get(p) ?? 0n) + n + 1n);
    }
    return out;
  };
  // Post-order without recursion.
  for (const root of roots) {
    const stack: [string, boolean][] = [[root, false]];
    while (stack.length) {
      const [p, expanded] = stack.pop()!;
      if (memo.has(p)) continue;
      if (expanded) {
        memo.set(p, siblings(refs.get(p)!));
        continue;
      }
      stack.push([p, true]);
      for (const c of refs.get(p)!) if (!memo.has(c)) stack.push([c, false]);
    }
  }
  return siblings(roots);
}

export function naivePackageName(path: string): string {
  const parts = path.split("-");
  return [...parts.slice(1), parts[0]].join("-");
}

export function naivePopularityOrder(records: readonly NaiveRecord[]): string[] {
  const pop = naivePopularity(records);
  return [...pop.keys()].sort((a, b) => {
    const d = pop.get(b)! - pop.get(a)!;
    if (d !== 0n) return d > 0n ? 1 : -1;
    const x = naivePackageName(a);
    const y = naivePackageName(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
