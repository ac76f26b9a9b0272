import { parseReference, parseTagList } from '../ref/parse.js';
import type { Reference } from '../ref/types.js';
import { settleLayoutReference } from '../targets/layout/readings.js';

/** A reference as a command reads it: parsed, and an `oci:` one settled against the filesystem. */
export function parseTargetReference(input: string): Reference {
  const ref = parseReference(input);
  return ref.kind === 'oci' ? settleLayoutReference(ref) : ref;
}

/**
 * A destination, which may name several tags (`DST:a,b,c`): the reference with the first tag,
 * and the list (empty when one tag or none was written).
 */
export function parseDestinationReference(input: string): { ref: Reference; tags: string[] } {
  const { ref, tags } = parseTagList(input);
  if (tags.length > 0) return { ref, tags };
  return { ref: ref.kind === 'oci' ? settleLayoutReference(ref) : ref, tags };
}
