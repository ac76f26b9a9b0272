import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidContentError, SizeLimitError } from '../../errors.js';

/**
 * The bytes of a small regular file (`oci-layout`, `index.json`), or undefined when it is absent.
 * Refuses a symlink and anything over `maxBytes` before reading.
 */
export async function readSmallFile(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return undefined;
    if (isErrorCode(error, 'ELOOP')) throw new InvalidContentError(`${path} is a symbolic link`);
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new InvalidContentError(`${path} is not a regular file`);
    if (info.size > maxBytes) throw new SizeLimitError(`${path} is larger than ${maxBytes} bytes`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Writes `content` to a temporary file beside `path`, flushes it, then renames it over `path`. */
export async function replaceFileAtomically(path: string, content: string): Promise<void> {
  const temporary = temporaryPathBeside(path);
  try {
    await writeFile(temporary, content, { flag: 'wx', mode: 0o644, flush: true });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Creates `path` with `content` unless it already exists. The file is written aside and linked
 * into place, so a concurrent reader never sees it empty or half written.
 */
export async function createFileIfAbsent(path: string, content: string): Promise<void> {
  const temporary = temporaryPathBeside(path);
  try {
    await writeFile(temporary, content, { flag: 'wx', mode: 0o644, flush: true });
    await link(temporary, path);
  } catch (error) {
    if (!isErrorCode(error, 'EEXIST')) throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/** A unique hidden name in the same directory, so a rename onto `path` is atomic. */
export function temporaryPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

export function isErrorCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
