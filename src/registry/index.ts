// The registry client (Node only): push an OCI layout's image, read a remote
// manifest, price an update against a registry tag.
export { RegistryClient, type ClientOptions } from "./client.js";
export { lookupCredentials, authFiles, parseChallenge, type Credentials, type Challenge } from "./auth.js";
export { parseImageReference, formatReference, isLoopback, type ImageReference } from "./reference.js";
export { readLayout, parseImageManifest, MEDIA, type LayoutImage, type ImageManifest, type Descriptor, type Platform } from "./layout.js";
export { pushImage, type PushOptions, type PushReport, type BlobReport, type DestinationReport } from "./push.js";
export { fetchRemoteManifest, pullCost, type PullCost, type PulledBlob, type RemoteImage } from "./against.js";
