import { posix, win32 } from 'node:path';
import { InvalidContentError } from '../../errors.js';

/** How an archive is named in messages: the reference prefix a user wrote. */
export type ArchiveKind = 'docker-archive' | 'oci-archive';

/**
 * A name inside an archive (a tar entry, a path in `manifest.json`, a link target) as a
 * normalised relative POSIX path. An archive is untrusted input: absolute names, drive letters
 * and names that climb out with `..` are refused, never repaired.
 */
export function archiveEntryName(
  name: string,
  archive: string,
  kind: ArchiveKind = 'docker-archive',
): string {
  const refuse = (why: string) => new InvalidContentError(`${kind} ${archive}: entry name "${name}" ${why}`);
  if (name === '' || name.includes('\0')) throw refuse('is empty or holds a NUL');
  if (posix.isAbsolute(name) || win32.isAbsolute(name)) throw refuse('is an absolute path');
  const normal = posix.normalize(name).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) throw refuse('climbs out of the archive with ".."');
  return normal;
}

/** Where a symbolic link stored at `entry` points, as an archive entry name. */
export function symlinkTarget(
  entry: string,
  linkname: string,
  archive: string,
  kind: ArchiveKind = 'docker-archive',
): string {
  if (posix.isAbsolute(linkname) || win32.isAbsolute(linkname)) {
    throw new InvalidContentError(
      `${kind} ${archive}: link "${entry}" points at the absolute path "${linkname}"`,
    );
  }
  return archiveEntryName(posix.join(posix.dirname(entry), linkname), archive, kind);
}
