// Existing layers read from a registry (Node only): the manifests of given
// references (docker://HOST/REPO:TAG), fetched with the registry client (auth,
// retries, index -> platform as `evaluate --against` does). Only manifests are
// read, no blob: the store paths of a layer come from the
// org.strata.store-paths annotation `strata build --format oci` writes.
import { fetchRemoteManifest } from "../registry/against.js";
import type { ClientOptions } from "../registry/client.js";
import type { Platform } from "../registry/layout.js";
import { formatReference, parseImageReference, type ImageReference } from "../registry/reference.js";
import type { Layers } from "../strategies/types.js";
import { manifestLayers, STORE_PATHS_ANNOTATION } from "./document.js";

export interface RegistryExistingOptions extends ClientOptions {
  /** The platform to pick when a reference names an index (default linux/amd64). */
  readonly platform?: Platform;
}

export interface RegistryExistingImage {
  readonly reference: string;
  readonly manifestDigest?: string;
  /** Layers of the manifest that carry the store-paths annotation (and hold paths). */
  readonly layers: number;
  /** Layers without the annotation (e.g. a customisation layer, or an image not built by strata): ignored. */
  readonly unannotatedLayers: number;
}

export interface RegistryExisting {
  /** The store-path layers of every reference, in the order given (duplicates are harmless to planFleet). */
  readonly layers: Layers;
  readonly images: readonly RegistryExistingImage[];
  /** Sum of `unannotatedLayers` over the images. */
  readonly unannotatedLayers: number;
}

/**
 * The existing layers of the images `references` name in their registries,
 * ready for `planFleet({existing})`. An unreachable registry, a refusal or a
 * missing tag rejects with a RegistryError; a bad reference with a UsageError.
 */
export async function existingLayersFromRegistry(
  references: readonly (string | ImageReference)[],
  options: RegistryExistingOptions = {},
): Promise<RegistryExisting> {
  const { platform, ...client } = options;
  const refs = references.map((r) => (typeof r === "string" ? parseImageReference(r, "--existing") : r));
  const layers: string[][] = [];
  const images: RegistryExistingImage[] = [];
  for (const ref of refs) {
    const remote = await fetchRemoteManifest(ref, platform, client);
    const what = `--existing ${formatReference(ref)}`;
    const found = manifestLayers(remote.manifest, what) ?? [];
    const unannotated = remote.manifest.layers.filter((d) => d.annotations?.[STORE_PATHS_ANNOTATION] === undefined).length;
    layers.push(...found);
    images.push({
      reference: remote.reference,
      ...(remote.manifestDigest !== undefined ? { manifestDigest: remote.manifestDigest } : {}),
      layers: found.length,
      unannotatedLayers: unannotated,
    });
  }
  return { layers, images, unannotatedLayers: images.reduce((s, i) => s + i.unannotatedLayers, 0) };
}
