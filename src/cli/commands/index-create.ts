import type { OptionValues } from 'commander';
import { createIndex } from '../../artifacts/index-builder.js';
import { UsageError } from '../../errors.js';
import { destinationTag } from '../../ref/destination-tag.js';
import type { CliContext } from '../context.js';
import { parseTargetReference } from '../reference.js';
import { openReadTarget, openWriteTarget, targetReference } from '../targets.js';

export async function run(
  context: CliContext,
  [input = '', ...sources]: string[],
  options: OptionValues,
): Promise<void> {
  const ref = parseTargetReference(input);
  if (ref.kind === 'docker-archive') throw new UsageError('a docker-archive cannot hold an index');
  const sourceRefs = sources.map(parseTargetReference);
  const sides = context.sides(options, { from: sourceRefs, to: [ref] });
  const destination = await openWriteTarget(context, ref, sides.to);
  const opened = [];
  for (const sourceRef of sourceRefs) {
    opened.push({
      target: await openReadTarget(context, sourceRef, sides.from),
      reference: targetReference(sourceRef),
    });
  }
  const index = await createIndex(destination, opened, {
    tag: destinationTag(ref),
    digest: ref.digest,
    concurrency: context.options.concurrency,
    signal: context.signal,
  });
  for (const platform of index.duplicatePlatforms) {
    context.output.warn(`two or more entries are for ${platform}: a pull by platform gets only the first`);
  }
  context.output.line(index.descriptor.digest);
}
