// Pushing one image of an OCI layout to one or more repositories of a
// registry: HEAD each blob and skip what is there, mount what another
// repository of the same registry holds, upload the rest (monolithic, or in
// chunks above the chunk size), and PUT the manifest only when every blob is
// in place. A push that is interrupted and run again HEAD-skips every blob the
// first run completed, so nothing is uploaded twice.
import { stat } from "node:fs/promises";
import { InputError, RegistryError } from "../errors.js";
import { errorText, header, isRetryable, RegistryClient, type ClientOptions, type Response } from "./client.js";
import { uniqueBlobs, type Descriptor, type LayoutImage } from "./layout.js";
import { formatReference, type ImageReference } from "./reference.js";

export interface PushOptions extends ClientOptions {
  /** Blobs larger than this go up in PATCH chunks of this size (default 64 MiB); 0 = always chunked. */
  readonly chunkSize?: number;
  /** Other repositories of the destination registry that may hold the blobs (cross-repository mount). */
  readonly mountFrom?: readonly string[];
  /** Tags to set besides each destination's own. */
  readonly tags?: readonly string[];
  /** Blobs uploaded side by side (default 3). */
  readonly concurrency?: number;
  /** One line per blob as it completes (for progress). */
  readonly onBlob?: (repository: string, blob: BlobReport) => void;
}

export type BlobAction = "uploaded" | "mounted" | "existing";

export interface BlobReport {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly action: BlobAction;
  /** The repository it was mounted from. */
  readonly from?: string;
  /** Upload attempts (1 = no retry). */
  readonly attempts?: number;
  /** PATCH requests of a chunked upload (0 = monolithic PUT). */
  readonly chunks?: number;
}

export interface DestinationReport {
  readonly reference: string;
  readonly repository: string;
  readonly tags: readonly string[];
  readonly manifestDigest: string;
  readonly blobs: readonly BlobReport[];
  readonly bytesUploaded: number;
  readonly bytesMounted: number;
  readonly bytesExisting: number;
}

export interface PushReport {
  readonly image: string;
  readonly manifestDigest: string;
  readonly destinations: readonly DestinationReport[];
  /** Blob bytes uploaded (each blob once per repository it was uploaded to). */
  readonly bytesUploaded: number;
  /** Blob bytes not uploaded: mounted from another repository or already present. */
  readonly bytesSkipped: number;
  readonly bytesMounted: number;
  readonly bytesExisting: number;
  /** Request body bytes actually sent, retried attempts included. */
  readonly bytesSent: number;
  /** Retries over all requests and uploads. */
  readonly retries: number;
}

const DEFAULT_CHUNK = 64 * 1024 * 1024;

