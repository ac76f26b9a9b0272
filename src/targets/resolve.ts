import type { Descriptor, Platform } from '../oci/types.js';
import { selectPlatform } from './platform.js';
import { isReferenceFetcher, type ReadTarget, type SignalOptions } from './target.js';

/** How {@link resolveIn} resolves. */
export interface ResolveOptions extends SignalOptions {
  /** Narrow an index to the manifest of this platform. */
  platform?: Platform;
  /**
   * The caller reads the manifest next (a copy, a pull): asked in the same request where the
   * target can. A caller that wants the digest only leaves it off, and a registry answers a HEAD,
   * lighter on its rate limits.
   */
  readsManifest?: boolean;
}

/** What `reference` names in `target` (`root`), and the manifest of `platform` in it when one is asked for. */
export async function resolveIn(
  target: ReadTarget,
  reference: string,
  options: ResolveOptions = {},
): Promise<{ root: Descriptor; descriptor: Descriptor }> {
  const { platform, readsManifest, signal } = options;
  const root =
    readsManifest && isReferenceFetcher(target)
      ? (await target.fetchReference(reference, { signal })).descriptor
      : await target.resolve(reference, { signal });
  const descriptor = platform ? await selectPlatform(target, root, platform, { signal }) : root;
  return { root, descriptor };
}
