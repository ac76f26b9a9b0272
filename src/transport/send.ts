import type { Readable } from 'node:stream';
import { TransportError } from '../errors.js';
import type { DispatcherPool } from './agents.js';
import type { HttpRequest, HttpResponse, RequestBody, Send } from './types.js';

const certificateErrors = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Codes that mean the server answered TLS with something else (it speaks plain HTTP). */
export const notTlsErrors = new Set([
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
]);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_CONNECT') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (error as { code?: string }).code;
}

/** Turns a network or TLS failure into one line a user can act on. */
export function describeNetworkError(error: unknown, url: URL): TransportError {
  const code = errorCode(error) ?? '';
  const host = url.host;
  const reason = error instanceof Error ? error.message : String(error);
  if (certificateErrors.has(code)) {
    return new TransportError(`TLS certificate of ${host} is not trusted (${code})`, {
      hint: `pass --ca-file CA.pem, or put the CA in /etc/docker/certs.d/${host}/ca.crt; --insecure skips verification`,
      cause: error,
    });
  }
  if (notTlsErrors.has(code)) {
    return new TransportError(`${host} does not speak TLS (${code})`, {
      hint: 'use --plain-http for an HTTP registry',
      cause: error,
    });
  }
  if (code === 'ECONNREFUSED') {
    return new TransportError(`cannot connect to ${host}: connection refused`, {
      hint: 'is the registry running, and is the address right?',
      cause: error,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new TransportError(`cannot resolve ${url.hostname}`, {
      hint: 'check the registry name',
      cause: error,
    });
  }
  if (code.startsWith('UND_ERR_') && code.includes('TIMEOUT')) {
    return new TransportError(`${host} did not answer in time (${code})`, { cause: error });
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
    return new TransportError(`connection to ${host} was reset`, { cause: error });
  }
  return new TransportError(`request to ${host} failed: ${reason}`, { cause: error });
}

export function isNetworkError(error: unknown): boolean {
  return error instanceof TransportError;
}

function bodyOf(body: RequestBody | undefined): { body?: Buffer | Readable; length?: number } {
  if (body === undefined) return {};
  if (body instanceof Uint8Array)
    return { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength), length: body.byteLength };
  if (body.kind === 'replayable') return { body: body.open(), length: body.length };
  return { body: body.stream, length: body.length };
}

function lowerCaseHeaders(headers: Record<string, string | string[] | undefined>): HttpResponse['headers'] {
  const out: HttpResponse['headers'] = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/** The bottom of the stack: one request over the origin's dispatcher, no redirects followed. */
export function createBaseSend(pool: DispatcherPool, userAgent: string): Send {
  return async (request: HttpRequest): Promise<HttpResponse> => {
    const dispatcher = await pool.get(request.url, request.crossOrigin === true);
    const { body, length } = bodyOf(request.body);
    const headers: Record<string, string> = { 'user-agent': userAgent, ...request.headers };
    if (length !== undefined) headers['content-length'] = String(length);
    try {
      const response = await dispatcher.request({
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: request.method,
        headers,
        body,
        signal: request.signal,
      });
      return {
        status: response.statusCode,
        headers: lowerCaseHeaders(response.headers),
        body: response.body,
        url: request.url,
      };
    } catch (error) {
      if (body && 'destroy' in body) body.destroy();
      if ((error as { name?: string }).name === 'AbortError') throw error;
      throw describeNetworkError(error, request.url);
    }
  };
}
