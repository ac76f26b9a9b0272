import type { Socket } from 'node:net';

/** The most one read from a plain-HTTP socket takes: 16 times Node's fixed 64 KiB. */
const READ_SIZE = 1024 * 1024;

let shared: Buffer | undefined;

/**
 * `net.connect` options that read a plain-HTTP socket up to 1 MiB at a time, where Node reads
 * 64 KiB per call whatever the kernel holds. Each read lands in one buffer shared by every
 * socket and is copied out at its exact length before the next read can start (reads run one
 * at a time on the event loop), so a busy download hands the HTTP parser, the verifier and the
 * file or upload one chunk where it handed sixteen. TLS sockets are left alone: they decrypt
 * record by record, 16 KiB at most.
 */
export function largeReads(): {
  onread: { buffer: Buffer; callback: (this: Socket, length: number, buffer: Uint8Array) => boolean };
} {
  shared ??= Buffer.allocUnsafe(READ_SIZE);
  return {
    onread: {
      buffer: shared,
      callback(length, buffer) {
        // false pauses the socket until its reader catches up, as push does for Node's own reads.
        return this.push(Buffer.from(buffer.subarray(0, length)));
      },
    },
  };
}
