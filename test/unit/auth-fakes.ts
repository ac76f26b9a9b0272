import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse, Send } from '../../src/transport/types.js';

/** A canned response; `body` may be a string, bytes or a stream. */
export function response(
  request: HttpRequest,
  status: number,
  headers: Record<string, string | string[]> = {},
  body: string | Buffer | Readable = '',
): HttpResponse {
  return {
    status,
    headers,
    body: body instanceof Readable ? body : Readable.from([Buffer.from(body)]),
    url: request.url,
  };
}

export function jsonResponse(request: HttpRequest, status: number, body: unknown): HttpResponse {
  return response(request, status, { 'content-type': 'application/json' }, JSON.stringify(body));
}

export interface RecordedRequest {
  method: string;
  url: URL;
  authorization: string | undefined;
  /** The request body as text (bytes bodies only). */
  body: string | undefined;
}

/** A fake transport: records every request, answers with `handler`. */
export function fakeSend(handler: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>): {
  send: Send;
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];
  const send: Send = async (request) => {
    requests.push({
      method: request.method,
      url: request.url,
      authorization: request.headers?.authorization,
      body: request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : undefined,
    });
    return handler(request);
  };
  return { send, requests };
}

/** The fields of a form-encoded request body. */
export function formOf(body: string | undefined): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body ?? ''));
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
