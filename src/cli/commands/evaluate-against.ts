// `strata evaluate --against docker://HOST/REPO:TAG IMAGE`: the compressed
// bytes a client holding that tag pulls for IMAGE (an OCI layout[:tag]), from
// the remote manifest alone; --max-pull makes it a CI gate (exit 3).
import { UsageError } from "../../errors.js";
import { formatBytes, textTable } from "../../report/format.js";
import { fetchRemoteManifest, pullCost, type PullCost } from "../../registry/against.js";
import { readLayout, type Platform } from "../../registry/layout.js";
import { parseImageReference } from "../../registry/reference.js";
import { parseCommandArgs, type CliIo } from "../command.js";
import { messages } from "../messages.js";
import { parseSize } from "../plan.js";

const stringOption = (v: string | boolean | (string | boolean)[] | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/** Exit code when the pull exceeds --max-pull (distinct from 2, bad usage, and 1, internal error). */
export const EXIT_MAX_PULL = 3;

export const againstHelp = `
Against a registry (the update a client really pulls):
  strata evaluate --against docker://HOST/REPO:TAG IMAGE [--max-pull SIZE]

  IMAGE is an OCI image layout, DIR or DIR:TAG. Only the remote manifest is
  read (no blob is downloaded); for an index, the manifest of IMAGE's platform
  (or --platform). Every blob of IMAGE (config and layers) whose digest the
  remote image lacks is priced at its size in the layout, i.e. its compressed
  size: the bytes a client holding TAG (docker, podman, containerd, skopeo into
  an OCI directory) downloads.
  --max-pull SIZE         exit ${EXIT_MAX_PULL} when the pull exceeds SIZE (CI gate)
  --platform OS/ARCH[/VARIANT]  the platform to pick from a remote index
  --authfile FILE, --insecure   as for 'strata push'
  --json                  the layer-by-layer report as JSON
  Exit codes: 0 within the limit, ${EXIT_MAX_PULL} above --max-pull, 2 bad usage or
  the registry refused/unreachable.
  Example: strata evaluate --against docker://ghcr.io/me/app:v1 ./oci:v2 --max-pull 50M
`;

/** --platform OS/ARCH[/VARIANT] (the platform picked from a remote index); shared with `fleet --existing docker://`. */
export function parsePlatformOption(command: string, text: string | undefined): Platform | undefined {
  if (text === undefined) return undefined;
  const [os, architecture, variant, ...more] = text.split("/");
  if (!os || !architecture || more.length > 0) throw new UsageError(`${command}: --platform expects OS/ARCH[/VARIANT], e.g. linux/amd64, got "${text}"`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export async function runEvaluateAgainst(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("evaluate", args, {
    against: { type: "string" },
    "max-pull": { type: "string" },
    platform: { type: "string" },
    authfile: { type: "string" },
    insecure: { type: "boolean" },
    json: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  const against = stringOption(values.against);
  if (against === undefined) throw new UsageError("evaluate: --against needs a reference, e.g. --against docker://127.0.0.1:5000/app:v1");
  if (positionals.length !== 1) throw new UsageError(`evaluate --against: expected one IMAGE (an OCI layout DIR or DIR:TAG), got ${positionals.length}`);
  const ref = parseImageReference(against, "evaluate: --against");
  const maxPull = parseSize("max-pull", stringOption(values["max-pull"]));
  const platform = parsePlatformOption("evaluate", stringOption(values.platform));
  const image = await readLayout(positionals[0]);
  const remote = await fetchRemoteManifest(ref, platform ?? image.platform, {
    insecure: values.insecure === true,
    env: io.env,
    ...(stringOption(values.authfile) !== undefined ? { authfile: stringOption(values.authfile) } : {}),
    onRetry: (line) => messages(io, values.quiet === true).warn(line),
  });
  const cost = pullCost(image, remote);
  const exceeded = maxPull !== undefined && cost.pullBytes > maxPull;
  if (values.json === true) io.out(JSON.stringify({ ...cost, ...(maxPull !== undefined ? { maxPull, exceeded } : {}) }, null, 2) + "\n");
  else io.out(againstText(cost, maxPull));
  if (exceeded) {
    messages(io, values.quiet === true).warn(
      `the update pulls ${formatBytes(cost.pullBytes)} (${cost.pullBytes} bytes), above --max-pull ${formatBytes(maxPull)} (${maxPull} bytes)`,
    );
    return EXIT_MAX_PULL;
  }
  return 0;
}

export function againstText(c: PullCost, maxPull?: number): string {
  const rows = c.blobs.map((b) => [b.kind === "config" ? "config" : String(b.index), b.status, String(b.size), formatBytes(b.size), b.digest.slice(0, 19)]);
  const out = [
    `${c.image} (${c.imageDigest.slice(0, 19)}) against ${c.against}${c.againstDigest ? ` (${c.againstDigest.slice(0, 19)})` : ""}`,
    textTable(["layer", "status", "bytes", "size", "digest"], rows),
    `new layers: ${c.newLayers} (${c.newLayerBytes} bytes), kept: ${c.keptLayers} (${c.keptLayerBytes} bytes), config ${c.configBytes} bytes`,
    `pull: ${c.pullBytes} bytes (${formatBytes(c.pullBytes)}) of ${c.imageBytes} (${formatBytes(c.imageBytes)}) for the whole image${maxPull !== undefined ? `; --max-pull ${maxPull} bytes: ${c.pullBytes > maxPull ? "EXCEEDED" : "ok"}` : ""}`,
  ];
  return out.join("\n") + "\n";
}
