import { closeSync, constants, fdatasync, fsync, ftruncate, openSync, writev } from 'node:fs';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { STREAM_BUFFER } from '../../oci/index.js';
import { releaseReceived } from '../../transport/socket-reads.js';

const writevAt = promisify(writev);
const datasyncFile = promisify(fdatasync);
const syncFile = promisify(fsync);
const truncateFile = promisify(ftruncate);

/** Written bytes after which a background flush of the file's data starts. */
const FLUSH_EVERY = 8 * 1024 * 1024;

/**
 * A new file, written with `writev` (each batch of buffered chunks is one system call) and
 * flushed to disk as it grows: every FLUSH_EVERY bytes a datasync starts in the background, so
 * the fsync at the end, which must come before the file is renamed into place, finds little left
 * to write. `final` waits for that fsync; a failed flush fails the stream.
 *
 * The writes and flushes go through the thread pool. Opening and closing are short system calls
 * made in place, as the layout's lstat and rename are: handing each to the pool cost the event
 * loop more than the call (a thread woken, and a promise API request's own buffers).
 */
export class SyncedFile extends Writable {
  readonly #fd: number;
  readonly #releasesChunks: boolean;
  /** Where the next write lands; undefined writes at the descriptor's own position (a new file). */
  #position: number | undefined;
  #unflushed = 0;
  #written = 0;
  #flushing: Promise<void> | undefined;
  #flushError: Error | undefined;

  private constructor(fd: number, releasesChunks: boolean, position?: number) {
    super({ highWaterMark: STREAM_BUFFER });
    this.#fd = fd;
    this.#releasesChunks = releasesChunks;
    this.#position = position;
  }

  /**
   * Creates `path` (it must not exist) and opens it for writing. `releasesChunks`: the file is
   * the only reader of what it is written (see `claimForOneReader`), and says when it is done
   * with each chunk.
   */
  static async create(path: string, releasesChunks = false): Promise<SyncedFile> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    return new SyncedFile(openSync(path, flags, 0o644), releasesChunks);
  }

  /**
   * Opens `path` (created when absent, never through a link), cut to its first `position` bytes,
   * to write from there on.
   */
  static async continueAt(path: string, position: number, releasesChunks = false): Promise<SyncedFile> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;
    // From the start, opening the file empties it: no truncate call of its own.
    const fd = openSync(path, position === 0 ? flags | constants.O_TRUNC : flags, 0o644);
    try {
      if (position > 0) await truncateFile(fd, position);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return new SyncedFile(fd, releasesChunks, position);
  }

  /** Bytes written through this stream (after the position it was opened at). */
  get written(): number {
    return this.#written;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (error?: Error | null) => void): void {
    this.#write(chunks.map(({ chunk }) => chunk)).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#finish().then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A background flush may still hold the descriptor: close after it settles.
    Promise.resolve(this.#flushing).then(() => {
      try {
        closeSync(this.#fd);
      } catch (closeError) {
        done(error ?? (closeError as Error));
        return;
      }
      done(error);
    });
  }

  async #write(buffers: Buffer[]): Promise<void> {
    if (this.#flushError) throw this.#flushError;
    let written = 0;
    const total = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
    while (written < total) {
      const { bytesWritten } = await writevAt(
        this.#fd,
        written === 0 ? buffers : remaining(buffers, written),
        this.#position === undefined ? undefined : this.#position + written,
      );
      written += bytesWritten;
    }
    // On disk now: the memory the chunks came in may hold later reads.
    if (this.#releasesChunks) releaseReceived(buffers);
    if (this.#position !== undefined) this.#position += total;
    this.#written += total;
    this.#unflushed += total;
    if (this.#unflushed >= FLUSH_EVERY && !this.#flushing) {
      this.#unflushed = 0;
      this.#flushing = datasyncFile(this.#fd).then(
        () => {
          this.#flushing = undefined;
        },
        (error: unknown) => {
          this.#flushing = undefined;
          this.#flushError = error as Error;
        },
      );
    }
  }

  async #finish(): Promise<void> {
    await this.#flushing;
    if (this.#flushError) throw this.#flushError;
    await syncFile(this.#fd);
  }
}

/** The part of `buffers` after the first `offset` bytes (a short write), without copying. */
function remaining(buffers: Buffer[], offset: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = offset;
  for (const buffer of buffers) {
    if (skip >= buffer.byteLength) {
      skip -= buffer.byteLength;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
