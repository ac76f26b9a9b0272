import type { Readable } from 'node:stream';
import type { DispatcherPool } from './agents.js';
import { MIN_BODY_BYTES_PER_SECOND } from './body.js';
import { describeNetworkError } from './network-error.js';
import type { HttpRequest, HttpResponse, RequestBody, Send, Timeouts } from './types.js';
import { request as undiciRequest } from './undici.js';

/** What a response body buffers ahead of its reader; undici's default is 64 KiB. */
const STREAM_BUFFER = 1024 * 1024;

function bodyOf(body: RequestBody | undefined): { body?: Buffer | Readable; length?: number } {
  if (body === undefined) return {};
  if (body instanceof Uint8Array) {
    return { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength), length: body.byteLength };
  }
  if (body.kind === 'replayable') return { body: body.open(), length: body.length };
  return { body: body.stream, length: body.length };
}

function lowerCaseHeaders(headers: Record<string, string | string[] | undefined>): HttpResponse['headers'] {
  const out: HttpResponse['headers'] = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function requestHeaders(
  request: HttpRequest,
  userAgent: string,
  length: number | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': userAgent };
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  if (length !== undefined) headers['content-length'] = String(length);
  return headers;
}

function isAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { code?: unknown }).code === 'UND_ERR_ABORTED')
  );
}

/** The bottom of the stack: one request over the origin's dispatcher; redirects are not followed here. */
export function createBaseSend(pool: DispatcherPool, userAgent: string, timeouts: Timeouts): Send {
  return async (request: HttpRequest): Promise<HttpResponse> => {
    const dispatcher = await pool.get(request.url, request.crossOrigin === true);
    const { body, length } = bodyOf(request.body);
    try {
      const response = await undiciRequest(dispatcher, {
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: request.method,
        headers: requestHeaders(request, userAgent, length),
        body,
        signal: request.signal,
        highWaterMark: STREAM_BUFFER,
        // undici closes the connection after every HEAD, for servers that send a body with one;
        // registries answer HEAD for every blob and manifest check, and a new connection each
        // time costs a TLS handshake. Go's client, which registries are tested with, keeps it.
        ...(request.method === 'HEAD' ? { reset: false } : {}),
      });
      return {
        status: response.statusCode,
        headers: lowerCaseHeaders(response.headers),
        body: response.body,
        url: request.url,
        pace: { windowMs: timeouts.bodyIdleMs, minBytesPerSecond: MIN_BODY_BYTES_PER_SECOND },
      };
    } catch (error) {
      if (body && !Buffer.isBuffer(body)) body.destroy();
      if (isAbort(error) || request.signal?.aborted) throw error;
      throw describeNetworkError(error, request.url, timeouts);
    }
  };
}
