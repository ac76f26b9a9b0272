import { parseReference } from '../ref/parse.js';
import type { Reference } from '../ref/types.js';
import { settleLayoutReference } from '../targets/layout/readings.js';

/** A reference as a command reads it: parsed, and an `oci:` one settled against the filesystem. */
export function parseTargetReference(input: string): Reference {
  const ref = parseReference(input);
  return ref.kind === 'oci' ? settleLayoutReference(ref) : ref;
}
