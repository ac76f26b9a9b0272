import { TransportError } from '../errors.js';
import { mayPointTo, sameOrigin } from './address.js';
import { discardBody, headerValue } from './body.js';
import { redactUrl } from './redact.js';
import { isReplayable } from './retry.js';
import type { HttpRequest, Send } from './types.js';

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
export const MAX_REDIRECTS = 10;

/** Headers that may follow a redirect to another origin: nothing that identifies the user. */
const portableHeaders = new Set([
  'accept',
  'accept-encoding',
  'content-type',
  'content-length',
  'range',
  'user-agent',
  'if-match',
  'if-none-match',
]);
const bodyHeaders = ['content-type', 'content-length', 'content-range', 'content-encoding', 'digest'];

/**
 * Where a redirect may go. Refused: a scheme other than http(s), an https → http downgrade, and
 * a server sending tug to an address closer to this machine than itself (public → private IP).
 */
export function checkRedirect(from: URL, location: string): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new TransportError(`${from.host} redirected to an invalid location`);
  }
  if (to.protocol !== 'https:' && to.protocol !== 'http:') {
    throw new TransportError(
      `refusing a redirect from ${from.host} to a ${to.protocol} URL: ${redactUrl(to)}`,
    );
  }
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    throw new TransportError(`refusing a redirect from HTTPS to plain HTTP: ${redactUrl(to)}`);
  }
  if (!mayPointTo(from.hostname, to.hostname)) {
    throw new TransportError(
      `refusing a redirect from ${from.host} to the private address in ${redactUrl(to)}`,
    );
  }
  return to;
}

/** Whether a redirect answer turns the request into a GET without a body (RFC 9110 §15.4). */
export function becomesGet(status: number, method: string): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  return status === 303 || ((status === 301 || status === 302) && method === 'POST');
}

/** Same origin: every header goes on. Another origin: only the headers in `portableHeaders`. */
export function headersForRedirect(
  headers: Record<string, string> | undefined,
  from: URL,
  to: URL,
): Record<string, string> {
  if (sameOrigin(from, to)) return { ...headers };
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => portableHeaders.has(name.toLowerCase())),
  );
}

function withoutBodyHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !bodyHeaders.includes(name.toLowerCase())),
  );
}

/** The request to send after a redirect answer, or an error when it may not be sent. */
export function redirectedRequest(request: HttpRequest, status: number, to: URL): HttpRequest {
  const headers = headersForRedirect(request.headers, request.url, to);
  const crossOrigin = request.crossOrigin === true || !sameOrigin(request.url, to);
  const next: HttpRequest = { ...request, url: to, headers, crossOrigin };
  if (becomesGet(status, request.method)) {
    next.method = 'GET';
    next.headers = withoutBodyHeaders(headers);
    delete next.body;
    return next;
  }
  if (!isReplayable(request)) {
    throw new TransportError(
      `${request.url.host} redirected an upload that cannot be sent twice, to ${redactUrl(to)}`,
      {
        hint: 'retry with a file source',
      },
    );
  }
  return next;
}

/** Follows redirects in tug's own code, so that credentials never cross to another origin. */
export function withRedirects(send: Send): Send {
  return async (original) => {
    let request = original;
    const visited = new Set<string>([original.url.href]);
    for (let hop = 0; ; hop++) {
      const response = await send(request);
      if (!redirectStatuses.has(response.status)) return response;
      const location = headerValue(response, 'location');
      discardBody(response);
      if (!location) {
        throw new TransportError(`${request.url.host} answered ${response.status} without a Location`);
      }
      const to = checkRedirect(request.url, location);
      if (hop >= MAX_REDIRECTS) {
        throw new TransportError(
          `too many redirects (over ${MAX_REDIRECTS}) from ${redactUrl(original.url)}`,
        );
      }
      if (visited.has(to.href)) throw new TransportError(`redirect loop at ${redactUrl(to)}`);
      visited.add(to.href);
      request = redirectedRequest(request, response.status, to);
    }
  };
}
