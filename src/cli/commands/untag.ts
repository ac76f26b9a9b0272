import { UsageError } from '../../errors.js';
import { formatReference } from '../../ref/index.js';
import { isUntagger } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { parseTargetReference } from '../reference.js';
import { openWriteTarget } from '../targets.js';

/** `untag REF:TAG` removes that tag only; the manifest and its other tags stay. Prints the digest it named. */
export async function run(context: CliContext, [input = '']: string[]): Promise<void> {
  const ref = parseTargetReference(input);
  if (ref.kind === 'docker-archive')
    throw new UsageError(
      'untag works on registries, oci: layouts and oci-archive: files, not a docker-archive',
    );
  if (ref.digest !== undefined || ref.tag === undefined)
    throw new UsageError(`untag needs a tag: ${input} names none`, { hint: 'write REPOSITORY:TAG' });
  const target = await openWriteTarget(context, ref);
  if (!isUntagger(target)) throw new UsageError(`${formatReference(ref)} cannot remove a tag`);
  const removed = await target.untag(ref.tag, { signal: context.signal });
  context.output.info(`untagged ${formatReference(ref)} (it named ${removed.digest})`);
  if (context.output.options.json) context.output.json({ untagged: ref.tag, digest: removed.digest });
  else context.output.line(removed.digest);
}
