// `strata fleet --existing docker://HOST/REPO:TAG` and existingLayersFromRegistry
// against a real registry (Debian's docker-registry on 127.0.0.1): an OCI
// layout of the real compat store built by `strata build --format oci`, pushed
// by `strata push`, is read back from the registry's manifest alone and its
// store-path layers come back unchanged in the new fleet plan.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, noise, skopeo, startRegistry, strata, writeLayout, type Registry } from "./helpers/registry.js";
import { compatBuildDir, ensureCompatStore } from "./helpers/nix-store.js";
import { compatCase, tempDir } from "./helpers/oci.js";
import { existingLayersFromRegistry, RegistryError } from "../src/node.js";
import { STORE_PATHS_ANNOTATION } from "../src/fleet/index.js";

let reg: Registry;
let dir: string;
let manifest: { layers: { digest: string; annotations?: Record<string, string> }[] };
let annotated: string[][];
let storeLayers: string[][];
let customisation: string;
let foreignLayers: number;

beforeAll(async () => {
  ensureCompatStore();
  reg = await startRegistry();
  dir = tempDir("fleet-registry");
  const c = compatCase("grouped");
  storeLayers = c.input.plan.filter((l) => l.length > 0);
  customisation = c.input.customisation_layer.path;
  const plan = join(dir, "plan.json");
  writeFileSync(plan, JSON.stringify(c.input.plan));
  const out = join(dir, "oci");
  const closure = join(compatBuildDir, "store-closure.json");
  const built = await strata([
    "build",
    closure,
    "--layers",
    plan,
    "--customisation-layer",
    c.input.customisation_layer.path,
    "--format",
    "oci",
    "-o",
    out,
    "--tag",
    "app:v1",
    "--no-cache",
  ]);
  expect(built.code, built.stderr).toBe(0);
  const pushed = await strata(["push", `${out}:v1`, `docker://${reg.host}/team/app:v1`]);
  expect(pushed.code, pushed.stderr).toBe(0);
  // An image not built by strata: its layers carry no store-paths annotation.
  const foreign = join(dir, "foreign");
  const f = writeLayout(foreign, "v0", [{ files: { "aaaa-tool/bin/tool": noise(7, 20_000) } }, { files: { "etc/motd": "hello\n" } }]);
  foreignLayers = f.layers.length;
  const pushedForeign = await strata(["push", `${foreign}:v0`, `docker://${reg.host}/other/tool:v0`]);
  expect(pushedForeign.code, pushedForeign.stderr).toBe(0);
  // What the registry holds, as another client (skopeo) reads it.
  const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/team/app:v1`]);
  expect(raw.code, raw.stderr).toBe(0);
  manifest = JSON.parse(raw.stdout);
  annotated = manifest.layers
    .map((l) => l.annotations?.[STORE_PATHS_ANNOTATION])
    .filter((a): a is string => a !== undefined)
    .map((a) => JSON.parse(a) as string[])
    .filter((p) => p.length > 0);
}, 300_000);
afterAll(async () => {
  await reg?.stop();
});

describe("strata fleet --existing docker://", () => {
  it("reuses the layers the registry's manifest names, byte-identically, and counts the unannotated ones", async () => {
    // strata build annotates every layer: the plan's store layers, then the customisation layer.
    expect(annotated).toEqual([...storeLayers, [customisation]]);
    expect(manifest.layers.every((l) => l.annotations?.[STORE_PATHS_ANNOTATION] !== undefined)).toBe(true);
    expect(foreignLayers).toBe(2);

    const plans = join(dir, "plans");
    const r = await strata([
      "fleet",
      `app=${join(compatBuildDir, "store-closure.json")}`,
      "-o",
      plans,
      "--existing",
      `docker://${reg.host}/team/app:v1`,
      "--existing",
      `docker://${reg.host}/other/tool:v0`,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.registry.unannotatedLayers).toBe(foreignLayers);
    expect(summary.registry.images).toEqual([
      expect.objectContaining({ reference: `docker://${reg.host}/team/app:v1`, layers: annotated.length, unannotatedLayers: 0 }),
      expect.objectContaining({ reference: `docker://${reg.host}/other/tool:v0`, layers: 0, unannotatedLayers: foreignLayers }),
    ]);
    // The customisation layer's path is not in the closure, so only the store layers can be reused.
    expect(summary.summary.reusedLayers).toBe(storeLayers.length);
    // Every existing layer is in the new plan with the same ordered path list (so the same tar, the same digest).
    const newPlan = JSON.parse(readFileSync(join(plans, "app.json"), "utf8")) as string[][];
    const keys = new Set(newPlan.map((l) => JSON.stringify(l)));
    for (const l of storeLayers) expect(keys.has(JSON.stringify(l)), JSON.stringify(l)).toBe(true);
    const fleet = JSON.parse(readFileSync(join(plans, "fleet.json"), "utf8"));
    const reused = fleet.layers.filter((l: { existing: boolean }) => l.existing).map((l: { paths: string[] }) => l.paths);
    expect(new Set(reused.map((p: string[]) => JSON.stringify(p)))).toEqual(new Set(storeLayers.map((p) => JSON.stringify(p))));

    // The text output names the reference and the ignored count.
    const t = await strata([
      "fleet",
      `app=${join(compatBuildDir, "store-closure.json")}`,
      "-o",
      join(dir, "plans-text"),
      "--existing",
      `docker://${reg.host}/other/tool:v0`,
    ]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(`existing docker://${reg.host}/other/tool:v0 (sha256:`);
    expect(t.stdout).toContain(`registry layers ignored (no store-paths annotation): ${foreignLayers}`);
  }, 300_000);

  it("fails with exit 2, one message and nothing written for a missing tag or an unreachable registry", async () => {
    const closure = join(compatBuildDir, "store-closure.json");
    const missing = join(dir, "missing");
    const m = await strata(["fleet", closure, "-o", missing, "--existing", `docker://${reg.host}/team/app:nope`]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain(`docker://${reg.host}/team/app:nope: no such manifest`);
    expect(m.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(missing)).toBe(false);

    const port = await freePort();
    const down = join(dir, "down");
    const u = await strata(["fleet", closure, "-o", down, "--existing", `docker://127.0.0.1:${port}/team/app:v1`]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain(`127.0.0.1:${port}`);
    expect(u.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(down)).toBe(false);

    const stray = await strata(["fleet", closure, "-o", join(dir, "stray"), "--insecure"]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("--insecure applies to --existing docker://HOST/REPO:TAG only");
    expect(existsSync(join(dir, "stray"))).toBe(false);
  }, 300_000);
});

describe("existingLayersFromRegistry", () => {
  it("turns references into existing layer lists (manifest only), and rejects a missing tag with a RegistryError", async () => {
    const got = await existingLayersFromRegistry([`docker://${reg.host}/team/app:v1`, `docker://${reg.host}/other/tool:v0`]);
    expect(got.layers).toEqual(annotated);
    expect(got.unannotatedLayers).toBe(foreignLayers);
    expect(got.images[0].manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const e = await existingLayersFromRegistry([`docker://${reg.host}/team/app:v1`, `docker://${reg.host}/team/app:gone`]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).code).toBe("not-found");
  }, 300_000);
});
