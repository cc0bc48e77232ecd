// `strata push LAYOUT[:TAG] docker://HOST/REPO:TAG ...`: an OCI layout's image
// to a registry (src/registry/).
import { UsageError } from "../../errors.js";
import { formatBytes } from "../../report/format.js";
import { readLayout } from "../../registry/layout.js";
import { pushImage, type PushReport } from "../../registry/push.js";
import { isValidTag, parseImageReference, type ImageReference } from "../../registry/reference.js";
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command, type ParsedArgs } from "../command.js";
import { messages } from "../messages.js";
import { parseSize } from "../plan.js";

const stringOption = (v: string | boolean | (string | boolean)[] | undefined): string | undefined => (typeof v === "string" ? v : undefined);

const help = `Usage: strata push LAYOUT[:TAG] docker://HOST/REPO[:TAG] [docker://... ...] [options]

Pushes one image of an OCI image layout (a directory with oci-layout and
index.json, as 'strata build --format oci', skopeo or umoci write it) to a
registry that speaks the OCI distribution API. TAG after LAYOUT picks the
image by its org.opencontainers.image.ref.name (needed when the layout holds
several). Several destinations push the same image to several repositories;
blobs pushed to the first are mounted into the next ones on the same registry.

For every blob (config and layers): HEAD, and skip it when the repository has
it; else mount it from a repository of the same registry known to hold it
(pushed earlier in this run, or named by --mount-from); else upload it
(monolithic, or in PATCH chunks above --chunk-size). The manifest is PUT last,
only when every blob is in place, so an interrupted push never leaves a
manifest without its blobs; run the same command again and it completes,
uploading only what is missing. Failed requests (HTTP 5xx/429, dropped
connections) are retried with exponential backoff.

Options:
  --tag TAG               also tag the image TAG (repeatable)
  --mount-from REPO       a repository of the destination registry that may
                          hold the blobs (repeatable), e.g. team/base
  --chunk-size SIZE       blobs larger than SIZE go up in chunks of SIZE
                          (default 64M; 0 = always chunked)
  --retries N             retries per request or upload (default 4)
  --authfile FILE         credentials file (docker config.json or containers
                          auth.json); default: $REGISTRY_AUTH_FILE,
                          $XDG_RUNTIME_DIR/containers/auth.json,
                          ~/.config/containers/auth.json, ~/.docker/config.json
  --insecure              allow plain HTTP and unverified TLS for a host that
                          is not loopback (loopback hosts may use HTTP anyway)
  --json                  print the report as JSON
  --verbose, -v           one line per blob and per retry on stderr
  --quiet, -q             no messages on stderr

Auth: Basic credentials, or the Bearer token flow of the registry's
WWW-Authenticate challenge (Docker Hub, GHCR, Quay, GitLab, Harbor, ...),
with the credentials of the auth files above. Credential helpers are not run.

Output: bytes uploaded, and bytes skipped (mounted or already present).
Exit codes: 0 pushed, 2 bad usage, layout or a registry refusal/unreachable
(after the retries), 1 internal error.

Examples:
  strata push ./image-oci:v2 docker://registry.example.com/team/app:v2
  strata push ./image-oci docker://127.0.0.1:5000/app:v2 --tag latest --json
  strata push ./image-oci docker://ghcr.io/me/app:v2 --mount-from me/base
`;

