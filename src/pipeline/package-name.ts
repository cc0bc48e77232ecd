// nixpkgs' popularity tie-break (popularity_contest.py and closure-graph.py):
// package_name(path) splits the path on "-", moves the first piece (the
// /nix/store/<hash> prefix) to the end and joins with "-" again, so ties sort
// by name, then version, then hash. Python compares str by code point.

export function packageName(path: string): string {
  const dash = path.indexOf("-");
  if (dash < 0) return path;
  return path.slice(dash + 1) + "-" + path.slice(0, dash);
}

/**
 * Python's str ordering (code points). JavaScript's `<` compares UTF-16 code
 * units, which differs only when a surrogate meets a unit in U+E000..U+FFFF:
 * remap those two ranges at the first difference.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800; // BMP above the surrogates sorts before astral code points
  if (unit >= 0xd800) return unit + 0x2000; // surrogates stand for code points >= U+10000
  return unit;
}

/** True when plain `<` on these strings already is code point order. */
export function codeUnitOrderIsCodePointOrder(strings: readonly string[]): boolean {
  for (const s of strings) {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0xd800) return false;
  }
  return true;
}
