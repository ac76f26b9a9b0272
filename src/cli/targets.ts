import type { Reference } from '../ref/types.js';
import * as open from '../targets/open.js';
import type { ReadTarget, WriteTarget } from '../targets/target.js';
import type { RegistryAccess } from './access.js';
import type { CliContext } from './context.js';

export { targetReference } from '../targets/open.js';

/**
 * The one place that turns a reference into a backend; commands never branch on the backend.
 * A registry is reached through `access`: the global options', or one side's of a two-registry command.
 * Every target opened here is disposed of when the command ends, so an archive is finished or removed.
 */
export async function openReadTarget(
  context: CliContext,
  ref: Reference,
  access: RegistryAccess = context.access(),
  options: { compressLayers?: boolean } = {},
): Promise<ReadTarget> {
  return context.own(
    await open.openReadTarget(ref, {
      registry: () => access.registry(),
      compressLayers: options.compressLayers,
    }),
  );
}

export async function openWriteTarget(
  context: CliContext,
  ref: Reference,
  access: RegistryAccess = context.access(),
): Promise<WriteTarget> {
  return context.own(await open.openWriteTarget(ref, { registry: () => access.registry() }));
}
