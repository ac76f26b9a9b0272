import { UsageError } from '../errors.js';
import type { Send } from './types.js';

const tokenPattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the HTTP stack owns: a user's value would break framing or the connection. */
const reserved = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'keep-alive',
  'te',
  'expect',
]);

/** `Name: value` (curl's and oras's `-H` form) → a header; bad names and line breaks are usage errors. */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  const value = colon > 0 ? text.slice(colon + 1).trim() : '';
  if (!tokenPattern.test(name)) {
    throw new UsageError(`invalid header ${JSON.stringify(text)}`, { hint: "give it as 'Name: value'" });
  }
  if (/[\r\n\0]/.test(value)) throw new UsageError(`the value of header ${name} has a line break`);
  if (reserved.has(name.toLowerCase()))
    throw new UsageError(`the header ${name} is set by tug and cannot be given as an extra header`);
  return [name.toLowerCase(), value];
}

/**
 * Adds the user's headers to requests for the registry's own origin only. A redirect to another
 * origin drops them (the redirect layer keeps only portable headers across origins), and token
 * realms on other origins never see them.
 */
export function withOriginHeaders(send: Send, origin: string, headers: Record<string, string>): Send {
  if (Object.keys(headers).length === 0) return send;
  return (request) =>
    send(
      request.url.origin === origin ? { ...request, headers: { ...headers, ...request.headers } } : request,
    );
}
