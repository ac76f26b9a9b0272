import { UsageError } from '../../errors.js';
import { isTagLister } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { printList } from '../list.js';
import { parseTargetReference } from '../reference.js';
import { openReadTarget } from '../targets.js';

export async function run(context: CliContext, [input = '']: string[]): Promise<void> {
  const target = await openReadTarget(context, parseTargetReference(input));
  if (!isTagLister(target)) throw new UsageError(`${input} cannot list tags`);
  await printList(context, target.tags({ signal: context.signal }));
}
