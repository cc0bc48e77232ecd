// The bundled CLI (scripts/bundle-cli.mjs over dist/cli/main.js): what it
// loads at start-up, what it inlines, and that the files it points at exist.
// No timing here: start-up speed is measured in bench/ (bench/README.md).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { commands } from "../src/cli/commands/index.js";
import { lazyCommands } from "../src/cli/commands/lazy.js";
import { helpText } from "../src/cli/help.js";
import { builtCli, captureCli } from "./helpers/cli.js";
import { repoRoot } from "./helpers/shared.js";

const cliDir = dirname(builtCli);

// Logs every file: module the process resolves, one per line on stderr (a Node module-resolution hook).
const hook = `data:text/javascript,${encodeURIComponent(`
import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(\`
export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  if (r.url.startsWith("file:")) process.stderr.write("LOADED " + r.url + "\\\\n");
  return r;
}\`));
`)}`;

function loaded(args: string[], input?: string): { files: string[]; stdout: string; status: number | null } {
  const r = spawnSync(process.execPath, ["--import", hook, builtCli, ...args], { encoding: "utf8", input });
  const files = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("LOADED "))
    .map((l) => fileURLToPath(l.slice(7)));
  return { files, stdout: r.stdout, status: r.status };
}

const tiny = JSON.stringify([
  { path: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-glibc", narSize: 100, references: [] },
  { path: "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bash", narSize: 200, references: ["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-glibc"] },
]);

describe("the bundled CLI", () => {
  it("--version prints package.json's version and loads no command code", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const r = loaded(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`strata ${pkg.version}\n`);
    expect(r.files[0]).toBe(builtCli);
    // main.js and at most the small chunk it shares with the commands (errors, colours).
    expect(r.files.length).toBeLessThanOrEqual(2);
    for (const f of r.files) expect(readFileSync(f).length).toBeLessThan(20_000);
  });

  it("--help prints the text the command list renders, without loading the commands", async () => {
    const r = loaded(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(helpText(commands));
    expect((await captureCli(["--help"])).out).toBe(r.stdout);
    expect(r.files.length).toBeLessThanOrEqual(2);
  });

  it("every command has a lazy loader that gives the command itself", async () => {
    expect(Object.keys(lazyCommands).sort(), "add new commands to src/cli/commands/lazy.ts too").toEqual(commands.map((c) => c.name).sort());
    for (const c of commands) expect(await lazyCommands[c.name](), c.name).toBe(c);
  });

  it("a command loads a handful of bundle files, not the module graph, and not the other commands", () => {
    const r = loaded(["layer", "-"], tiny);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-glibc"], ["/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bash"]]);
    expect(r.files.every((f) => dirname(f) === cliDir)).toBe(true);
    expect(r.files.length).toBeLessThanOrEqual(6);
    const names = r.files.map((f) => f.slice(cliDir.length + 1));
    expect(names.some((f) => f.startsWith("strata-cli-layer-"))).toBe(true);
    for (const other of ["build", "evaluate", "report"])
      expect(
        names.some((f) => f.startsWith(`strata-cli-${other}-`)),
        other,
      ).toBe(false);
  });

  it("a small closure is planned without V8's optimising compiler: no loop of start-up runs long enough to be optimised", () => {
    // An optimised compile on a 5-path run (as the Wasm module's base64 decode loop once was) costs
    // CPU and about 3.5 MiB of resident compiler code: every start-up loop must stay short.
    const r = spawnSync(process.execPath, ["--trace-opt", builtCli, "layer", "-"], { input: tiny, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l.includes("compiling method"))).toEqual([]);
  });

  it("an unknown command names every command", () => {
    const r = spawnSync(process.execPath, [builtCli, "nonsense"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`strata: unknown command "nonsense". Commands: ${commands.map((c) => c.name).join(", ")}\n`);
  });

  it("every URL the bundle builds from import.meta.url names a file that exists (the worker entry)", () => {
    const chunks = readdirSync(cliDir).filter((f) => f.endsWith(".js") && (f === "main.js" || f.startsWith("strata-cli-")));
    const urls: string[] = [];
    for (const f of chunks) {
      const text = readFileSync(join(cliDir, f), "utf8");
      for (const m of text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)) {
        const target = fileURLToPath(new URL(m[1], pathToFileURL(join(cliDir, f))));
        urls.push(target);
        expect(existsSync(target), `${f}: ${m[1]}`).toBe(true);
      }
    }
    expect(urls).toContain(join(repoRoot, "dist", "worker", "node-entry.js"));
  });
});
