import { constants, lstatSync, renameSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidContentError, NotFoundError, SizeLimitError } from '../../errors.js';
import { ensureVerified, parseDigest, STREAM_BUFFER, verifiedFrom } from '../../oci/index.js';
import type { Descriptor } from '../../oci/types.js';
import { PromiseCache } from '../../promise-cache.js';
import { isClaimed } from '../../transport/socket-reads.js';
import { isErrorCode, temporaryPathBeside } from './small-files.js';
import { SyncedFile } from './synced-file.js';

/** What names a blob's bytes. */
export type BlobIdentity = Pick<Descriptor, 'digest' | 'size'>;

/** What is at a blob's final path. */
export type BlobState = 'absent' | 'file' | 'other';

/**
 * `blobs/<algorithm>/<hex>` of a layout. The path is built only from a digest that parseDigest
 * accepted, so `sha256:../../etc/passwd` never reaches the filesystem.
 */
export function blobPath(root: string, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(root, 'blobs', algorithm, hex);
}

/**
 * The directories a layout's writes go into (`blobs/`, `blobs/<algorithm>/`, the ingest
 * directory), each made sure of once per target: a real directory, never a symlink, created when
 * absent. Asking again for every blob cost a few system calls per blob, and would not stop a
 * directory swapped for a symlink during a copy either: the swap can come between any check and
 * the write after it. What the check stops is a layout that comes with such a link.
 */
export class LayoutDirectories {
  readonly #ready = new PromiseCache<void>();

  constructor(readonly root: string) {}

  /** Makes sure of `path`, a directory of the layout; a failure is not remembered. */
  ensure(path: string): Promise<void> {
    return this.#ready.get(path, () => ensureLayoutDirectory(this.root, path));
  }

  /**
   * `blobs/` and `blobs/<algorithm>/`, one level at a time, so no write lands outside the layout
   * (a recursive mkdir would follow a symlinked `blobs` and create `<algorithm>` wherever it points).
   */
  async ensureBlobDirectory(blob: string): Promise<void> {
    const directory = dirname(blob);
    await this.ensure(dirname(directory));
    await this.ensure(directory);
  }
}

/**
 * Makes sure `path`, a directory of the layout at `root`, is a real directory (never through a
 * symlink), creating it when it is absent. Looked at first, so the usual case (it is there) costs
 * one lstat and no failed mkdir.
 */
async function ensureLayoutDirectory(root: string, path: string): Promise<void> {
  const found = await lstat(path).catch((error: unknown) => {
    if (isErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  });
  if (found?.isDirectory()) return;
  if (found) throw notADirectory(path, root);
  await mkdir(path).catch((error: unknown) => {
    if (!isErrorCode(error, 'EEXIST')) throw error;
  });
  if (!(await lstat(path)).isDirectory()) throw notADirectory(path, root);
}

/**
 * Refuses a layout whose `blobs`, or any directory directly in it, is a symlink or not a
 * directory: checked before tug creates anything in the layout.
 */
export async function assertBlobDirectories(root: string): Promise<void> {
  const blobs = join(root, 'blobs');
  const info = await lstat(blobs).catch((error: unknown) => {
    if (isErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  });
  if (info === undefined) return;
  if (!info.isDirectory()) throw notADirectory(blobs, root);
  for (const entry of await readdir(blobs, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) throw notADirectory(join(blobs, entry.name), root);
  }
}

function notADirectory(path: string, root: string): InvalidContentError {
  return new InvalidContentError(`${path} in OCI layout ${root} is a symbolic link or not a directory`);
}

/**
 * What is at `path`. Asked synchronously: a copy asks three times per blob, and each call through
 * the thread pool cost the event loop 50-150 µs on two cores (the hand-off, and for a missing
 * file an Error with its stack), where the system call itself takes a few.
 */
export async function blobState(path: string): Promise<{ state: BlobState; size: number }> {
  try {
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (info === undefined) return { state: 'absent', size: 0 };
    return { state: info.isFile() ? 'file' : 'other', size: info.size };
  } catch (error) {
    if (isErrorCode(error, 'ENOTDIR')) return { state: 'absent', size: 0 };
    throw error;
  }
}

/** The blob as a stream that fails on a size or digest mismatch; never follows a symlink. */
export async function openVerifiedBlob(root: string, descriptor: BlobIdentity): Promise<Readable> {
  const path = blobPath(root, descriptor.digest);
  const { state } = await blobState(path);
  if (state === 'absent')
    throw new NotFoundError(`blob ${descriptor.digest} not found in OCI layout ${root}`);
  if (state === 'other') throw notARegularFile(descriptor.digest, root);
  // O_NOFOLLOW closes the gap between the lstat above and the open.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
    throw isErrorCode(error, 'ELOOP') ? notARegularFile(descriptor.digest, root) : error;
  });
  return verifiedFrom(handle.createReadStream({ highWaterMark: STREAM_BUFFER }), descriptor);
}

/**
 * Streams `content` into a new temporary file in the blob's directory, checking size and digest
 * on the way, flushes it, and renames it to its final name only then. Removes the temporary file
 * on any failure, so a half-written blob never appears under its digest.
 */
export async function writeBlob(
  directories: LayoutDirectories,
  descriptor: BlobIdentity,
  content: Readable,
): Promise<void> {
  const path = blobPath(directories.root, descriptor.digest);
  await directories.ensureBlobDirectory(path);
  const temporary = temporaryPathBeside(path);
  try {
    const file = await SyncedFile.create(temporary, isClaimed(content)).catch((error: unknown) => {
      content.destroy();
      throw error;
    });
    await pipeline(ensureVerified(content, descriptor), file);
    // A verified stream checked every byte it passed on, but not that they all came here: a
    // stream someone else had read from could end having written less.
    assertAllWritten(file, 0, descriptor);
    // Synchronous, as blobState: a rename within a directory is one short system call.
    renameSync(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Fails unless the file holds `descriptor.size` bytes: the `offset` kept before, and what it was written. */
export function assertAllWritten(file: SyncedFile, offset: number, descriptor: BlobIdentity): void {
  const held = offset + file.written;
  if (held !== descriptor.size) {
    throw new SizeLimitError(`short read: got ${held} of ${descriptor.size} bytes of ${descriptor.digest}`);
  }
}

export function notARegularFile(digest: string, root: string): InvalidContentError {
  return new InvalidContentError(
    `blob ${digest} in OCI layout ${root} is a symbolic link or not a regular file`,
  );
}
