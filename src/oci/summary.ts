import { isIndex, parseManifest } from './manifest.js';
import type { Descriptor, Platform } from './types.js';

export interface ManifestSummary {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  /** An index: one entry per manifest it lists. */
  manifests?: Array<{
    digest: string;
    mediaType: string;
    size: number;
    platform?: Platform;
    artifactType?: string;
  }>;
  /** An image or artifact manifest. */
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** What `inspect` shows, from a manifest's exact bytes (pure). */
export function summarizeManifest(descriptor: Descriptor, bytes: Uint8Array): ManifestSummary {
  const { mediaType, manifest } = parseManifest(bytes, descriptor.mediaType);
  const summary: ManifestSummary = {
    digest: descriptor.digest,
    mediaType,
    size: bytes.byteLength,
    artifactType: manifest.artifactType,
    subject: manifest.subject,
    annotations: manifest.annotations,
  };
  if (isIndex(manifest)) {
    summary.manifests = manifest.manifests.map(({ digest, mediaType, size, platform, artifactType }) => ({
      digest,
      mediaType,
      size,
      platform,
      artifactType,
    }));
  } else {
    summary.config = manifest.config;
    summary.layers = manifest.layers;
  }
  return summary;
}
