import type { OptionValues } from 'commander';
import { buildIndex, duplicatePlatforms, indexEntries, pushIndex } from '../../artifacts/index-builder.js';
import { copyGraph } from '../../copy/index.js';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { checkDestinationDigest } from '../destination.js';
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
  const signal = { signal: context.signal };
  const entries = [];
  for (const sourceRef of sourceRefs) {
    const target = await openReadTarget(context, sourceRef, sides.from);
    const root = await target.resolve(targetReference(sourceRef), signal);
    for (const entry of await indexEntries(target, root, signal)) {
      // The index may only point at manifests its own repository holds.
      await copyGraph(target, destination, entry, {
        concurrency: context.options.concurrency,
        signal: context.signal,
      });
      entries.push(entry);
    }
  }
  for (const platform of duplicatePlatforms(entries)) {
    context.output.warn(`two or more entries are for ${platform}: a pull by platform gets only the first`);
  }
  const index = buildIndex(entries);
  checkDestinationDigest(ref, index.descriptor.digest);
  await pushIndex(destination, index, signal);
  if (ref.tag && !ref.digest) await destination.tag(index.descriptor, ref.tag, signal);
  context.output.line(index.descriptor.digest);
}
