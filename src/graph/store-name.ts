// Store path names and their orders, in one place.
//
// Names: "/nix/store/<hash>-<pname>-<version>". Nix's own rule
// (builtins.parseDrvName) splits the name at the first "-" that is followed by
// a digit: "python3.11-minimal-3.11.2-6" -> pname "python3.11-minimal",
// version "3.11.2-6"; "hello" -> pname "hello", version "".

/** The name after the hash: "/nix/store/abc-hello-2.12" -> "hello-2.12". */
export function storeName(path: string): string {
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  const dash = base.indexOf("-");
  return dash < 0 ? base : base.slice(dash + 1);
}

export function parseName(name: string): { pname: string; version: string } {
  for (let i = 0; i < name.length - 1; i++) {
    if (name[i] === "-" && name[i + 1] >= "0" && name[i + 1] <= "9") {
      return { pname: name.slice(0, i), version: name.slice(i + 1) };
    }
  }
  return { pname: name, version: "" };
}

/** The package name of a store path: no hash, no version. */
export function packageName(path: string): string {
  return parseName(storeName(path)).pname;
}

// Orders. Python (nixpkgs' tools) compares str by code point, Go (Nixery)
// compares strings bytewise as UTF-8, which is the same order on well-formed
// text. JavaScript's `<` compares UTF-16 code units, which differs from both
// only when a surrogate meets a unit in U+E000..U+FFFF. The two differ from
// each other only on lone surrogates: Python keeps an undecodable byte (read
// with surrogateescape, or a JSON "\udc80" escape) as the code point
// U+DC80..U+DCFF, below U+E000, while treating every surrogate as half of an
// astral code point puts it above U+FFFF.

/**
 * Code point order of well-formed strings (= bytewise UTF-8 order, Go's
 * sort.Strings): every surrogate counts as half of an astral code point, so
 * surrogates and U+E000..U+FFFF are remapped at the first difference.
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

/**
 * Python's str order exactly: pairs are astral code points, a lone surrogate
 * is its own code point (U+D800..U+DFFF, below U+E000). Equal to
 * compareCodePoints except on lone surrogates.
 */
export function comparePythonStr(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** True when plain `<` on these strings already is code point order (no surrogates). */
export function codeUnitOrderIsCodePointOrder(strings: readonly string[]): boolean {
  for (const s of strings) {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0xd800) return false;
  }
  return true;
}
