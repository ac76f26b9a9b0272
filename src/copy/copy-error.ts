import { ExitCode, TugError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';

export type CopySide = 'source' | 'destination';

/**
 * A failed copy, saying what was being done to which node on which side. It keeps the exit code
 * and hint of its cause, so a blob missing at the source still exits 4.
 */
export class CopyError extends TugError {
  override readonly exitCode: ExitCode;

  constructor(
    readonly side: CopySide,
    readonly descriptor: Descriptor,
    /** What was under way, as a phrase: `pushing sha256:… to the destination`. */
    operation: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`copy failed: ${operation}: ${reason}`, {
      cause,
      hint: cause instanceof TugError ? cause.hint : undefined,
    });
    this.exitCode = cause instanceof TugError ? cause.exitCode : ExitCode.failure;
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