export const pushCommand: Command = {
  name: "push",
  summary: "push an OCI layout's image to a registry (skips and mounts what it has)",
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs("push", args, {
      tag: { type: "string", multiple: true },
      "mount-from": { type: "string", multiple: true },
      "chunk-size": { type: "string" },
      retries: { type: "string" },
      authfile: { type: "string" },
      insecure: { type: "boolean" },
      json: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      quiet: { type: "boolean", short: "q" },
    });
    if (positionals.length < 2)
      throw new UsageError(
        `push: expected LAYOUT[:TAG] and at least one docker://HOST/REPO:TAG, got ${positionals.length} argument(s). See 'strata push --help'.`,
      );
    const quiet = values.quiet === true;
    const verbose = values.verbose === true && !quiet;
    const msg = messages(io, quiet);
    const destinations = positionals.slice(1).map((p) => parseImageReference(p, "push: destination"));
    const tags = (values.tag as string[] | undefined) ?? [];
    for (const t of tags) if (!isValidTag(t)) throw new UsageError(`push: --tag "${t}" is not a valid tag`);
    const retries = parseIntegerOption("push", "retries", stringOption(values.retries));
    if (retries !== undefined && (retries < 0 || retries > 20)) throw new UsageError(`push: --retries must be between 0 and 20, got ${retries}`);
    const chunkSize = parseSize("chunk-size", stringOption(values["chunk-size"]));
    const image = await readLayout(positionals[0]);
    const report = await pushImage(image, destinations, {
      tags,
      mountFrom: (values["mount-from"] as string[] | undefined) ?? [],
      ...(chunkSize !== undefined ? { chunkSize } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(stringOption(values.authfile) !== undefined ? { authfile: stringOption(values.authfile) } : {}),
      insecure: values.insecure === true,
      env: io.env,
      onRetry: (line) => msg.warn(line),
      onBlob: verbose
        ? (repo, b) =>
            msg.info(
              `${repo}: ${b.action.padEnd(8)} ${b.digest} ${formatBytes(b.size)}${b.from ? ` from ${b.from}` : ""}${b.chunks ? ` in ${b.chunks} chunks` : ""}`,
            )
        : undefined,
    });
    io.out(values.json === true ? JSON.stringify(report, null, 2) + "\n" : pushText(report));
    return 0;
  },
};

export function pushText(r: PushReport): string {
  const lines: string[] = [];
  for (const d of r.destinations) {
    const count = (a: string) => d.blobs.filter((b) => b.action === a).length;
    lines.push(`${d.reference}${d.tags.length > 1 ? ` (tags ${d.tags.join(", ")})` : ""}: manifest ${d.manifestDigest}`);
    lines.push(`  uploaded ${count("uploaded")} blob(s), ${formatBytes(d.bytesUploaded)} (${d.bytesUploaded} bytes)`);
    lines.push(`  mounted  ${count("mounted")} blob(s), ${formatBytes(d.bytesMounted)} (${d.bytesMounted} bytes)`);
    lines.push(`  existing ${count("existing")} blob(s), ${formatBytes(d.bytesExisting)} (${d.bytesExisting} bytes)`);
  }
  lines.push(
    `total: ${r.bytesUploaded} bytes uploaded, ${r.bytesSkipped} bytes skipped${r.retries ? `, ${r.retries} retr${r.retries === 1 ? "y" : "ies"}` : ""}`,
  );
  return lines.join("\n") + "\n";
}

// ---- strata build --push (a small hook in build.ts)

export const pushAfterBuildSpecs = {
  push: { type: "string", multiple: true },
  "mount-from": { type: "string", multiple: true },
  authfile: { type: "string" },
  insecure: { type: "boolean" },
} as const;

export const pushAfterBuildHelp = `Push (see 'strata push --help'):
  --push docker://HOST/REPO:TAG   after building, push the OCI layout written
                          with --format oci -o DIR (repeatable; the push
                          report goes to stderr)
  --mount-from REPO, --authfile FILE, --insecure   as for 'strata push'
`;

/** Validates --push before anything is built; returns the destinations. */
export function checkPushAfterBuild(values: ParsedArgs["values"], format: string, output: string | undefined): ImageReference[] | undefined {
  const refs = (values.push as string[] | undefined) ?? [];
  if (refs.length === 0) {
    for (const k of ["mount-from", "authfile", "insecure"]) if (values[k] !== undefined) throw new UsageError(`build: --${k} goes with --push`);
    return undefined;
  }
  if (format !== "oci" || output === undefined || output === "-") {
    throw new UsageError(
      `build: --push pushes an OCI layout: use --format oci -o DIR (got --format ${format}${output === undefined || output === "-" ? " to stdout" : ""}); a docker-archive can be pushed with skopeo copy docker-archive:FILE docker://...`,
    );
  }
  return refs.map((r) => parseImageReference(r, "build: --push"));
}

export async function pushAfterBuild(dir: string, destinations: readonly ImageReference[], values: ParsedArgs["values"], io: CliIo): Promise<PushReport> {
  const msg = messages(io, values.quiet === true);
  const report = await pushImage(await readLayout(dir), destinations, {
    mountFrom: (values["mount-from"] as string[] | undefined) ?? [],
    ...(stringOption(values.authfile) !== undefined ? { authfile: stringOption(values.authfile) } : {}),
    insecure: values.insecure === true,
    env: io.env,
    onRetry: (line) => msg.warn(line),
  });
  if (values.quiet !== true) io.err(pushText(report));
  return report;
}
