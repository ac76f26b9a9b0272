import { findTugError, TugError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';

/** Which end of a copy failed. */
export type CopySide = 'source' | 'destination';

/**
 * A failed copy, saying what was being done to which node on which side. It keeps the code,
 * `transient` and hint of the tug error it wraps, so a blob missing at the source is `NOT_FOUND`.
 */
export class CopyError extends TugError {
  constructor(
    readonly side: CopySide,
    readonly descriptor: Descriptor,
    /** What was under way, as a phrase: `pushing sha256:… to the destination`. */
    operation: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const wrapped = findTugError(cause);
    super(`copy failed: ${operation}: ${reason}`, {
      cause,
      code: wrapped?.code,
      transient: wrapped?.transient,
      hint: wrapped?.hint,
      option: wrapped?.option,
    });
  }
}

/** Runs `work`, turning its failure into a CopyError about `descriptor` on `side`. */
export async function onSide<T>(
  side: CopySide,
  descriptor: Descriptor,
  operation: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new CopyError(side, descriptor, operation, error);
  }
}
