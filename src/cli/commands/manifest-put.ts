import type { OptionValues } from 'commander';
import { manifestDescriptor, putManifest } from '../../artifacts/put-manifest.js';
import { UsageError } from '../../errors.js';
import { destinationTag } from '../../ref/destination-tag.js';
import type { CliContext } from '../context.js';
import { asUserInput } from '../errors.js';
import { parseTargetReference } from '../reference.js';
import { openWriteTarget } from '../targets.js';

export async function run(
  context: CliContext,
  [input = '', file = '-']: string[],
  options: OptionValues,
): Promise<void> {
  const ref = parseTargetReference(input);
  const bytes = await context.readInputFile(file);
  const descriptor = asUserInput(file, () =>
    manifestDescriptor(bytes, options.mediaType as string | undefined),
  );
  if (ref.kind !== 'docker-archive' && ref.digest && ref.digest !== descriptor.digest) {
    throw new UsageError(`${file} has digest ${descriptor.digest}, not ${ref.digest}`);
  }
  const target = await openWriteTarget(context, ref);
  await putManifest(target, descriptor, bytes, { tag: destinationTag(ref), signal: context.signal });
  context.output.line(descriptor.digest);
}