/** Pushes `image` to every destination (the same registry or several). */
export async function pushImage(image: LayoutImage, destinations: readonly ImageReference[], options: PushOptions = {}): Promise<PushReport> {
  const blobs = uniqueBlobs(image.manifest);
  // Every blob must be in the layout with its declared size before anything is sent.
  for (const b of blobs) {
    let size: number;
    try {
      size = (await stat(image.blobPath(b.digest))).size;
    } catch {
      throw new InputError("unsupported-shape", `${image.dir}: blob ${b.digest} (${b.mediaType}) is missing from the layout`);
    }
    if (size !== b.size) throw new InputError("bad-entry", `${image.dir}: blob ${b.digest} has ${size} bytes, the manifest says ${b.size}`);
  }
  const clients = new Map<string, RegistryClient>();
  /** host -> digest -> repositories known to hold it. */
  const known = new Map<string, Map<string, string[]>>();
  let retries = 0;
  let bytesSent = 0;
  const reports: DestinationReport[] = [];
  try {
    for (const dest of destinations) {
      let client = clients.get(dest.endpoint);
      if (!client) {
        client = new RegistryClient(dest, { ...options, onRetry: (line) => (retries++, options.onRetry?.(line)) });
        clients.set(dest.endpoint, client);
      }
      let holders = known.get(dest.endpoint);
      if (!holders) known.set(dest.endpoint, (holders = new Map()));
      const sources = (options.mountFrom ?? []).filter((r) => r !== dest.repository);
      await client.authorize([`repository:${dest.repository}:pull,push`, ...sources.map((r) => `repository:${r}:pull`)]);
      const pusher = new BlobPusher(client, dest.repository, image, options, holders, sources);
      const results = await mapLimit(blobs, options.concurrency ?? 3, async (b) => {
        const r = await pusher.push(b);
        options.onBlob?.(dest.repository, r);
        return r;
      });
      bytesSent += pusher.bytesSent;
      for (const r of results) {
        const list = holders.get(r.digest) ?? [];
        if (!list.includes(dest.repository)) list.push(dest.repository);
        holders.set(r.digest, list);
      }
      // Every blob is in place: now, and only now, the manifest.
      const tags = [...new Set([...(dest.tag !== undefined ? [dest.tag] : []), ...(options.tags ?? [])])];
      const targets = tags.length > 0 ? tags : [image.descriptor.digest];
      for (const t of targets) {
        const res = await client.request({
          method: "PUT",
          url: `/v2/${dest.repository}/manifests/${t}`,
          headers: { "content-type": image.manifest.mediaType },
          body: image.manifestBytes,
          retry: true,
        });
        bytesSent += image.manifestBytes.length;
        if (res.status !== 201 && res.status !== 200) throw refused(`PUT manifest ${dest.repository}:${t}`, res);
        const got = header(res, "docker-content-digest");
        if (got !== undefined && got !== image.descriptor.digest) {
          throw new RegistryError(
            "protocol",
            `${dest.host}/${dest.repository}:${t}: the registry stored the manifest as ${got}, not ${image.descriptor.digest}`,
          );
        }
      }
      const sum = (a: BlobAction) => results.filter((r) => r.action === a).reduce((s, r) => s + r.size, 0);
      reports.push({
        reference: formatReference(dest),
        repository: dest.repository,
        tags,
        manifestDigest: image.descriptor.digest,
        blobs: results,
        bytesUploaded: sum("uploaded"),
        bytesMounted: sum("mounted"),
        bytesExisting: sum("existing"),
      });
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
  const total = (k: "bytesUploaded" | "bytesMounted" | "bytesExisting") => reports.reduce((s, r) => s + r[k], 0);
  return {
    image: `${image.dir}${image.tag !== undefined ? `:${image.tag}` : ""}`,
    manifestDigest: image.descriptor.digest,
    destinations: reports,
    bytesUploaded: total("bytesUploaded"),
    bytesSkipped: total("bytesMounted") + total("bytesExisting"),
    bytesMounted: total("bytesMounted"),
    bytesExisting: total("bytesExisting"),
    bytesSent,
    retries,
  };
}

class BlobPusher {
  bytesSent = 0;
  constructor(
    private readonly client: RegistryClient,
    private readonly repo: string,
    private readonly image: LayoutImage,
    private readonly options: PushOptions,
    private readonly holders: Map<string, string[]>,
    private readonly sources: readonly string[],
  ) {}

  private async exists(repo: string, digest: string): Promise<boolean> {
    const res = await this.client.request({ method: "HEAD", url: `/v2/${repo}/blobs/${digest}`, retry: true });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw refused(`HEAD blob ${digest} in ${repo}`, res);
  }

  async push(b: Descriptor): Promise<BlobReport> {
    const base = { digest: b.digest, size: b.size, mediaType: b.mediaType };
    if (await this.exists(this.repo, b.digest)) return { ...base, action: "existing" };
    // A repository that holds it: one this run pushed to, else a --mount-from repository that has it.
    let from = (this.holders.get(b.digest) ?? []).find((r) => r !== this.repo);
    if (from === undefined) {
      for (const r of this.sources) {
        if (await this.exists(r, b.digest).catch(() => false)) {
          from = r;
          break;
        }
      }
    }
    let attempts = 0;
    const chunkSize = this.options.chunkSize ?? DEFAULT_CHUNK;
    const chunked = b.size > chunkSize || chunkSize === 0;
    // A chunked upload interrupted at a chunk boundary continues in the same session: the bytes
    // the registry already holds (its Range) are not sent again.
    let resume: { location: string; offset: number } | undefined;
    let chunks = 0;
    for (;;) {
      attempts++;
      try {
        let location: string;
        let offset = 0;
        if (resume !== undefined) {
          ({ location, offset } = resume);
        } else if (from !== undefined) {
          const res = await this.client.request({
            method: "POST",
            url: `/v2/${this.repo}/blobs/uploads/?mount=${encodeURIComponent(b.digest)}&from=${encodeURIComponent(from)}`,
            retry: false,
          });
          if (res.status === 201) return { ...base, action: "mounted", from };
          if (res.status !== 202) throw refused(`mount ${b.digest} from ${from}`, res);
          from = undefined; // not mountable after all: upload into the session the registry opened
          location = this.location(res);
        } else {
          location = await this.start();
        }
        const file = this.image.blobPath(b.digest);
        if (chunked) {
          const step = chunkSize === 0 ? DEFAULT_CHUNK : chunkSize;
          for (let start = offset; start < b.size; start += step) {
            const length = Math.min(step, b.size - start);
            resume = { location, offset: start };
            this.bytesSent += length;
            const res = await this.client.request({
              method: "PATCH",
              url: location,
              headers: { "content-type": "application/octet-stream", "content-range": `${start}-${start + length - 1}` },
              body: { file, start, length },
              retry: false,
            });
            if (res.status !== 202) throw refused(`PATCH ${b.digest} bytes ${start}-${start + length - 1}`, res);
            location = this.location(res);
            chunks++;
          }
          resume = { location, offset: b.size };
          const res = await this.client.request({ method: "PUT", url: withDigest(location, b.digest), retry: false });
          if (res.status !== 201) throw refused(`PUT ${b.digest} (end of chunked upload)`, res);
        } else {
          this.bytesSent += b.size;
          const res = await this.client.request({
            method: "PUT",
            url: withDigest(location, b.digest),
            headers: { "content-type": "application/octet-stream" },
            body: { file, start: 0, length: b.size },
            retry: false,
          });
          if (res.status !== 201) throw refused(`PUT ${b.digest}`, res);
        }
        return { ...base, action: "uploaded", attempts, chunks };
      } catch (e) {
        if (!isRetryable(e) || attempts > this.client.retries) throw e;
        await this.client.backoff(attempts, `upload of ${b.digest.slice(0, 19)}… to ${this.repo}: ${(e as Error).message}`);
        // The failed attempt may have completed on the registry's side.
        if (await this.exists(this.repo, b.digest).catch(() => false)) return { ...base, action: "uploaded", attempts, chunks };
        resume = resume === undefined ? undefined : await this.uploadStatus(resume.location).catch(() => undefined);
      }
    }
  }

  /**
   * Where an upload session stands (GET on its location: 204 with Range
   * "0-LAST" and a fresh Location), or undefined when the registry no longer
   * has it. Distribution, for one, drops a session whose PATCH was cut
   * mid-body (its offset no longer matches), so such an upload starts over.
   */
  private async uploadStatus(location: string): Promise<{ location: string; offset: number } | undefined> {
    const res = await this.client.request({ method: "GET", url: location, retry: true });
    if (res.status !== 204) return undefined;
    // "0-0" is what distribution says for both 0 and 1 byte held: start over rather than guess.
    const range = /^0-(\d+)$/.exec(header(res, "range") ?? "");
    if (range === null || Number(range[1]) === 0) return undefined;
    return { location: header(res, "location") !== undefined ? this.location(res) : location, offset: Number(range[1]) + 1 };
  }

  private async start(): Promise<string> {
    const res = await this.client.request({ method: "POST", url: `/v2/${this.repo}/blobs/uploads/`, retry: false });
    if (res.status !== 202) throw refused(`start upload to ${this.repo}`, res);
    return this.location(res);
  }

  private location(res: Response): string {
    const loc = header(res, "location");
    if (loc === undefined) throw new RegistryError("protocol", `the registry opened an upload without a Location header (HTTP ${res.status})`);
    return this.client.resolve(loc);
  }
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set("digest", digest);
  return u.toString();
}

function refused(what: string, res: Response): RegistryError {
  const status = res.status;
  const code = status === 404 ? "not-found" : status >= 500 ? "network" : "refused";
  return new RegistryError(code, `${what}: the registry answered ${errorText(res)}`, status);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        out[i] = await f(items[i]);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}
