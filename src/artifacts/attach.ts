import { type CopyOptions, type CopyResult, copyGraph } from '../copy/index.js';
import type { Descriptor } from '../oci/types.js';
import { keepReferrerFindable, referrerDescriptor } from '../targets/referrers-tag.js';
import type { WriteTarget } from '../targets/target.js';
import type { PreparedArtifact } from './prepare.js';

/**
 * Pushes a prepared artifact whose `subject` is `subject` and makes it findable as a referrer.
 */
export async function attachArtifact(
  destination: WriteTarget,
  subject: Descriptor,
  prepared: PreparedArtifact,
  options: Pick<CopyOptions, 'concurrency' | 'signal' | 'events'> = {},
): Promise<CopyResult> {
  const { manifest } = prepared;
  const result = await copyGraph(prepared.source, destination, manifest.descriptor, options);
  await keepReferrerFindable(
    destination,
    subject,
    referrerDescriptor(manifest.descriptor, manifest.manifest),
    {
      signal: options.signal,
    },
  );
  return result;
}
