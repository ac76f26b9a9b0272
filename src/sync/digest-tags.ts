import { digestTagSubjects, digestTagsOf } from '../copy/index.js';
import { NotFoundError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { SignalOptions } from '../signal.js';
import { isDigestTag } from '../tags/digest-tag.js';
import type { ReadTarget } from '../targets/target.js';

/** The manifests whose digest tags belong to `root`; a single-platform manifest needs no read. */
async function subjects(
  source: ReadTarget,
  root: Descriptor,
  platforms: readonly Platform[],
  options: SignalOptions,
): Promise<string[]> {
  if (root.mediaType === MediaType.ociManifest || root.mediaType === MediaType.dockerManifest) {
    return [root.digest];
  }
  return digestTagSubjects(source, root, platforms, options);
}

/**
 * The digest tags (cosign `.sig`, `.att`, `.sbom`) of an image already mirrored that the
 * destination lacks, or holds at another manifest: cosign appends a signature by writing a new
 * manifest under the same `.sig` tag. Only the tags `sourceTags` lists are asked about, one
 * resolve on each side.
 */
export async function staleDigestTags(
  source: ReadTarget,
  destination: ReadTarget,
  root: Descriptor,
  platforms: readonly Platform[],
  sourceTags: readonly string[],
  options: SignalOptions = {},
): Promise<string[]> {
  if (!sourceTags.some(isDigestTag)) return [];
  const tags = digestTagsOf(await subjects(source, root, platforms, options), sourceTags);
  const stale: string[] = [];
  for (const tag of tags) {
    const wanted = await source.resolve(tag, options);
    const present = await destination.resolve(tag, options).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (present?.digest !== wanted.digest) stale.push(tag);
  }
  return stale;
}
