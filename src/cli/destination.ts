import { TugError, UsageError } from '../errors.js';
import { formatReference } from '../ref/index.js';
import type { Reference } from '../ref/types.js';

/**
 * A digest in a destination is a promise about what lands there: a layout cannot file a
 * manifest under a digest alone (its index.json names manifests by tag), so that is refused
 * before anything is written.
 */
export function refuseUnkeptDestinationParts(ref: Reference): void {
  if (ref.kind === 'oci' && ref.digest) {
    throw new UsageError(`${formatReference(ref)}: an oci: destination takes a tag, not a digest`, {
      hint: `write oci:${ref.path}:TAG (the digest is kept: tug digest oci:${ref.path}:TAG prints it)`,
    });
  }
}

/** After a copy to REPO@DIGEST: the manifest written must be the one the digest names. */
export function checkDestinationDigest(ref: Reference, written: string): void {
  if (ref.kind === 'docker-archive' || !ref.digest || ref.digest === written) return;
  throw new TugError(`copied ${written}, but the destination names ${ref.digest}`, {
    hint: 'name the destination by a tag, or give the digest of what is copied',
  });
}

/** Whether a registry reference was written with a tag (the parser fills in `latest` otherwise). */
export function writtenWithTag(input: string, ref: Reference): boolean {
  if (ref.kind === 'docker-archive') return ref.imageName !== undefined;
  if (ref.kind === 'oci') return ref.tag !== undefined || ref.digest !== undefined;
  if (ref.digest) return true;
  const lastPart = input.slice(input.lastIndexOf('/') + 1);
  return lastPart.includes(':');
}
