import { isIndex, parseManifest } from '../oci/index.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { SignalOptions } from '../signal.js';
import type { ReadTarget, WriteTarget } from '../targets/target.js';
import { type CopyOptions, copyGraph } from './copy.js';
import { platformSubset } from './platforms.js';

/** What cosign tags next to a manifest: `sha256-HEX.sig`, `.att` and `.sbom`. */
const DIGEST_TAG_SUFFIXES = ['sig', 'att', 'sbom'];

/** The cosign tags of `manifests` among the repository's `tags`, in the order the tags are listed. */
export function digestTagsOf(manifests: readonly string[], tags: readonly string[]): string[] {
  const wanted = new Set(
    manifests.flatMap((digest) =>
      DIGEST_TAG_SUFFIXES.map((suffix) => `${digest.replace(':', '-')}.${suffix}`),
    ),
  );
  return tags.filter((tag) => wanted.has(tag));
}

/**
 * The manifests whose digest tags travel with a copy of `root`: the root itself unless an index is
 * reduced to `platforms` (a new digest nothing signed), and each platform manifest written.
 */
export async function digestTagSubjects(
  source: ReadTarget,
  root: Descriptor,
  platforms: readonly Platform[] = [],
  options: SignalOptions = {},
): Promise<string[]> {
  const { manifest } = parseManifest(await source.fetchBytes(root, options), root.mediaType);
  if (!isIndex(manifest)) return [root.digest];
  const kept =
    platforms.length === 0
      ? manifest.manifests
      : platformSubset(manifest, root.mediaType, [...platforms]).kept;
  const whole = kept.length === manifest.manifests.length;
  return [...(whole ? [root.digest] : []), ...kept.map((entry) => entry.digest)];
}

/** Copies each digest tag's graph and tags it with the same name at the destination; the tags copied. */
export async function copyDigestTags(
  source: ReadTarget,
  destination: WriteTarget,
  tags: readonly string[],
  options: Omit<CopyOptions, 'tags'> = {},
): Promise<string[]> {
  const travelled: string[] = [];
  for (const tag of tags) {
    const root = await source.resolve(tag, { signal: options.signal });
    await copyGraph(source, destination, root, { ...options, tags: [tag] });
    travelled.push(tag);
  }
  return travelled;
}
