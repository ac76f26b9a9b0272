import type { Reference } from '../ref/types.js';
import type { ReadTarget, WriteTarget } from '../targets/target.js';
import type { RegistryAccess } from './access.js';
import type { CliContext } from './context.js';

/** The reference a target resolves: a digest wins over a tag; an archive's image name; else the default. */
export function targetReference(ref: Reference): string {
  switch (ref.kind) {
    case 'registry':
      return ref.digest ?? ref.tag ?? 'latest';
    case 'oci':
      return ref.digest ?? ref.tag ?? '';
    case 'docker-archive':
      return ref.imageName ?? '';
  }
}

/**
 * The one place that turns a reference into a backend; commands never branch on the backend.
 * Each backend's module is loaded only when a reference names it. A registry is reached through
 * `access`: the global options', or one side's of a two-registry command.
 */
export async function openReadTarget(
  context: CliContext,
  ref: Reference,
  access: RegistryAccess = context.access(),
): Promise<ReadTarget> {
  switch (ref.kind) {
    case 'registry': {
      const { RegistryTarget } = await import('../targets/registry.js');
      return new RegistryTarget((await access.registry()).repository(ref));
    }
    case 'oci':
      return (await import('../targets/oci-layout.js')).openOciLayout(ref.path);
    case 'docker-archive':
      return (await import('../targets/docker-archive.js')).openDockerArchive(ref.path, 'read', {
        imageName: ref.imageName,
      });
  }
}

export async function openWriteTarget(
  context: CliContext,
  ref: Reference,
  access: RegistryAccess = context.access(),
): Promise<WriteTarget> {
  switch (ref.kind) {
    case 'registry': {
      const { RegistryTarget } = await import('../targets/registry.js');
      return new RegistryTarget((await access.registry()).repository(ref));
    }
    case 'oci':
      return (await import('../targets/oci-layout.js')).openOciLayout(ref.path, { create: true });
    case 'docker-archive':
      return (await import('../targets/docker-archive.js')).openDockerArchive(ref.path, 'write', {
        imageName: ref.imageName,
      });
  }
}
