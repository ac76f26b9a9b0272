import { InvalidReferenceError, NotFoundError, UsageError } from '../../errors.js';
import { formatRepository, parseRegistryReference } from '../../ref/index.js';

/** A repository and tag, as the `repositories` file of a docker archive keys them. */
export interface NamedTag {
  repository: string;
  tag: string;
}

/** `NAME[:TAG]` as docker normalises it: `alpine` → `docker.io/library/alpine:latest`. */
export function normaliseImageName(name: string): string {
  const { repository, tag } = splitImageName(name);
  return `${repository}:${tag}`;
}

export function splitImageName(name: string): NamedTag {
  const parsed = parseRegistryReference(name);
  if (parsed.digest !== undefined) {
    throw new InvalidReferenceError(name, 'an image in a docker-archive is named by NAME:TAG, not by digest');
  }
  return { repository: formatRepository(parsed), tag: parsed.tag ?? 'latest' };
}

/** The normalised form of a name read from an archive, or undefined when it is not a valid name. */
export function tryNormaliseImageName(name: string): string | undefined {
  try {
    return normaliseImageName(name);
  } catch {
    return undefined;
  }
}

/**
 * The image a reference picks among those of an archive: an empty reference picks the only one;
 * a name picks the image tagged with it.
 */
export function selectImage<T extends { names: readonly string[] }>(
  images: readonly T[],
  reference: string,
  archive: string,
): T {
  const listed = images.flatMap((image) => image.names);
  const hint = listed.length > 0 ? `images in the archive: ${listed.join(', ')}` : undefined;
  if (reference === '') {
    const [only, ...others] = images;
    if (only === undefined) throw new NotFoundError(`docker-archive ${archive} holds no image`);
    if (others.length > 0) {
      throw new UsageError(
        `docker-archive ${archive} holds ${images.length} images: name one as docker-archive:FILE:NAME:TAG`,
        {
          hint,
        },
      );
    }
    return only;
  }
  const wanted = normaliseImageName(reference);
  const match = images.find((image) => image.names.includes(wanted));
  if (match === undefined)
    throw new NotFoundError(`image ${wanted} not found in docker-archive ${archive}`, { hint });
  return match;
}
