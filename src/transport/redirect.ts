import { TransportError } from '../errors.js';
import { isPrivateAddress, sameOrigin } from './address.js';
import { discardBody, headerValue } from './body.js';
import { redactUrl } from './redact.js';
import type { HttpRequest, Send } from './types.js';

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
export const MAX_REDIRECTS = 10;

/** Headers that may follow a redirect to another origin: nothing that identifies the user. */
const portableHeaders = new Set([
  'accept',
  'accept-encoding',
  'content-type',
  'range',
  'user-agent',
  'if-match',
  'if-none-match',
]);

/**
 * Where a redirect may go. Refused: a scheme other than http(s), an https → http downgrade, and a
 * public origin sending the client to a loopback, link-local or private address.
 */
export function checkRedirect(from: URL, location: string): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new TransportError(`${from.host} redirected to an invalid location`);
  }
  if (to.protocol !== 'https:' && to.protocol !== 'http:') {
    throw new TransportError(`refusing a redirect from ${from.host} to a ${to.protocol} URL`);
  }
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    throw new TransportError(`refusing a redirect from HTTPS to plain HTTP: ${redactUrl(to)}`);
  }
  if (!isPrivateAddress(from.hostname) && isPrivateAddress(to.hostname)) {
    throw new TransportError(`refusing a redirect from ${from.host} to the private address ${to.host}`);
  }
  return to;
}

function headersFor(request: HttpRequest, to: URL): Record<string, string> {
  if (sameOrigin(request.url, to)) return { ...request.headers };
  return Object.fromEntries(
    Object.entries(request.headers ?? {}).filter(([name]) => portableHeaders.has(name.toLowerCase())),
  );
}

/** Follows redirects in tug's own code, so that credentials never cross to another origin. */
export function withRedirects(send: Send): Send {
  return async (original) => {
    let request = original;
    const visited = new Set<string>([original.url.toString()]);
    for (let hop = 0; ; hop++) {
      const response = await send(request);
      if (!redirectStatuses.has(response.status)) return response;
      const location = headerValue(response, 'location');
      discardBody(response);
      if (!location)
        throw new TransportError(`${request.url.host} answered ${response.status} without a Location`);
      if (hop >= MAX_REDIRECTS)
        throw new TransportError(`too many redirects (over ${MAX_REDIRECTS}) from ${original.url.host}`);
      const to = checkRedirect(request.url, location);
      if (visited.has(to.toString())) throw new TransportError(`redirect loop at ${redactUrl(to)}`);
      visited.add(to.toString());
      const becomesGet =
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && request.method === 'POST');
      if (
        !becomesGet &&
        request.body !== undefined &&
        !(request.body instanceof Uint8Array) &&
        request.body.kind === 'stream'
      ) {
        throw new TransportError(`${request.url.host} redirected an upload that cannot be sent twice`, {
          hint: 'retry with a file source',
        });
      }
      const next: HttpRequest = { ...request, url: to, headers: headersFor(request, to) };
      if (becomesGet) {
        next.method = 'GET';
        delete next.body;
      }
      if (!sameOrigin(request.url, to)) next.crossOrigin = true;
      request = next;
    }
  };
}
