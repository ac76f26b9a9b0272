import type { Reference } from '../ref/types.js';
import * as open from '../targets/open.js';
import { isClosable, type ReadTarget, type WriteTarget } from '../targets/target.js';
import type { RegistryAccess } from './access.js';
import type { CliContext } from './context.js';

export { targetReference } from '../targets/open.js';

/**
 * The one place that turns a reference into a backend; commands never branch on the backend.
 * A registry is reached through `access`: the global options', or one side's of a two-registry command.
 */
export function openReadTarget(
  context: CliContext,
  ref: Reference,
  access: RegistryAccess = context.access(),
  options: { compressLayers?: boolean } = {},
): Promise<ReadTarget> {
  return open.openReadTarget(ref, {
    registry: () => access.registry(),
    compressLayers: options.compressLayers,
  });
}

/** A target to write; one that must be finished (an archive) is closed when the command ends. */
export async function openWriteTarget(
  context: CliContext,
  ref: Reference,
  access: RegistryAccess = context.access(),
): Promise<WriteTarget> {
  const target = await open.openWriteTarget(ref, { registry: () => access.registry() });
  if (isClosable(target)) context.closeAtEnd(target);
  return target;
}
