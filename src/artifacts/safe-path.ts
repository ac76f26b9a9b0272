import { isAbsolute, posix, win32 } from 'node:path';
import { TugError, type TugErrorOptions } from '../errors.js';

/** A pulled name that would land outside the output directory. */
export class PathTraversalError extends TugError {
  constructor(message: string, options: TugErrorOptions = {}) {
    super(message, { code: 'UNSAFE_PATH', ...options });
  }
}

/**
 * Checks a name from untrusted content (a title annotation, a tar entry) and returns it as a
 * relative POSIX path: absolute paths, drive letters, backslashes and `..` are refused, not fixed.
 */
export function confinedPath(name: string): string {
  const refuse = (why: string) =>
    new PathTraversalError(`refusing to write "${name}": ${why}`, {
      hint: 'the artifact names a path outside the output directory; allow path traversal only if you trust it',
      option: 'allowPathTraversal',
    });
  if (name === '' || name.includes('\0')) throw refuse('empty or NUL in the name');
  if (isAbsolute(name) || win32.isAbsolute(name) || /^[a-zA-Z]:/.test(name)) throw refuse('absolute path');
  if (name.includes('\\')) throw refuse('backslash in the name');
  const normal = posix.normalize(name).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) throw refuse('it climbs out with ".."');
  if (normal === '.' || normal === '') throw refuse('it names the output directory itself');
  return normal;
}
