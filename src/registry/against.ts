// What a client holding a tag pulls for a new image: the remote manifest is
// read (no blob is downloaded), and every blob of the new image whose digest the
// old image lacks is priced at its compressed size, as a registry serves it.
// A client that pulls into a store holding the old image (skopeo into an OCI
// directory, containerd, podman) fetches exactly the manifest plus these blobs.
import { RegistryError } from "../errors.js";
import { errorText, header, RegistryClient, type ClientOptions } from "./client.js";
import { imageManifestOf, MEDIA, parseImageManifest, uniqueBlobs, type Descriptor, type ImageManifest, type LayoutImage, type Platform } from "./layout.js";
import { formatReference, type ImageReference } from "./reference.js";

export interface RemoteImage {
  readonly reference: string;
  /** Digest of the image manifest read (for an index: of the platform's manifest). */
  readonly manifestDigest?: string;
  readonly manifest: ImageManifest;
  /** When the tag names an index: the platform chosen. */
  readonly platform?: Platform;
}

const ACCEPT = [MEDIA.ociManifest, MEDIA.dockerManifest, MEDIA.ociIndex, MEDIA.dockerList].join(", ");

/** GETs the manifest of `ref`; from an index, the manifest of `platform` (default linux/amd64). */
export async function fetchRemoteManifest(ref: ImageReference, platform: Platform | undefined, options: ClientOptions = {}): Promise<RemoteImage> {
  const client = new RegistryClient(ref, options);
  try {
    await client.authorize([`repository:${ref.repository}:pull`]);
    const target = ref.digest ?? ref.tag ?? "latest";
    const get = async (reference: string) => {
      const res = await client.request({
        method: "GET",
        url: `/v2/${ref.repository}/manifests/${reference}`,
        headers: { accept: ACCEPT },
        retry: true,
        maxBody: 8 << 20,
      });
      if (res.status === 404) throw new RegistryError("not-found", `${formatReference(ref)}: no such manifest (${errorText(res)})`, 404);
      if (res.status !== 200) throw new RegistryError("refused", `GET manifest ${formatReference(ref)}: ${errorText(res)}`, res.status);
      const type = (header(res, "content-type") ?? "").split(";")[0].trim();
      return { res, type, digest: header(res, "docker-content-digest") };
    };
    const first = await get(target);
    let doc: { mediaType?: string; manifests?: unknown };
    try {
      doc = JSON.parse(first.res.body.toString("utf8")) as typeof doc;
    } catch {
      throw new RegistryError("protocol", `${formatReference(ref)}: the manifest is not JSON`);
    }
    const isIndex =
      first.type === MEDIA.ociIndex ||
      first.type === MEDIA.dockerList ||
      doc.mediaType === MEDIA.ociIndex ||
      doc.mediaType === MEDIA.dockerList ||
      (Array.isArray(doc.manifests) && (doc as { layers?: unknown }).layers === undefined);
    if (!isIndex) {
      if (first.type === "application/vnd.docker.distribution.manifest.v1+json" || first.type === "application/vnd.docker.distribution.manifest.v1+prettyjws") {
        throw new RegistryError(
          "protocol",
          `${formatReference(ref)} is a schema 1 manifest, which carries no blob sizes; re-push it as OCI or docker v2 schema 2`,
        );
      }
      return {
        reference: formatReference(ref),
        ...(first.digest ? { manifestDigest: first.digest } : {}),
        manifest: imageManifestOf(doc, formatReference(ref)),
      };
    }
    const want = platform ?? { os: "linux", architecture: "amd64" };
    const entries = (doc.manifests as Descriptor[]).filter((m) => m && typeof m.digest === "string");
    const match = entries.find(
      (m) =>
        m.platform?.os === want.os && m.platform?.architecture === want.architecture && (want.variant === undefined || m.platform?.variant === want.variant),
    );
    if (!match) {
      const have = entries
        .map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ""}` : "?"))
        .join(", ");
      throw new RegistryError(
        "not-found",
        `${formatReference(ref)} is an index without ${want.os}/${want.architecture}${want.variant ? `/${want.variant}` : ""} (it has ${have || "no platforms"})`,
      );
    }
    const second = await get(match.digest);
    return {
      reference: formatReference(ref),
      manifestDigest: match.digest,
      manifest: parseImageManifest(second.res.body, `${formatReference(ref)}@${match.digest}`),
      platform: match.platform ?? want,
    };
  } finally {
    client.close();
  }
}

export interface PulledBlob {
  readonly kind: "config" | "layer";
  /** Index among the new image's layers (bottom = 0); -1 for the config. */
  readonly index: number;
  readonly digest: string;
  readonly size: number;
  readonly status: "new" | "kept";
}

export interface PullCost {
  readonly against: string;
  readonly againstDigest?: string;
  readonly image: string;
  readonly imageDigest: string;
  readonly blobs: readonly PulledBlob[];
  /** Compressed bytes a client holding `against` downloads: new layers and the config, each digest once. */
  readonly pullBytes: number;
  readonly newLayers: number;
  readonly keptLayers: number;
  readonly newLayerBytes: number;
  readonly keptLayerBytes: number;
  readonly configBytes: number;
  /** The whole new image (config + layers), what a client without the old one pulls. */
  readonly imageBytes: number;
}

/** Prices the new image against the remote one: digest equality decides what a client already holds. */
export function pullCost(image: LayoutImage, remote: RemoteImage): PullCost {
  const held = new Set<string>([remote.manifest.config.digest, ...remote.manifest.layers.map((l) => l.digest)]);
  const fetched = new Set<string>();
  const blobs: PulledBlob[] = [];
  let pullBytes = 0;
  const add = (kind: PulledBlob["kind"], index: number, d: Descriptor) => {
    const kept = held.has(d.digest) || fetched.has(d.digest);
    if (!kept) {
      fetched.add(d.digest);
      pullBytes += d.size;
    }
    blobs.push({ kind, index, digest: d.digest, size: d.size, status: held.has(d.digest) ? "kept" : "new" });
  };
  add("config", -1, image.manifest.config);
  image.manifest.layers.forEach((l, i) => add("layer", i, l));
  const layers = blobs.filter((b) => b.kind === "layer");
  return {
    against: remote.reference,
    ...(remote.manifestDigest ? { againstDigest: remote.manifestDigest } : {}),
    image: `${image.dir}${image.tag !== undefined ? `:${image.tag}` : ""}`,
    imageDigest: image.descriptor.digest,
    blobs,
    pullBytes,
    newLayers: layers.filter((b) => b.status === "new").length,
    keptLayers: layers.filter((b) => b.status === "kept").length,
    newLayerBytes: layers.filter((b) => b.status === "new").reduce((s, b) => s + b.size, 0),
    keptLayerBytes: layers.filter((b) => b.status === "kept").reduce((s, b) => s + b.size, 0),
    configBytes: image.manifest.config.size,
    imageBytes: uniqueBlobs(image.manifest).reduce((a, d) => a + d.size, 0),
  };
}
