import type { Readable } from 'node:stream';
import { SizeLimitError, TransportError } from '../errors.js';
import { monotonicMs } from './clock.js';
import { SlowBodyError } from './network-error.js';
import type { HttpResponse } from './types.js';

/** The slowest a body may arrive, averaged over the idle timeout, before it fails. */
export const MIN_BODY_BYTES_PER_SECOND = 1024;

/**
 * The floor on a body's pace: it fails with SlowBodyError when, over `pace.windowMs` of waiting
 * for the server, fewer than `minBytesPerSecond` × window bytes arrive. Only time spent waiting
 * for the next chunk counts: a reader that is slow itself (a slow disk, a slow upload) is never
 * blamed on the server. An idle timeout alone lets a body of one byte a second run for days.
 */
export class PaceWatch {
  readonly #response: Pick<HttpResponse, 'pace' | 'url'>;
  readonly #quota: number;
  #waited = 0;
  #bytes = 0;
  #waitingSince = monotonicMs();

  constructor(response: Pick<HttpResponse, 'pace' | 'url'>) {
    this.#response = response;
    const { pace } = response;
    this.#quota = pace ? (pace.minBytesPerSecond * pace.windowMs) / 1000 : 0;
  }

  /** A chunk arrived: throws SlowBodyError when the window went by without the quota. */
  received(bytes: number): void {
    const { pace } = this.#response;
    if (!pace) return;
    this.#waited += monotonicMs() - this.#waitingSince;
    this.#bytes += bytes;
    if (this.#bytes >= this.#quota) {
      this.#waited = 0;
      this.#bytes = 0;
    } else if (this.#waited >= pace.windowMs) {
      throw new SlowBodyError(this.#response.url.host, pace.minBytesPerSecond, pace.windowMs);
    }
  }

  /** Tug waits for the server again from now (after handling a chunk, or after pausing the body). */
  waiting(): void {
    this.#waitingSince = monotonicMs();
  }
}

/** The chunks of a body, at no less than its pace (see {@link PaceWatch}). */
export async function* pacedChunks(
  response: Pick<HttpResponse, 'body' | 'pace' | 'url'>,
): AsyncGenerator<Buffer> {
  const pace = new PaceWatch(response);
  for await (const piece of response.body) {
    const chunk = piece as Buffer;
    pace.received(chunk.byteLength);
    yield chunk;
    pace.waiting();
  }
}

/** What tug reads of an error body, a token response or a page: never more. */
export const MAX_SMALL_BODY = 1024 * 1024;

/** Reads a body up to `maxBytes`; one byte more is an error and the rest is not read. */
export async function readBodyBytes(response: HttpResponse, maxBytes = MAX_SMALL_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of pacedChunks(response)) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      closeBody(response.body);
      throw new SizeLimitError(`response from ${response.url.host} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function readBodyText(response: HttpResponse, maxBytes = MAX_SMALL_BODY): Promise<string> {
  return (await readBodyBytes(response, maxBytes)).toString('utf8');
}

export async function readBodyJson<T>(response: HttpResponse, maxBytes = MAX_SMALL_BODY): Promise<T> {
  const text = await readBodyText(response, maxBytes);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TransportError(
      `${response.url.host} answered with a body that is not JSON (HTTP ${response.status})`,
    );
  }
}

/**
 * Closes a body that will not be read, at once. Destroying an unread undici body emits an abort
 * error; with no listener that error would end the process.
 */
export function closeBody(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/** Up to this much of an unwanted body is read so its connection can be reused; past it the socket is closed. */
const DISCARD_LIMIT = 128 * 1024;

interface Dumpable {
  dump(options: { limit: number }): Promise<void>;
}

function canDump(body: Readable): body is Readable & Dumpable {
  return typeof (body as Partial<Dumpable>).dump === 'function';
}

/** Frees the connection of a response whose body is not wanted, without reading an endless body. */
export function discardBody(response: { body: Readable }): void {
  const { body } = response;
  body.on('error', () => {});
  if (canDump(body)) {
    body.dump({ limit: DISCARD_LIMIT }).catch(() => body.destroy());
    return;
  }
  body.resume();
}

export function headerValue(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
