import { NotFoundError, TugError } from '../errors.js';
import { isIndex, MediaType, parseDigest, parseManifest } from '../oci/index.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import type { ReadTarget } from './target.js';

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
export async function readReferrersTag(target: ReadTarget, subject: Descriptor): Promise<ReferrersTagIndex> {
  const tag = referrersTag(subject);
  let descriptor: Descriptor;
  try {
    descriptor = await target.resolve(tag);
  } catch (error) {
    if (error instanceof NotFoundError)
      return { index: { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] } };
    throw error;
  }
  const { mediaType, manifest } = parseManifest(await target.fetchBytes(descriptor), descriptor.mediaType);
  if (!isIndex(manifest) || mediaType !== MediaType.ociIndex) {
    throw new TugError(
      `the referrers tag ${tag} holds a ${mediaType}, not an OCI index; leaving it untouched`,
    );
  }
  return { index: manifest, descriptor };
}
