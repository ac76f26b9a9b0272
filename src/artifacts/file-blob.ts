import { createHash, type Hash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Descriptor } from '../oci/types.js';

/** A pass-through that feeds every chunk to `hash` (and its size to `onBytes`). */
export function hashing(hash: Hash, onBytes: (n: number) => void = () => {}): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      onBytes(chunk.byteLength);
      done(null, chunk);
    },
  });
}

/** The digest and size of a file, read once as a stream. */
export async function describeFile(path: string, mediaType: string): Promise<Descriptor> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { mediaType, digest: `sha256:${hash.digest('hex')}`, size };
}

export interface SpooledFile {
  path: string;
  descriptor: Descriptor;
  remove(): Promise<void>;
}

/**
 * Saves a one-shot stream (stdin) to a private temporary file while hashing it, so that it can
 * be described before an upload and sent again if the upload is retried.
 */
export async function spoolToFile(content: Readable, mediaType: string): Promise<SpooledFile> {
  const directory = await mkdtemp(join(tmpdir(), 'tug-'));
  const path = join(directory, randomBytes(6).toString('hex'));
  const remove = () => rm(directory, { recursive: true, force: true });
  const hash = createHash('sha256');
  let size = 0;
  const hashed = hashing(hash, (n) => {
    size += n;
  });
  try {
    await pipeline(content, hashed, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, descriptor: { mediaType, digest: `sha256:${hash.digest('hex')}`, size }, remove };
}
