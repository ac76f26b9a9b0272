import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ReadSlabs } from './read-slabs.js';
import { releaseOnceSent } from './sent-chunks.js';

/** The most one read from a plain-HTTP socket takes: 16 times Node's fixed 64 KiB. */
const READ_SIZE = 1024 * 1024;

/**
 * Reads below this size (headers, small documents, the tail of a body) get a buffer of their own
 * rather than a piece of a slab, where a reader that never releases them would hold the whole
 * slab back from reuse.
 */
const SMALL_READ = 16 * 1024;

/** Slabs kept for reuse: enough for the blobs in flight, bounded in memory. */
const SPARE_SLABS = 16;

interface ReadOptions {
  onread: { buffer: Buffer; callback: (this: Socket, length: number, buffer: Uint8Array) => boolean };
}

const slabs = new ReadSlabs(READ_SIZE, SPARE_SLABS);
let options: ReadOptions | undefined;
/** Downloads tug started, whose chunks nobody outside tug has been given. */
const unread = new WeakSet<Readable>();
/** Downloads claimed by one sink, the only reader their chunks will ever have. */
const claimed = new WeakSet<Readable>();

/**
 * `net.connect` options that read a plain-HTTP socket up to 1 MiB at a time, where Node reads
 * 64 KiB per call whatever the kernel holds: a busy download hands the HTTP parser, the verifier
 * and the file or upload one chunk where it handed sixteen. TLS sockets are left alone: they
 * decrypt record by record, 16 KiB at most.
 *
 * Every socket reads into one shared buffer, and each read is copied out before the next can
 * start (reads run one at a time on the event loop). The copies go one after another into 1 MiB
 * slabs, so the allocator sees a single size, and a slab whose bytes have all been written where
 * they were going is used again (see {@link ReadSlabs} and {@link releaseReceived}).
 */
export function largeReads(): ReadOptions {
  if (options) return options;
  // Every body chunk undici makes passes here on its way to the reader: how a slab learns what
  // was cut from it.
  subscribe('undici:request:bodyChunkReceived', (message) => {
    const { chunk } = message as { chunk: Uint8Array };
    slabs.handedOut(chunk);
  });
  // An upload is a claimed download's last stop too, once its socket has sent the chunks.
  releaseOnceSent((body) => body instanceof Readable && claimed.has(body), releaseReceived);
  options = {
    onread: {
      buffer: Buffer.allocUnsafe(READ_SIZE),
      callback(length, buffer) {
        const read = buffer.subarray(0, length);
        // false pauses the socket until its reader catches up, as push does for Node's own reads.
        return this.push(length < SMALL_READ ? Buffer.from(read) : slabs.cut(read));
      },
    },
  };
  return options;
}

/** Marks `stream`, a download tug just made, as one whose chunks no one has been given yet. */
export function markUnread<T extends Readable>(stream: T): T {
  unread.add(stream);
  return stream;
}

/**
 * Claims `stream` for the sink about to read it, if it is a download no one has read from or
 * listened to: that sink then holds its chunks alone and may release them. A stream a caller
 * could have read too (one a library user passed in, or one with a reader already) is never
 * claimed, and its chunks are never released.
 */
export function claimForOneReader(stream: Readable): void {
  const untouched =
    stream.readableFlowing === null &&
    !stream.readableDidRead &&
    stream.listenerCount('data') === 0 &&
    stream.listenerCount('readable') === 0;
  if (unread.has(stream) && untouched) claimed.add(stream);
}

/** Whether the sink reading `stream` is its only reader (see {@link claimForOneReader}). */
export function isClaimed(stream: Readable): boolean {
  return claimed.has(stream);
}

/**
 * Says that these chunks of a response body have reached their last stop (a file, written) and
 * nothing will read them again: the memory they came in may hold later reads. Only a sink reading
 * a claimed stream may say so. Chunks that did not come from a plain-HTTP socket read are
 * ignored, so such a sink may pass everything it wrote.
 */
export function releaseReceived(chunks: readonly Uint8Array[]): void {
  for (const chunk of chunks) slabs.release(chunk);
}
