import { createHash, type Hash } from 'node:crypto';
import { constants, renameSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError, isTugError, SizeLimitError } from '../../errors.js';
import { isVerified, parseDigest, STREAM_BUFFER } from '../../oci/index.js';
import { isClaimed } from '../../transport/socket-reads.js';
import {
  assertAllWritten,
  type BlobIdentity,
  blobPath,
  blobState,
  type LayoutDirectories,
} from './blob-files.js';
import { SyncedFile } from './synced-file.js';

/**
 * Where a layout keeps the part of a blob an interrupted download wrote, as containerd keeps
 * its ingest directory: `<layout>/.tug-ingest/<algorithm>-<hex>`. The file is the blob's first
 * bytes; it is removed once the blob is complete (renamed into `blobs/`) or found corrupt.
 */
export const INGEST_DIRECTORY = '.tug-ingest';

function ingestPath(root: string, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(root, INGEST_DIRECTORY, `${algorithm}-${hex}`);
}

/** The bytes kept of a blob; a kept part longer than the blob is corrupt and removed. */
export async function partialBlobSize(root: string, blob: BlobIdentity): Promise<number> {
  const path = ingestPath(root, blob.digest);
  const { state, size } = await blobState(path);
  if (state !== 'file') return 0;
  if (size > blob.size) {
    await rm(path, { force: true });
    return 0;
  }
  return size;
}

async function hashPart(path: string, hash: Hash, length: number): Promise<void> {
  if (length === 0) return;
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for await (const chunk of handle.createReadStream({ start: 0, end: length - 1, autoClose: false })) {
      hash.update(chunk as Buffer);
    }
  } finally {
    await handle.close();
  }
}

/** A pass-through that hashes the blob's bytes from `offset` on and fails past its size. */
function hashedRest(
  blob: BlobIdentity,
  offset: number,
  hash: Hash,
): { stream: Transform; written: () => number } {
  let written = offset;
  const stream = new Transform({
    highWaterMark: STREAM_BUFFER,
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      written += chunk.byteLength;
      if (written > blob.size) {
        done(new SizeLimitError(`size exceeds descriptor: ${blob.digest} is longer than ${blob.size} bytes`));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return { stream, written: () => written };
}

/**
 * Appends `content` (the blob from `offset` on) to the part kept in the ingest directory, hashing
 * the kept part first, then moves the whole into `blobs/` once its size and digest are right.
 * A wrong size or digest removes the part (the next attempt starts over); an interrupted stream
 * leaves it, so the next attempt continues from there.
 */
export async function writeBlobFrom(
  directories: LayoutDirectories,
  blob: BlobIdentity,
  offset: number,
  content: Readable,
): Promise<void> {
  const { root } = directories;
  const { algorithm, hex } = parseDigest(blob.digest);
  const path = ingestPath(root, blob.digest);
  await directories.ensure(join(root, INGEST_DIRECTORY));
  // A whole blob from a verifying source fails its stream on a mismatch: no second hash is needed.
  const trusted = offset === 0 && isVerified(content, blob);
  try {
    if (trusted) {
      const file = await SyncedFile.continueAt(path, offset, isClaimed(content));
      await pipeline(content, file);
      assertAllWritten(file, offset, blob);
    } else {
      const hash = createHash(algorithm);
      await hashPart(path, hash, offset);
      const rest = hashedRest(blob, offset, hash);
      await pipeline(content, rest.stream, await SyncedFile.continueAt(path, offset, isClaimed(content)));
      if (rest.written() !== blob.size) {
        throw new SizeLimitError(`${blob.digest} ended at ${rest.written()} bytes, not ${blob.size}`);
      }
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== `${algorithm}:${hex}`) throw new DigestMismatchError(blob.digest, actual);
    }
  } catch (error) {
    // Wrong bytes (too many, too few, or a digest that does not match) are not worth resuming.
    if (isTugError(error, 'TOO_LARGE') || isTugError(error, 'DIGEST_MISMATCH'))
      await rm(path, { force: true });
    throw error;
  }
  const final = blobPath(root, blob.digest);
  await directories.ensureBlobDirectory(final);
  // Synchronous, as blobState: a rename within the layout is one short system call.
  renameSync(path, final);
}
