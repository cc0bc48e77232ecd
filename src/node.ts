// Node-only additions to the library: reading files and stdin (gzip detected
// by content) and atomic writes.
export { readTextInput, readJsonInput, readClosureInput, writeFileAtomic } from "./io/node.js";
// Worker threads (issue 8): the worker API, pools, layerMany.
export {
  createNodeWorker,
  createNodePool,
  spawnNodeWorker,
  layerMany,
  plannersInWorkers,
  type NodeWorkerOptions,
  type NodePoolOptions,
} from "./worker/node.js";
export { StrataWorker, type StrataRemote, type WorkerHost } from "./worker/client.js";
export { StrataPool, type PoolOptions, type PoolClosure } from "./worker/pool.js";
export { WorkerCrashedError } from "./worker/errors.js";
export type { ClosureInfo, ClosureInput, LayerRequest, LayerResult, EvaluationRequest, PlannerSpec } from "./worker/service.js";
export type { Explanation } from "./explain/index.js";
// Building images (issue 14): docker-archive byte for byte nixpkgs' stream_layered_image.py.
export {
  buildImage,
  buildImageFromConf,
  imageSpec,
  imageSpecFromConfFile,
  writeDockerArchive,
  checkPlanAgainstClosure,
  type BuildImageOptions,
  type BuildResult,
  type BuiltLayer,
  type ImageOptions,
  type BuildOutput,
} from "./image/build.js";
export { imageSpecFromConf, type ImageSpec, type CustomisationLayer } from "./image/spec.js";
export { prepareImage, dockerArchiveChunks, type PreparedImage, type PreparedLayer } from "./image/docker-archive.js";
export { layerTarChunks, type TarSettings, type StoreLocation } from "./image/layer-tar.js";
export { directoryTarChunks } from "./image/gnu-tar.js";
export { BuildError, type BuildErrorCode } from "./errors.js";
// OCI layouts, compression, the layer cache (issue 14, part B).
export { writeOciImage, writeOciImageTo, layerSources, type OciImageOptions, type OciBuildOptions } from "./image/oci/index.js";
export {
  writeOciLayout,
  type OciLayoutOptions,
  type OciLayoutResult,
  STORE_PATHS_ANNOTATION,
  COMPRESSION_ANNOTATION,
  DIFF_ID_ANNOTATION,
} from "./image/oci/layout.js";
export {
  buildLayers,
  cacheLayers,
  layerSizes,
  type BuildLayersOptions,
  type LayerSource,
  type LayerProgress,
  type LayerSize,
  type BuiltLayer as BuiltOciLayer,
} from "./image/oci/layers.js";
export { LayerCache, layerKey, defaultCacheDir, type CacheEntry, type LayerIdentity } from "./image/cache/index.js";
export {
  parseCompression,
  encoderInfo,
  createCompressor,
  compressBytes,
  type CompressionSpec,
  type CompressionAlgorithm,
  type EncoderInfo,
  type Compressor,
} from "./image/compress/index.js";
// Registry (issue 15): push an OCI layout, price an update against a registry tag.
export * from "./registry/index.js";
export { RegistryError } from "./errors.js";
export {
  compressedSeries,
  compressedWeights,
  CompressedSizer,
  type CompressedSeries,
  type CompressedOptions,
  type CompressedUpdate,
} from "./evaluate/compressed-node.js";
// Fleets (issue 16): existing layers read from registry manifests (docker://HOST/REPO:TAG).
export { existingLayersFromRegistry, type RegistryExisting, type RegistryExistingImage, type RegistryExistingOptions } from "./fleet/registry.js";
