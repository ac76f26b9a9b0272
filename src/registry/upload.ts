import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError, TransportError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { cleanupSignal } from '../signal.js';
import { discardBody, headerValue, sameOrigin } from '../transport/index.js';
import { isClaimed, releaseReceived } from '../transport/socket-reads.js';
import type { HttpRequest, RequestBody, Send } from '../transport/types.js';
import type { RegistryConnection } from './connection.js';
import { errorFromResponse } from './errors.js';

/** Largest chunk a registry may demand with OCI-Chunk-Min-Length; beyond it tug refuses. */
export const MAX_CHUNK = 64 * 1024 * 1024;

/** Where and how a blob goes up. */
export interface UploadTarget {
  connection: RegistryConnection;
  repository: string;
  descriptor: Descriptor;
  scopes: string[];
  monolithicMax: number;
  chunkSize: number;
  describe: (what: string) => string;
  signal?: AbortSignal;
}

interface UploadRequest extends UploadTarget {
  body: RequestBody;
}

/**
 * An upload session's Location, resolved against the request URL with its query kept; it must stay
 * on the registry's origin, where the credentials may go.
 */
export function uploadLocation(location: string | undefined, request: URL, registry: URL): URL {
  if (!location) throw new TransportError(`${registry.host} started an upload without a Location`);
  const url = new URL(location, request);
  if (!sameOrigin(url, registry)) {
    throw new TransportError(
      `refusing an upload Location on another origin (${url.host}) from ${registry.host}`,
    );
  }
  return url;
}

function streamOf(body: RequestBody): Readable {
  if (body instanceof Uint8Array) return Readable.from([body]);
  return body.kind === 'replayable' ? body.open() : body.stream;
}

/**
 * A sink that gathers what it is written into chunks of `size` bytes (the last one shorter) and
 * hands each to `send`, one at a time: the source waits while a chunk is sent. Every chunk is
 * gathered in the same buffer, refilled only once `send` has settled (the registry has the chunk).
 * So a piece of the source lives only until it is copied: V8 frees such reads in its frequent
 * young-generation collections, where reads kept for a whole chunk's round trip would outlive them
 * and wait for a full collection, which V8 runs only every 64 MB of such garbage.
 */
function chunkSink(size: number, send: (chunk: Buffer) => Promise<void>, releasesPieces: boolean): Writable {
  let buffer: Buffer | undefined;
  let length = 0;
  const gather = async (piece: Buffer) => {
    let rest = piece;
    while (rest.byteLength > 0) {
      buffer ??= Buffer.allocUnsafeSlow(size);
      const taken = rest.copy(buffer, length);
      length += taken;
      rest = rest.subarray(taken);
      if (length === size) {
        length = 0;
        await send(buffer);
      }
    }
    // Every byte of the piece is in the chunk now: the memory it came in may hold later reads.
    if (releasesPieces) releaseReceived([piece]);
  };
  return new Writable({
    write(piece: Buffer, _encoding, done) {
      gather(piece).then(() => done(), done);
    },
    final(done) {
      if (length === 0 || buffer === undefined) return done();
      send(buffer.subarray(0, length)).then(() => done(), done);
    },
  });
}

/**
 * A chunk's answer must not say the registry holds a different number of bytes than were sent
 * (`Range: 0-<last>`, with or without `bytes=`); without the header there is nothing to check.
 */
export function checkUploadedRange(range: string | undefined, sent: number, host: string): void {
  if (range === undefined) return;
  const match = /^\s*(?:bytes=)?0-(\d+)\s*$/.exec(range);
  if (!match) throw new TransportError(`${host} answered an upload chunk with a malformed Range: ${range}`);
  const held = Number(match[1]) + 1;
  if (held !== sent) {
    throw new TransportError(`${host} holds ${held} bytes of the upload after ${sent} were sent`);
  }
}

