import type { Readable } from 'node:stream';
import { SizeLimitError, TransportError } from '../errors.js';
import type { HttpResponse } from './types.js';

/** What tug reads of an error body, a token response or a page: never more. */
export const MAX_SMALL_BODY = 1024 * 1024;

/** Reads a body up to `maxBytes`; one byte more is an error and the rest is not read. */
export async function readBodyBytes(response: HttpResponse, maxBytes = MAX_SMALL_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += (chunk as Buffer).byteLength;
    if (total > maxBytes) {
      response.body.destroy();
      throw new SizeLimitError(`response from ${response.url.host} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
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
