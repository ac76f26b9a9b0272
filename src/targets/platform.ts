import { NotFoundError } from '../errors.js';
import { formatPlatform, isIndex, parseManifest, platformMatches } from '../oci/index.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { ReadTarget, SignalOptions } from './target.js';

/**
 * The manifest of one platform: the matching entry when `root` is an index, else `root` itself
 * (a single-platform manifest is what the user asked for, whatever its platform).
 */
export async function selectPlatform(
  target: ReadTarget,
  root: Descriptor,
  wanted: Platform,
  options: SignalOptions = {},
): Promise<Descriptor> {
  const { manifest } = parseManifest(await target.fetchBytes(root, options), root.mediaType);
  if (!isIndex(manifest)) return root;
  const match = manifest.manifests.find((entry) => entry.platform && platformMatches(wanted, entry.platform));
  if (match) return match;
  const available = manifest.manifests.flatMap((entry) =>
    entry.platform ? [formatPlatform(entry.platform)] : [],
  );
  throw new NotFoundError(`no manifest for platform ${formatPlatform(wanted)} in ${root.digest}`, {
    hint: available.length > 0 ? `available platforms: ${available.join(', ')}` : undefined,
  });
}
