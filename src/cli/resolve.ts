import type { Descriptor, Platform } from '../oci/types.js';
import type { Reference } from '../ref/types.js';
import { resolveIn } from '../targets/resolve.js';
import type { ReadTarget } from '../targets/target.js';
import type { CliContext } from './context.js';
import { parseTargetReference } from './reference.js';
import { openReadTarget, targetReference } from './targets.js';

export interface Resolved {
  ref: Reference;
  target: ReadTarget;
  /** The descriptor the reference names (an index stays an index). */
  root: Descriptor;
  /** `root`, or the manifest of the wanted platform when one was asked for. */
  descriptor: Descriptor;
}

/**
 * Parse a reference, open its target and resolve it, narrowing to one platform when asked. With
 * `readsManifest`, the command reads the manifest next: a registry is asked for it in the same request.
 */
export async function resolveReference(
  context: CliContext,
  input: string,
  platform?: Platform,
  { readsManifest = false }: { readsManifest?: boolean } = {},
): Promise<Resolved> {
  const ref = parseTargetReference(input);
  const target = await openReadTarget(context, ref);
  const { root, descriptor } = await resolveIn(target, targetReference(ref), {
    platform,
    readsManifest,
    signal: context.signal,
  });
  return { ref, target, root, descriptor };
}
