import type { ReadTarget, WriteTarget } from '../targets/target.js';
import { type CopyOptions, copyGraph } from './copy.js';

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
