// Podman for image tests: the flags of a private, throwaway vfs store, a
// sandboxed `podman run`, and a fake Nix store holding one static busybox.
import { chmodSync, copyFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Global podman flags for a private vfs store under `root` and `runroot`
 * (no cgroup manager or event log needed); `runtime` adds --runtime, which
 * running a container wants.
 */
export function podmanStore(root: string, runroot: string, runtime?: string): string[] {
  return [
    "--root",
    root,
    "--runroot",
    runroot,
    "--storage-driver",
    "vfs",
    ...(runtime === undefined ? [] : ["--runtime", runtime]),
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "none",
  ];
}

/** `podman run`, removed afterwards, without network and with small ulimits. */
export const podmanRun: readonly string[] = ["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

/**
 * Copies the host's static busybox into `store` as NAME/bin/busybox (mode
 * 555), a store path an image can run with /nix/store mounted elsewhere.
 */
export function busyboxStore(store: string): { name: string; bin: string; narSize: number } {
  const name = "0123456789abcdfghijklmnpqrsvwxyz-busybox-static";
  mkdirSync(join(store, name, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(store, name, "bin", "busybox"));
  chmodSync(join(store, name, "bin", "busybox"), 0o555);
  return { name, bin: `/nix/store/${name}/bin/busybox`, narSize: statSync("/bin/busybox").size };
}
