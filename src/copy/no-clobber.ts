import { NotFoundError, TagConflictError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { ReadTarget, SignalOptions } from '../targets/target.js';

/**
 * Refuses before anything is copied when one of `tags` already names another manifest at the
 * destination. A tag that is absent, or already at `root`, is fine. Another writer can still move a
 * tag between this check and the copy; registries offer no portable create-only tag write.
 */
export async function refuseMovedTags(
  destination: ReadTarget,
  root: Descriptor,
  tags: string[],
  options: SignalOptions = {},
): Promise<void> {
  for (const tag of tags) {
    const existing = await destination.resolve(tag, options).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (existing !== undefined && existing.digest !== root.digest)
      throw new TagConflictError(tag, existing.digest, root.digest);
  }
}
