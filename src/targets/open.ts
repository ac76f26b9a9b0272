import type { Reference } from '../ref/types.js';
import type { RegistryClient } from '../registry/client.js';
import type { ReadTarget, WriteTarget } from './target.js';

/** Gives the registry client to open registry references with; called only when one is opened. */
export type RegistryClientFactory = () => Promise<RegistryClient>;

/** How {@link openReadTarget} and {@link openWriteTarget} reach a registry. */
export interface OpenTargetOptions {
  registry: RegistryClientFactory;
  /** Serve a docker-archive's plain-tar layers gzipped (see ArchiveReadOptions). */
  compressLayers?: boolean;
}

/**
 * The reference a target resolves: a digest wins over a tag; an archive's image name; else the
 * default (`latest` in a registry, the only image in a layout or archive).
 */
export function targetReference(ref: Reference): string {
  switch (ref.kind) {
    case 'registry':
      return ref.digest ?? ref.tag ?? 'latest';
    case 'oci':
    case 'oci-archive':
      return ref.digest ?? ref.tag ?? '';
    case 'docker-archive':
      return ref.imageName ?? '';
  }
}

/**
 * The target a reference names, to read from: a registry repository, an OCI layout or
 * oci-archive, a docker-archive. Each backend's module is loaded only when a reference names it.
 * Dispose of it (`await using`) when done.
 */
export async function openReadTarget(
  ref: Reference,
  options: OpenTargetOptions,
): Promise<ReadTarget & AsyncDisposable> {
  switch (ref.kind) {
    case 'registry': {
      const { RegistryTarget } = await import('./registry.js');
      return new RegistryTarget((await options.registry()).repository(ref));
    }
    case 'oci':
      return (await import('./oci-layout.js')).openOciLayout(ref.path);
    case 'oci-archive':
      return (await import('./oci-archive.js')).openOciArchive(ref.path, 'read');
    case 'docker-archive':
      return (await import('./docker-archive.js')).openDockerArchive(ref.path, 'read', {
        imageName: ref.imageName,
        compressLayers: options.compressLayers,
      });
  }
}

/**
 * The target a reference names, to write to: an OCI layout is created when missing; an
 * oci-archive or a docker-archive is written when the target is disposed of (`await using`) or closed.
 */
export async function openWriteTarget(
  ref: Reference,
  options: OpenTargetOptions,
): Promise<WriteTarget & AsyncDisposable> {
  switch (ref.kind) {
    case 'registry': {
      const { RegistryTarget } = await import('./registry.js');
      return new RegistryTarget((await options.registry()).repository(ref));
    }
    case 'oci':
      return (await import('./oci-layout.js')).openOciLayout(ref.path, { create: true });
    case 'oci-archive':
      return (await import('./oci-archive.js')).openOciArchive(ref.path, 'write');
    case 'docker-archive':
      return (await import('./docker-archive.js')).openDockerArchive(ref.path, 'write', {
        imageName: ref.imageName,
      });
  }
}