/** How many bytes an upload session holds: `GET <location>` answers `204` with `Range: 0-<last>`. */
async function heldBytes(
  send: Send,
  location: URL,
  scopes: string[],
  host: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  const response = await send({ method: 'GET', url: location, scopes, signal });
  discardBody(response);
  const match = /^\s*(?:bytes=)?0-(\d+)\s*$/.exec(headerValue(response, 'range') ?? '');
  if (response.status !== 204 || !match) {
    throw new TransportError(
      `${host} could not say how much of the upload it holds (HTTP ${response.status})`,
    );
  }
  // distribution answers `0-0` for an empty session as well as for one byte: read it as empty.
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

/** An upload session opened before its bytes are at hand. */
export interface BlobUpload {
  /**
   * Sends the blob, in one streamed PUT (up to `monolithicMax`) or in PATCH chunks with
   * Content-Range closed by an empty PUT, always following the latest Location; the PUT names the
   * digest. A failure cancels the session, best effort.
   */
  send(body: RequestBody): Promise<void>;
  /** Gives the session up unsent, best effort: never rejects. */
  cancel(): Promise<void>;
}

/**
 * POSTs an upload session, so a copy can open it while the source is still answering; the blob's
 * bytes follow with {@link BlobUpload.send}.
 */
export async function openUpload(upload: UploadTarget): Promise<BlobUpload> {
  const session = await startSession(upload);
  return {
    async send(body) {
      const request = { ...upload, body };
      try {
        if (upload.descriptor.size > upload.monolithicMax) await sendChunks(request, session);
        await finishSession(request, session);
      } catch (error) {
        await cancelSession(upload, session);
        throw error;
      }
    },
    cancel: () => cancelSession(upload, session),
  };
}

/** An open upload session: where the next request goes, and the smallest chunk the registry takes. */
interface UploadSession {
  location: URL;
  minimumChunk: number;
}

/** POST: opens the session (distribution-spec, "Pushing blobs"). */
async function startSession(upload: UploadTarget): Promise<UploadSession> {
  const { send, baseUrl } = upload.connection;
  const request: HttpRequest = {
    method: 'POST',
    url: new URL(`/v2/${upload.repository}/blobs/uploads/`, baseUrl),
    scopes: upload.scopes,
    signal: upload.signal,
  };
  const started = await send(request);
  if (started.status !== 202) throw await errorFromResponse(operationOf(upload), request, started);
  discardBody(started);
  const location = uploadLocation(headerValue(started, 'location'), request.url, baseUrl);
  const minimumChunk = Number(headerValue(started, 'oci-chunk-min-length') ?? 0);
  if (minimumChunk > MAX_CHUNK)
    throw new TransportError(
      `${baseUrl.host} demands chunks of ${minimumChunk} bytes, over tug's ${MAX_CHUNK}`,
    );
  return { location, minimumChunk };
}

function operationOf(upload: UploadTarget): string {
  return upload.describe(`upload ${upload.descriptor.digest} to`);
}

/** PATCH after PATCH, one chunk in memory at a time (distribution-spec, "Pushing a blob in chunks"). */
async function sendChunks(upload: UploadRequest, session: UploadSession): Promise<void> {
  let offset = 0;
  let patching: Promise<unknown> = Promise.resolve();
  // A blob smaller than a chunk needs a buffer of its own size only.
  const size = Math.max(
    1,
    Math.min(Math.max(upload.chunkSize, session.minimumChunk), upload.descriptor.size),
  );
  const source = streamOf(upload.body);
  const sink = chunkSink(
    size,
    (chunk) => {
      const patched = patchChunk(upload, session, chunk, offset).then((end) => {
        offset = end;
      });
      patching = patched.catch(() => undefined);
      return patched;
    },
    isClaimed(source),
  );
  try {
    await pipeline(source, sink);
  } finally {
    // A source that fails mid-chunk ends the pipeline at once: the upload ends, and its session is
    // cancelled, only once the PATCH in flight is answered.
    await patching;
  }
}

/** One PATCH of the chunk starting at `offset`; returns the offset after it. */
async function patchChunk(
  upload: UploadRequest,
  session: UploadSession,
  chunk: Buffer,
  offset: number,
): Promise<number> {
  const { send, baseUrl } = upload.connection;
  const { scopes, signal } = upload;
  const end = offset + chunk.byteLength;
  const request: HttpRequest = {
    method: 'PATCH',
    url: session.location,
    scopes,
    headers: {
      'content-type': 'application/octet-stream',
      'content-range': `${offset}-${end - 1}`,
    },
    body: chunk,
    signal,
  };
  let response = await send(request);
  if (response.status === 416) {
    // Out of step: ask the session how much it holds, then re-send this chunk or go on.
    discardBody(response);
    const held = await heldBytes(send, session.location, scopes, baseUrl.host, signal);
    if (held === end) return end;
    if (held !== offset) {
      throw new TransportError(`${baseUrl.host} holds ${held} bytes of the upload, tug sent ${offset}`);
    }
    response = await send(request);
  }
  // 202 is the spec's answer; some registries (ECR) answer a chunk with 201.
  if (response.status !== 202 && response.status !== 201) {
    throw await errorFromResponse(operationOf(upload), request, response);
  }
  discardBody(response);
  checkUploadedRange(headerValue(response, 'range'), end, baseUrl.host);
  session.location = uploadLocation(
    headerValue(response, 'location') ?? session.location.href,
    request.url,
    baseUrl,
  );
  return end;
}

/** PUT ?digest=: the whole blob when it is small, else an empty body closing the chunks sent. */
async function finishSession(upload: UploadRequest, session: UploadSession): Promise<void> {
  const { descriptor, scopes, signal } = upload;
  const monolithic = descriptor.size <= upload.monolithicMax;
  const closing: HttpRequest = {
    method: 'PUT',
    url: withDigest(session.location, descriptor.digest),
    scopes,
    ...(monolithic
      ? { headers: { 'content-type': 'application/octet-stream' }, body: upload.body }
      : { body: new Uint8Array(0) }),
    signal,
  };
  const done = await upload.connection.send(closing);
  if (done.status !== 201) throw await errorFromResponse(operationOf(upload), closing, done);
  discardBody(done);
  const answered = headerValue(done, 'docker-content-digest');
  if (answered && answered !== descriptor.digest) throw new DigestMismatchError(descriptor.digest, answered);
}

/** DELETE: a failed upload leaves no session behind, best effort and briefly after an abort. */
async function cancelSession(upload: UploadTarget, session: UploadSession): Promise<void> {
  const cancel = await upload.connection
    .send({
      method: 'DELETE',
      url: session.location,
      scopes: upload.scopes,
      signal: cleanupSignal(upload.signal),
    })
    .catch(() => undefined);
  if (cancel) discardBody(cancel);
}
