import type { Socket } from 'node:net';

/** The most one read from a plain-HTTP socket takes: 16 times Node's fixed 64 KiB. */
const READ_SIZE = 1024 * 1024;

interface ReadOptions {
  onread: { buffer: Buffer; callback: (this: Socket, length: number, buffer: Uint8Array) => boolean };
}

let options: ReadOptions | undefined;

/**
 * `net.connect` options that read a plain-HTTP socket up to 1 MiB at a time, where Node reads
 * 64 KiB per call whatever the kernel holds: a busy download hands the HTTP parser, the verifier
 * and the file or upload one chunk where it handed sixteen. TLS sockets are left alone: they
 * decrypt record by record, 16 KiB at most.
 *
 * Every socket reads into one shared buffer, and each read is copied out before the next can
 * start (reads run one at a time on the event loop). The copies go one after another into 1 MiB
 * slabs, as Node's Buffer pool does with small buffers, so the allocator sees a single size and
 * reuses what a collection frees instead of growing around holes of every size: a 1 GiB copy
 * peaks some 15–25 MB lower than with a buffer of each read's own length.
 */
export function largeReads(): ReadOptions {
  if (options) return options;
  let slab = Buffer.allocUnsafeSlow(0);
  let used = 0;
  options = {
    onread: {
      buffer: Buffer.allocUnsafe(READ_SIZE),
      callback(length, buffer) {
        if (used + length > slab.byteLength) {
          slab = Buffer.allocUnsafeSlow(READ_SIZE);
          used = 0;
        }
        const chunk = slab.subarray(used, used + length);
        chunk.set(buffer.subarray(0, length));
        used += length;
        // false pauses the socket until its reader catches up, as push does for Node's own reads.
        return this.push(chunk);
      },
    },
  };
  return options;
}
