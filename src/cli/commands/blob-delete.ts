import { UsageError } from '../../errors.js';
import { parseRegistryReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';

export async function run(context: CliContext, [input = '']: string[]): Promise<void> {
  const ref = parseRegistryReference(input);
  if (!ref.digest) throw new UsageError(`blob delete needs REPOSITORY@DIGEST, got "${input}"`);
  await (await context.registry()).repository(ref).deleteBlob(ref.digest, { signal: context.signal });
  context.output.info(`deleted ${ref.digest}`);
}
