// Store path names: "/nix/store/<hash>-<pname>-<version>". Nix's own rule
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
