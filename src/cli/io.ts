import type { Readable, Writable } from 'node:stream';

/** The process streams and environment a command runs with; tests and the library can pass their own. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Touching process.stdin opens it as a stream (loading tty or file-stream code) at start-up,
    // while most commands never read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
  };
}

export function isTty(stream: Writable): boolean {
  return (stream as Writable & { isTTY?: boolean }).isTTY === true;
}

/**
 * Calls `onClosed` once when the reader of `stream` goes away (`tug inspect X | head -1`), and
 * keeps every later write error quiet: a closed stdout ends a command, as it ends `git log`.
 * The listener stays for the life of the stream, since a write's error may arrive after the
 * command has returned.
 */
export function watchClosedStdout(stream: Writable, onClosed: () => void): void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (closed) return;
    if (error.code !== 'EPIPE') throw error;
    closed = true;
    onClosed();
  });
}
