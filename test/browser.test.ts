// The web page in headless Chromium (Debian's package, driven by
// playwright-core; never a downloaded browser). The page is the static build
// in dist-web/ (npm run build), served from 127.0.0.1. Its downloads must be
// byte-identical to `strata layer` for the same input and options.
//
// Chromium is required: CI installs it (.ci/run), so a missing browser is a
// failure with instructions, not a skip.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { repoRoot, sharedPath } from "./helpers/shared.js";
// @ts-expect-error: a plain .mjs script without type declarations
import { startServer } from "../scripts/web-serve.mjs";

const CHROMIUM = "/usr/bin/chromium";
const distWeb = join(repoRoot, "dist-web");
const outDir = join(repoRoot, "test-output");
const cli = join(repoRoot, "dist/cli/main.js");
const run = promisify(execFile);

const postgres = sharedPath("data/debian-bookworm/img-postgresql.json.gz");
const archive = sharedPath("data/debian-bookworm/archive-all.json.gz");

/** `strata layer FILE ARGS...` stdout. */
async function cliLayers(file: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, "layer", file, ...args], { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

interface Server {
  url: string;
  close(): Promise<void>;
}

describe("web page in headless Chromium", () => {
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const offsite: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing (${CHROMIUM}). Install Debian's package: apt-get update && apt-get install -y chromium ` +
          "(CI does this in .ci/run). The browser test fails rather than skips without it.",
      );
    }
    if (!existsSync(join(distWeb, "index.html"))) throw new Error("dist-web/ is missing: run `npm run build` (npm test does it first)");
    mkdirSync(outDir, { recursive: true });
    server = (await startServer(distWeb)) as Server;
    profile = mkdtempSync(join(tmpdir(), "strata-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      acceptDownloads: true,
      viewport: { width: 1100, height: 1000 },
    });
    // Nothing may leave 127.0.0.1: record and abort anything else.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      offsite.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const plans = async () => Number((await page.getAttribute("body", "data-plans")) ?? 0);

  /** Clicks "Plan layers" (or runs `action`) and waits for the plan to settle. */
  async function settle(action: () => Promise<unknown>, timeout = 30_000): Promise<void> {
    const before = await plans();
    await action();
    await page.waitForFunction((n) => Number(document.body.dataset.plans ?? 0) > n, before, { timeout });
  }

  async function downloadLayers(): Promise<string> {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    return readFileSync((await download.path())!, "utf8");
  }

  async function choose(strategy: string, maxLayers = ""): Promise<void> {
    await page.selectOption("#strategy", strategy);
    if (await page.isEnabled("#max-layers")) await page.fill("#max-layers", maxLayers);
  }

  it("states and enforces that nothing is uploaded", async () => {
    expect(await page.textContent("#privacy")).toMatch(/Nothing is uploaded/);
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/connect-src 'self'/);
    // The policy is live: a request to another origin is refused by the page itself.
    const blocked = await page.evaluate(() =>
      fetch("https://example.com/").then(
        () => "fetched",
        (e: Error) => e.name,
      ),
    );
    expect(blocked).toBe("TypeError");
    expect(offsite).toEqual([]);
    // The registry's strategies are offered.
    const { strategies } = await import("../src/strategies/index.js");
    expect(await page.$$eval("#strategy option", (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(strategies.map((s) => s.name));
  });

  it("opens a .json.gz closure and downloads layers identical to the CLI's, per strategy", async () => {
    await settle(() => page.setInputFiles("#file", postgres));
    expect(await page.getAttribute("#closure-status", "data-paths")).toBe("92");
    expect(await downloadLayers()).toBe(await cliLayers(postgres));
    for (const [strategy, max] of [
      ["popularity", "30"],
      ["auto-layer", ""],
      ["nixery", ""],
      ["min-pull", "20"],
    ] as const) {
      await choose(strategy, max);
      await settle(() => page.click("#run"));
      expect(await page.getAttribute("#run-status", "class")).not.toMatch(/error/);
      const expected = await cliLayers(postgres, "--strategy", strategy, ...(max ? ["--max-layers", max] : []));
      expect(await downloadLayers(), `${strategy} ${max}`).toBe(expected);
      expect(Number(await page.getAttribute("#summary", "data-layers"))).toBe(JSON.parse(expected).length);
    }
  });

  it("opens plain .json too", async () => {
    const json = readFileSync(sharedPath("data/real/nix2container-hello-closure-graph.json"));
    await settle(() => page.setInputFiles("#file", { name: "hello.json", mimeType: "application/json", buffer: json }));
    await choose("popularity", "");
    await settle(() => page.click("#run"));
    expect(await downloadLayers()).toBe(await cliLayers(sharedPath("data/real/nix2container-hello-closure-graph.json"), "--strategy", "popularity"));
  });

  it("shows pipeline errors inline at the step, and runs a valid pipeline like the CLI", async () => {
    await settle(() => page.setInputFiles("#file", postgres));
    await choose("pipeline");
    const editor = "#pipeline";
    await page.fill(editor, '[\n  ["popularity_contest"],\n  ["limit_layer", 3]\n]');
    const issue = page.locator("#pipeline-errors li.error");
    await expect.poll(() => issue.count(), { timeout: 10_000 }).toBe(1);
    expect(await issue.getAttribute("data-location")).toBe("pipeline[1][0]");
    expect(await issue.textContent()).toMatch(/line 3.*unknown step "limit_layer"; did you mean "limit_layers"/);
    // The mark sits on the offending element in the text.
    expect(await page.textContent("#pipeline-mirror mark.error")).toBe('"limit_layer"');
    expect(await page.isDisabled("#run")).toBe(true);

    // A kind error from the static checker: limit_layers needs a list.
    await page.fill(editor, '[["limit_layers", 3]]');
    await expect.poll(() => issue.getAttribute("data-location"), { timeout: 10_000 }).toBe("pipeline[0]");
    expect(await page.textContent("#pipeline-mirror mark.error")).toBe('["limit_layers", 3]');

    // JSON syntax errors point at the character.
    await page.fill(editor, '[["popularity_contest"],, ]');
    await expect.poll(() => issue.getAttribute("data-location"), { timeout: 10_000 }).toBe("JSON");

    const pipeline = '[["subcomponent_out", ["/nix/store/does-not-exist"]], ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 5]]]]]';
    await page.fill(editor, pipeline);
    await expect.poll(() => issue.count(), { timeout: 10_000 }).toBe(0);
    expect(await page.isDisabled("#max-layers")).toBe(true);
    await settle(() => page.click("#run"));
    expect(await downloadLayers()).toBe(await cliLayers(postgres, "--pipeline", pipeline));
    await page.fill(editor, "");
  });

  it("explains a path: its layer and why", async () => {
    await choose("popularity", "10");
    await settle(() => page.click("#run"));
    const layers = JSON.parse(await downloadLayers()) as string[][];
    const merged = layers[layers.length - 1];
    await page.fill("#explain-path", merged[1].slice(11, 30));
    await page.locator("#suggestions li").first().waitFor();
    await page.fill("#explain-path", merged[1]);
    await page.click("#explain");
    await page.waitForSelector(".explain .why");
    // The rows `strata explain` prints (src/explain's explanationRows), as a definition list.
    expect(await page.textContent('[data-fact="layer"]')).toMatch(new RegExp(`^${layers.length} of ${layers.length} \\(position 2 of ${merged.length}, `));
    expect(await page.textContent('[data-fact="popularity"]')).toMatch(/^\d+ \(#\d+ in popularity_contest order\)$/);
    expect(await page.textContent('[data-fact="closure"]')).toMatch(/\d+ paths?/);
    expect(await page.textContent(".explain .why")).toMatch(/merges it into the last layer/);
    expect(await page.getAttribute(`#layer-${layers.length - 1}`, "class")).toBe("picked");
  });

  it("evaluates a series of versions with the CLI's numbers", async () => {
    await page.selectOption("#series-example", { index: 1 });
    await page.fill("#max-layers", "20");
    const before = Number((await page.getAttribute("body", "data-evaluations")) ?? 0);
    await page.click("#evaluate");
    await page.waitForFunction((n) => Number(document.body.dataset.evaluations ?? 0) > n, before, { timeout: 60_000 });
    expect(await page.getAttribute("#series-status", "class")).not.toMatch(/error/);
    expect(await page.locator("#series-result svg").count()).toBeGreaterThanOrEqual(2);
    const totals = JSON.parse((await page.getAttribute("#series-result", "data-totals"))!) as { strategy: string; pulledBytes: number }[];
    const specs = totals.map((t) => t.strategy);
    const files = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => join(repoRoot, `bench/data/webapp-v${k}.json.gz`));
    const { stdout } = await run(
      process.execPath,
      [cli, "evaluate", "--series", ...files, ...specs.flatMap((s) => ["--strategy", s]), "--max-layers", "20", "--json"],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const expected = (JSON.parse(stdout) as { strategies: { strategy: string; total: Record<string, unknown> }[] }).strategies.map((s) => ({
      strategy: s.strategy,
      ...s.total,
    }));
    expect(totals).toEqual(expected);
    await page.fill("#max-layers", "");
  });

  it("plans several closures together like `strata fleet` (issue 16)", async () => {
    const files = ["python-scipy", "postgresql", "openjdk17-maven"].map((n) => sharedPath(`data/debian-bookworm/img-${n}.json.gz`));
    await page.setInputFiles("#fleet-files", files);
    await page.fill("#fleet-budget", "12");
    const before = Number((await page.getAttribute("body", "data-fleets")) ?? 0);
    await page.click("#fleet-run");
    await page.waitForFunction((n) => Number(document.body.dataset.fleets ?? 0) > n, before, { timeout: 60_000 });
    expect(await page.getAttribute("#fleet-status", "class")).not.toMatch(/error/);
    const layers = JSON.parse((await page.getAttribute("#fleet-result", "data-layers"))!) as string[][][];
    const summary = JSON.parse((await page.getAttribute("#fleet-result", "data-summary"))!) as { registryBytes: number };
    const dir = mkdtempSync(join(tmpdir(), "strata-web-fleet-"));
    const { stdout } = await run(process.execPath, [cli, "fleet", ...files, "-o", dir, "--budget", "12", "--json", "-q"], { maxBuffer: 64 * 1024 * 1024 });
    expect(summary.registryBytes).toBe((JSON.parse(stdout) as { summary: { registryBytes: number } }).summary.registryBytes);
    ["python-scipy", "postgresql", "openjdk17-maven"].forEach((n, i) => {
      expect(layers[i]).toEqual(JSON.parse(readFileSync(join(dir, `img-${n}.json`), "utf8")));
    });
    expect(await page.locator("#fleet-result table").count()).toBe(2);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#fleet-download")]);
    expect(JSON.parse(readFileSync((await download.path())!, "utf8"))).toEqual(JSON.parse(readFileSync(join(dir, "fleet.json"), "utf8")));
  });

  it("layers the 63,667-path Debian archive in the worker while the page stays live", async () => {
    const expected = cliLayers(archive); // in parallel with the browser
    await choose("pipeline");
    // While the worker plans, this thread keeps painting: the status line is
    // rewritten every animation frame. Record each text it shows while busy.
    await page.evaluate(() => {
      const el = document.getElementById("run-status")!;
      const seen = new Set<string>();
      (window as unknown as { busyTexts: Set<string> }).busyTexts = seen;
      new MutationObserver(() => {
        if (el.classList.contains("busy")) seen.add(el.textContent ?? "");
      }).observe(el, { childList: true, characterData: true, subtree: true, attributes: true });
    });
    const before = await plans();
    await page.setInputFiles("#file", archive);
    await page.waitForFunction((n) => Number(document.body.dataset.plans ?? 0) > n, before, { timeout: 90_000 });
    const busyTexts = await page.evaluate(() => [...(window as unknown as { busyTexts: Set<string> }).busyTexts]);
    // "Planning …" and at least two different elapsed-time readings.
    expect(busyTexts.length).toBeGreaterThanOrEqual(3);
    expect(busyTexts.every((t) => t.startsWith("Planning archive-all.json.gz with pipeline"))).toBe(true);
    expect(await page.getAttribute("#closure-status", "data-paths")).toBe("63667");
    expect(await downloadLayers()).toBe(await expected);
    const metrics = await page.evaluate(() => window.strataMetrics.runs.slice(-2));
    writeFileSync(join(outDir, "web-metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
    console.log("archive-all in the browser worker:", JSON.stringify(metrics));
    expect(metrics.map((m) => m.op)).toEqual(["load", "layer"]);
  }, 150_000);

  it("saves a screenshot", async () => {
    await choose("auto-layer");
    await settle(() => page.selectOption("#example", { index: 1 }));
    const path = page.locator("#layers tbody tr").nth(3).locator("code.path").first();
    await path.click();
    await page.waitForSelector(".explain .why");
    await page.evaluate(() => window.scrollTo(0, 0));
    const file = join(outDir, "web.png");
    await page.screenshot({ path: file, fullPage: true });
    // The top of the page (closure, strategy, chart, explanation): docs/web.png is a copy.
    await page.screenshot({ path: join(outDir, "web-top.png"), fullPage: true, clip: { x: 0, y: 0, width: 1100, height: 1500 } });
    expect(readFileSync(file).subarray(1, 4).toString()).toBe("PNG");
    expect(pageErrors).toEqual([]);
    expect(offsite).toEqual([]);
  });
});
