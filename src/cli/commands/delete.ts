import type { OptionValues } from 'commander';
import { UsageError } from '../../errors.js';
import { formatRepository } from '../../ref/index.js';
import { RegistryTarget } from '../../targets/registry.js';
import { tagsPointingAt } from '../../targets/tags-on-digest.js';
import type { CliContext } from '../context.js';
import { parseTargetReference } from '../reference.js';
import { targetReference } from '../targets.js';
import { run as deleteManifest } from './manifest-delete.js';

/**
 * `delete REPO:TAG` deletes the manifest the tag names, which removes every tag on it: refused
 * while other tags name it, unless `--force`. `REPO@DIGEST` names the manifest itself. Layouts
 * are as `manifest delete` treats them.
 */
export async function run(context: CliContext, [input = '']: string[], options: OptionValues): Promise<void> {
  const ref = parseTargetReference(input);
  // A layout deletes a tag's entry alone, so no other tag goes with it.
  if (ref.kind !== 'registry') return deleteManifest(context, [input]);
  const repository = (await context.registry()).repository(ref);
  const signal = { signal: context.signal };
  const { digest } = await repository.resolve(targetReference(ref), signal);
  if (ref.digest === undefined && options.force !== true) {
    const target = new RegistryTarget(repository);
    const all = await tagsPointingAt(target, digest, {
      concurrency: context.options.concurrency,
      signal: context.signal,
    });
    const others = all.filter((tag) => tag !== ref.tag);
    if (others.length > 0) {
      throw new UsageError(
        `${formatRepository(ref)}@${digest} is also tagged ${others.join(', ')}: deleting it would remove ${others.length === 1 ? 'that tag' : 'those tags'} too`,
        {
          hint: `tug untag ${input} removes only this tag; --force deletes the manifest with every tag on it`,
        },
      );
    }
  }
  await repository.deleteManifest(digest, signal);
  context.output.info(`deleted ${formatRepository(ref)}@${digest}`);
  if (context.output.options.json) context.output.json({ deleted: digest });
}
