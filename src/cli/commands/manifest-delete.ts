import { UsageError } from '../../errors.js';
import { formatRepository, parseReference } from '../../ref/index.js';
import type { CliContext } from '../context.js';
import { targetReference } from '../targets.js';

export async function run(context: CliContext, [input = '']: string[]): Promise<void> {
  const ref = parseReference(input);
  if (ref.kind !== 'registry') throw new UsageError('manifest delete works on registry references');
  const repository = (await context.registry()).repository(ref);
  const { digest } = await repository.resolve(targetReference(ref));
  await repository.deleteManifest(digest);
  context.output.info(`deleted ${formatRepository(ref)}@${digest}`);
  if (context.output.options.json) context.output.json({ deleted: digest });
}
