// A credential helper that exits without reading the address it is given (one
// that fails at once) makes the write to its stdin fail with EPIPE; its exit
// status and message must still be reported, not "did not run". A long
// address makes the race certain.
import { describe, expect, it } from "vitest";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCredentialHelper } from "../src/registry/auth.js";

describe("credential helper that exits before reading its stdin", () => {
  it("is reported with its exit status and message", () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-helper-exit-"));
    try {
      const helper = join(dir, "docker-credential-quick");
      writeFileSync(helper, "#!/bin/sh\necho 'keyring is locked' >&2\nexit 1\n");
      chmodSync(helper, 0o755);
      const env = { PATH: `${dir}:${process.env.PATH ?? ""}` };
      const address = "a".repeat(1 << 20);
      let error: unknown;
      try {
        runCredentialHelper("quick", "config.json", address, env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain("the credential helper docker-credential-quick (configured in config.json) failed for");
      expect((error as Error).message).toContain("(exit 1): keyring is locked");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
