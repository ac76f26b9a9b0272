import type { OptionValues } from 'commander';
import { UsageError } from '../../errors.js';
import { compileTagFilter, sortBySemver } from '../../tags/filter.js';
import { isTagLister } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { printList } from '../list.js';
import { parseTargetReference } from '../reference.js';
import { openReadTarget } from '../targets.js';

async function* filtered(tags: AsyncIterable<string>, options: OptionValues): AsyncIterable<string> {
  const filter = compileTagFilter({
    allow: options.filter === undefined ? undefined : [options.filter as string],
    excludeDigestTags: options.excludeDigestTags === true,
  });
  const all: string[] = [];
  for await (const tag of tags) all.push(tag);
  const kept = filter(all);
  yield* options.semver ? sortBySemver(kept) : kept;
}

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const target = await openReadTarget(context, parseTargetReference(input));
  if (!isTagLister(target)) throw new UsageError(`${input} cannot list tags`);
  const tags = target.tags({ signal: context.signal });
  const filtering = options.filter !== undefined || options.semver || options.excludeDigestTags;
  await printList(context, filtering ? filtered(tags, options) : tags);
}
