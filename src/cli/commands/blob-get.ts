import type { OptionValues } from 'commander';
import { UsageError } from '../../errors.js';
import { parseRegistryReference } from '../../ref/index.js';
import { writeFileAtomically, writeToStream } from '../../targets/atomic-file.js';
import type { CliContext } from '../context.js';

export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const ref = parseRegistryReference(input);
  if (!ref.digest) throw new UsageError(`blob get needs REPOSITORY@DIGEST, got "${input}"`);
  const repository = (await context.registry()).repository(ref);
  const signal = { signal: context.signal };
  const descriptor = await repository.statBlob(ref.digest, signal);
  const content = await repository.fetchBlob(descriptor, signal);
  const output = options.output as string;
  if (output === '-') await writeToStream(content, context.io.stdout);
  else await writeFileAtomically(output, content);
}
