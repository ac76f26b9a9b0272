import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Streams into a temporary file beside `path` and renames it only once the source ended
 * without error (the source verifies its digest), so `path` never holds a partial file.
 */
export async function writeFileAtomically(path: string, content: Readable): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.tug-${randomBytes(6).toString('hex')}`);
  try {
    await pipeline(content, createWriteStream(temporary, { flags: 'wx', mode: 0o644 }));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function writeToStream(content: Readable, destination: Writable): Promise<void> {
  await pipeline(content, destination, { end: false });
}
