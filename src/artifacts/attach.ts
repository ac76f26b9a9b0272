import { type CopyOptions, type CopyResult, copyGraph } from '../copy/index.js';
import type { Descriptor } from '../oci/types.js';
import { isReferrersIndexer, type WriteTarget } from '../targets/target.js';
import type { PreparedArtifact } from './prepare.js';
import { addToReferrersTag, referrerDescriptor } from './referrers.js';

/**
 * Pushes a prepared artifact whose `subject` is `subject` and makes it findable as a referrer:
 * a target without the referrers API gets the referrers tag schema updated (distribution-spec,
 * "Pushing Manifests with Subject").
 */
export async function attachArtifact(
  destination: WriteTarget,
  subject: Descriptor,
  prepared: PreparedArtifact,
  options: Pick<CopyOptions, 'concurrency' | 'signal' | 'events'> = {},
): Promise<CopyResult> {
  const { manifest } = prepared;
  const result = await copyGraph(prepared.source, destination, manifest.descriptor, options);
  const indexed =
    isReferrersIndexer(destination) && (await destination.indexesReferrers(subject, manifest.descriptor));
  if (!indexed) {
    await addToReferrersTag(
      destination,
      subject,
      referrerDescriptor(manifest.descriptor, manifest.manifest),
      {
        signal: options.signal,
      },
    );
  }
  return result;
}
