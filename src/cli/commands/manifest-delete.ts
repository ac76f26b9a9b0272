import { UsageError } from '../../errors.js';
import { formatRepository, parseReference } from '../../ref/index.js';
import { isManifestDeleter } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { openReadTarget, targetReference } from '../targets.js';

export async function run(context: CliContext, [input = '']: string[]): Promise<void> {
  const ref = parseReference(input);
  if (ref.kind === 'registry') {
    const repository = (await context.registry()).repository(ref);
    const signal = { signal: context.signal };
    const { digest } = await repository.resolve(targetReference(ref), signal);
    await repository.deleteManifest(digest, signal);
    context.output.info(`deleted ${formatRepository(ref)}@${digest}`);
    if (context.output.options.json) context.output.json({ deleted: digest });
    return;
  }
  const target = await openReadTarget(context, ref);
  const reference = targetReference(ref);
  if (!isManifestDeleter(target) || reference === '') {
    throw new UsageError(
      isManifestDeleter(target)
        ? 'name the manifest to delete by tag or digest: oci:PATH:TAG or oci:PATH@DIGEST'
        : 'delete works on registry references and OCI layouts',
    );
  }
  const { digest } = await target.deleteManifest(reference);
  context.output.info(`deleted ${input} (${digest})`);
  if (context.output.options.json) context.output.json({ deleted: digest });
}
