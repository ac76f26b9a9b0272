import { OciArchiveReader } from './archive/oci-archive-reader.js';
import { OciArchiveWriter } from './archive/oci-archive-writer.js';
import { TarIndex } from './archive/tar-index.js';

export { OciArchiveReader } from './archive/oci-archive-reader.js';
export { OciArchiveWriter } from './archive/oci-archive-writer.js';

/**
 * A tarred OCI layout (`oci-archive:FILE`, what `podman save --format oci-archive` and skopeo
 * write). Read mode indexes the tar once and reads blobs in place; write mode builds the layout
 * beside FILE and tars it onto FILE on `close()`.
 */
export function openOciArchive(path: string, mode: 'read'): Promise<OciArchiveReader>;
export function openOciArchive(path: string, mode: 'write'): Promise<OciArchiveWriter>;
export async function openOciArchive(
  path: string,
  mode: 'read' | 'write',
): Promise<OciArchiveReader | OciArchiveWriter> {
  if (mode === 'write') return OciArchiveWriter.create(path);
  return OciArchiveReader.open(await TarIndex.scan(path, 'oci-archive'));
}
