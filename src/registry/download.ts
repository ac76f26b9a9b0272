import { finished, type Readable } from 'node:stream';
import { TransportError } from '../errors.js';
import { createVerifier, type VerifyingStream } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { closeBody, PaceWatch, SlowBodyError } from '../transport/index.js';
import { markUnread } from '../transport/socket-reads.js';
import type { HttpResponse } from '../transport/types.js';

/** Reconnects in a row, without a byte of progress, before a blob download gives up. */
const MAX_RESUMES = 3;

/**
 * Reconnects within one blob in all, progress or not: a server that sends a byte and resets
 * costs this many requests, not one per byte.
 */
export const MAX_BLOB_RECONNECTS = 10;

/** One GET of a blob's bytes from `offset` on; `skip` of the bytes it answers were received already. */
export interface BlobPart {
  response: HttpResponse;
  skip: number;
}

/** What a resumable download needs from the repository. */
export interface BlobDownload {
  descriptor: Descriptor;
  /** The first response, from offset 0. */
  first: BlobPart;
  /** Asks for the blob again from `offset` (a `Range` request). */
  resume(offset: number): Promise<BlobPart>;
  /** The registry's host, for messages. */
  host(): Promise<string>;
  signal?: AbortSignal;
}

/**
 * The blob as a stream that fails on a size or digest mismatch before it ends; never buffered.
 * A connection lost mid-blob is resumed with `Range` from the last byte received, the hash
 * running on across reconnects (bounded: MAX_RESUMES in a row without progress,
 * MAX_BLOB_RECONNECTS in all).
 */
export function downloadBlob(download: BlobDownload): Readable {
  const verifier = createVerifier(download.descriptor);
  let response = download.first.response;
  // A reader that stops (an error elsewhere, an interrupt) releases the connection at once.
  verifier.on('close', () => closeBody(response.body));
  const state = { skip: download.first.skip, offset: 0, failures: 0, reconnects: 0 };
  const pump = async () => {
    for (;;) {
      try {
        await copyBody(response, verifier, state);
        return;
      } catch (error) {
        if (verifier.destroyed) return;
        await checkResumable(download, state, error);
        ({ response, skip: state.skip } = await download.resume(state.offset));
        if (verifier.destroyed) return closeBody(response.body);
      }
    }
  };
  pump().catch((error: unknown) => verifier.fail(error instanceof Error ? error : new Error(String(error))));
  return markUnread(verifier);
}

interface DownloadState {
  /** Bytes at the start of the current response already received. */
  skip: number;
  /** Bytes received and hashed. */
  offset: number;
  /** Reconnects since the last byte of progress. */
  failures: number;
  reconnects: number;
}

/**
 * Feeds one response's body into the verifier, dropping what was received before; ends it at the
 * end. Driven by the body's 'data' events and paused while the verifier is full: a chunk costs no
 * promise. Resolves at the end of the body, or when the verifier's reader has gone.
 */
function copyBody(response: HttpResponse, verifier: VerifyingStream, state: DownloadState): Promise<void> {
  const { body } = response;
  const pace = new PaceWatch(response);
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      body.off('data', onData);
      stopWatching();
      verifier.off('drain', onDrain);
      verifier.off('close', onGone);
      if (error) reject(error);
      else resolve();
    };
    const onData = (piece: Buffer) => {
      try {
        pace.received(piece.byteLength);
      } catch (error) {
        closeBody(body);
        settle(error as Error);
        return;
      }
      const chunk = state.skip > 0 ? skipReceived(piece, state) : piece;
      if (chunk.byteLength === 0) return;
      state.offset += chunk.byteLength;
      state.failures = 0;
      if (verifier.write(chunk)) pace.waiting();
      else body.pause();
    };
    const onDrain = () => {
      pace.waiting();
      body.resume();
    };
    const onGone = () => {
      closeBody(body);
      settle();
    };
    const stopWatching = finished(body, (error) => {
      if (error) return settle(error);
      verifier.end();
      settle();
    });
    verifier.on('drain', onDrain);
    verifier.on('close', onGone);
    body.on('data', onData);
  });
}

/** The part of `chunk` past the bytes a resumed response repeats, which were hashed already. */
function skipReceived(chunk: Buffer, state: DownloadState): Buffer {
  const dropped = Math.min(state.skip, chunk.byteLength);
  state.skip -= dropped;
  return chunk.subarray(dropped);
}

/** Throws `error` (or why no reconnect is left) unless the download may resume after it. */
async function checkResumable(download: BlobDownload, state: DownloadState, error: unknown): Promise<void> {
  download.signal?.throwIfAborted();
  state.failures += 1;
  state.reconnects += 1;
  // A body that trickles is the server's pace, not a broken connection: no reconnect helps.
  if (state.offset >= download.descriptor.size || error instanceof SlowBodyError) throw error;
  if (state.failures <= MAX_RESUMES && state.reconnects <= MAX_BLOB_RECONNECTS) return;
  const why =
    state.failures > MAX_RESUMES
      ? `${MAX_RESUMES} in a row without progress`
      : `${MAX_BLOB_RECONNECTS} in all`;
  throw new TransportError(
    `the connection to ${await download.host()} kept breaking: gave up on ${download.descriptor.digest} after ${state.reconnects - 1} reconnects (${why})`,
    { cause: error, hint: 'try again later; a proxy or network that cuts long downloads may be at fault' },
  );
}
