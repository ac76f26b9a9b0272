import type {
  OciArchiveReference,
  OciLayoutReference,
  Reference,
  RegistryReference,
  RepositoryName,
} from './types.js';

export function formatRepository(name: RepositoryName): string {
  return `${name.registry}/${name.repository}`;
}

/** A reference written back in the form `parseReference` reads. */
export function formatReference(ref: Reference): string {
  switch (ref.kind) {
    case 'registry':
      return `${formatRepository(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
    case 'oci':
      return `oci:${ref.path}${ref.digest ? `@${ref.digest}` : ref.tag ? `:${ref.tag}` : ''}`;
    case 'oci-archive':
      return `oci-archive:${ref.path}${ref.digest ? `@${ref.digest}` : ref.tag ? `:${ref.tag}` : ''}`;
    case 'docker-archive':
      return `docker-archive:${ref.path}${ref.imageName ? `:${ref.imageName}` : ''}`;
  }
}

/** What to ask a registry or layout for: the digest when there is one, else the tag. */
export function referenceOf(ref: RegistryReference | OciLayoutReference | OciArchiveReference): string {
  return ref.digest ?? ref.tag ?? '';
}
