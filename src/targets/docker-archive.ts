import { type ArchiveReadOptions, DockerArchiveReader } from './archive/reader.js';
import { TarIndex } from './archive/tar-index.js';
import { DockerArchiveWriter } from './archive/writer.js';

export { type ArchiveImage, type ArchiveReadOptions, DockerArchiveReader } from './archive/reader.js';
export { DockerArchiveWriter } from './archive/writer.js';

/** A docker-archive open to read or to write. */
export type DockerArchiveTarget = DockerArchiveReader | DockerArchiveWriter;

/** Which image of an archive to read (and how), or the name to give the image written. */
export interface DockerArchiveOptions extends ArchiveReadOptions {
  /** `NAME:TAG` of the image to read, or to name the image written when the copy gives no name. */
  imageName?: string;
}

/**
 * A `docker save` tarball (what `docker load`, `podman load` and skopeo's `docker-archive:` use).
 * Read mode indexes the tar once and reads `manifest.json`; write mode starts a temporary tar
 * beside `path` that `close()` renames onto it.
 */
export function openDockerArchive(
  path: string,
  mode: 'read',
  options?: DockerArchiveOptions,
): Promise<DockerArchiveReader>;
export function openDockerArchive(
  path: string,
  mode: 'write',
  options?: DockerArchiveOptions,
): Promise<DockerArchiveWriter>;
export function openDockerArchive(
  path: string,
  mode: 'read' | 'write',
  options?: DockerArchiveOptions,
): Promise<DockerArchiveTarget>;
export async function openDockerArchive(
  path: string,
  mode: 'read' | 'write',
  options: DockerArchiveOptions = {},
): Promise<DockerArchiveTarget> {
  if (mode === 'write') return DockerArchiveWriter.create(path, options.imageName);
  return DockerArchiveReader.open(await TarIndex.scan(path), options.imageName, {
    compressLayers: options.compressLayers,
  });
}
