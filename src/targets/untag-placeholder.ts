import { randomBytes } from 'node:crypto';
import { digestOf, MediaType } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';

export interface Placeholder {
  config: { descriptor: Descriptor; bytes: Uint8Array };
  manifest: { descriptor: Descriptor; bytes: Uint8Array };
}

/**
 * A manifest no other tag can name: the empty config, no layers, and a random annotation. A tag
 * moved onto it is removed by deleting it by digest, which takes only that tag with it (how regctl
 * untags on a registry without tag deletion).
 */
export function untagPlaceholder(now: Date = new Date()): Placeholder {
  const configBytes = Buffer.from('{}');
  const config: Descriptor = { mediaType: MediaType.ociEmpty, digest: digestOf(configBytes), size: 2 };
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config,
      layers: [],
      annotations: {
        'org.opencontainers.image.created': now.toISOString(),
        'org.opencontainers.image.description': `untag placeholder ${randomBytes(16).toString('hex')}`,
      },
    }),
  );
  return {
    config: { descriptor: config, bytes: configBytes },
    manifest: {
      descriptor: { mediaType: MediaType.ociManifest, digest: digestOf(bytes), size: bytes.byteLength },
      bytes,
    },
  };
}
