import { UsageError } from '../errors.js';
import { parseRegistryReference } from '../ref/index.js';
import type { Reference, RepositoryName } from '../ref/types.js';

const dockerHub = 'docker.io';

/**
 * The `docker-reference` cosign writes for a repository: its registry and path, with Docker Hub
 * spelled `index.docker.io` (go-containerregistry's default registry name), not `docker.io`.
 */
export function cosignDockerReference(name: RepositoryName): string {
  const registry = name.registry === dockerHub ? 'index.docker.io' : name.registry;
  return `${registry}/${name.repository}`;
}

/** What a payload names as the image's identity: the repository as cosign spells it, or the layout's path. */
export function signedIdentity(ref: Reference): string {
  switch (ref.kind) {
    case 'registry':
      return cosignDockerReference(ref);
    case 'oci':
    case 'oci-archive':
      return `${ref.kind}:${ref.path}`;
    case 'docker-archive':
      throw new UsageError(
        'a docker-archive cannot hold signatures: sign the image in a registry or an oci: layout',
      );
  }
}

/**
 * Whether a payload's `docker-reference` names `repository`: read as a reference, so each spelling
 * of Docker Hub (`docker.io`, `index.docker.io`, with or without `library/`) counts, and a tag or
 * digest after the repository is allowed; registry hosts compare in any case.
 */
export function namesRepository(dockerReference: unknown, repository: RepositoryName): boolean {
  if (typeof dockerReference !== 'string') return false;
  let named: RepositoryName;
  try {
    named = parseRegistryReference(dockerReference);
  } catch {
    return false;
  }
  return (
    named.registry.toLowerCase() === repository.registry.toLowerCase() &&
    named.repository === repository.repository
  );
}
