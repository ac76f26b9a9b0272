import { UsageError } from '../errors.js';
import { digestOf, MAX_MANIFEST_BYTES, MediaType } from '../oci/index.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';

/** The empty JSON blob `{}` the image-spec uses for an unused config or an artifact with no layers. */
export const emptyJson = Buffer.from('{}', 'utf8');
export const emptyJsonDescriptor: Descriptor = {
  mediaType: MediaType.ociEmpty,
  digest: digestOf(emptyJson),
  size: emptyJson.byteLength,
  data: emptyJson.toString('base64'),
};

/** oras's artifact type when none is given. */
export const unknownArtifactType = 'application/vnd.unknown.artifact.v1';

export interface ArtifactManifestInput {
  artifactType?: string;
  config?: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
  /** Annotations for the empty config when no config is given (oras's `$config`). */
  configAnnotations?: Record<string, string>;
}

/** An artifact manifest as pushed: its exact bytes, its descriptor, and the document. */
export interface BuiltManifest {
  descriptor: Descriptor;
  manifest: ImageManifest;
  bytes: Uint8Array;
}

/**
 * An OCI 1.1 image manifest for an artifact, shaped as oras-go packs one: the empty config unless
 * one is given (then `artifactType` names the type), the empty blob as the one layer when there
 * are no files, and no timestamp, so the same inputs give the same digest.
 */
export function buildArtifactManifest(input: ArtifactManifestInput): BuiltManifest {
  const config =
    input.config ??
    (input.configAnnotations && Object.keys(input.configAnnotations).length > 0
      ? { ...emptyJsonDescriptor, annotations: input.configAnnotations }
      : emptyJsonDescriptor);
  const artifactType = input.artifactType ?? (input.config ? undefined : unknownArtifactType);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    ...(artifactType ? { artifactType } : {}),
    config,
    layers: input.layers.length > 0 ? input.layers : [emptyJsonDescriptor],
    ...(input.subject ? { subject: input.subject } : {}),
    ...(input.annotations && Object.keys(input.annotations).length > 0
      ? { annotations: input.annotations }
      : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new UsageError(
      `the manifest would be ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`,
    );
  }
  return {
    descriptor: { mediaType: MediaType.ociManifest, digest: digestOf(bytes), size: bytes.byteLength },
    manifest,
    bytes,
  };
}
