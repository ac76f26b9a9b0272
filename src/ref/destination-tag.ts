import type { Reference } from './types.js';

/** The tag a source reference names, if any: a digest names none; an archive's image name. */
export function sourceTag(source: Reference): string | undefined {
  if (source.kind === 'docker-archive') return source.imageName;
  return source.digest ? undefined : source.tag;
}

/**
 * The tag a copy gets at its destination: the one written there, else the source's. A registry
 * destination named by digest gets none; an OCI layout always names its image (`latest` at the
 * last); a docker-archive takes the source's name when it is given none.
 */
export function destinationTag(destination: Reference, source?: string): string | undefined {
  switch (destination.kind) {
    case 'registry':
      return destination.digest ? undefined : destination.tag;
    case 'oci':
    case 'oci-archive':
      return destination.tag ?? (destination.digest ? undefined : (source ?? 'latest'));
    case 'docker-archive':
      return destination.imageName ?? source;
  }
}
