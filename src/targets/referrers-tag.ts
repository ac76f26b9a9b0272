import { NotFoundError, TugError } from '../errors.js';
import { isIndex, MediaType, parseDigest, parseManifest } from '../oci/index.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import type { ReadTarget, SignalOptions } from './target.js';

/**
 * The tag of the referrers tag schema (distribution-spec, "Referrers Tag Schema"):
 * `<alg>-<ref>`, for registries and layouts without the referrers API.
 */
export function referrersTag(subject: Descriptor): string {
  const { algorithm, hex } = parseDigest(subject.digest);
  return `${algorithm}-${hex}`.slice(0, 128);
}

export interface ReferrersTagIndex {
  index: ImageIndex;
  /** Absent when the tag does not exist yet. */
  descriptor?: Descriptor;
}

/** The index the referrers tag points at; an empty one when there is no tag; an error when it holds something else. */
export async function readReferrersTag(
  target: ReadTarget,
  subject: Descriptor,
  options: SignalOptions = {},
): Promise<ReferrersTagIndex> {
  const tag = referrersTag(subject);
  let descriptor: Descriptor;
  try {
    descriptor = await target.resolve(tag, options);
  } catch (error) {
    if (error instanceof NotFoundError) return { index: emptyReferrersIndex() };
    throw error;
  }
  return {
    index: referrersIndexFrom(await target.fetchBytes(descriptor, options), descriptor, tag),
    descriptor,
  };
}

export function emptyReferrersIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** The index a referrers tag holds; anything but an OCI index is reported and left untouched. */
export function referrersIndexFrom(bytes: Uint8Array, descriptor: Descriptor, tag: string): ImageIndex {
  const { mediaType, manifest } = parseManifest(bytes, descriptor.mediaType);
  if (!isIndex(manifest) || mediaType !== MediaType.ociIndex) {
    throw new TugError(
      `the referrers tag ${tag} holds a ${mediaType}, not an OCI index; leaving it untouched`,
      { code: 'CONFLICT', transient: false },
    );
  }
  return manifest;
}
