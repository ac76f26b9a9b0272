import { TransportError } from '../errors.js';
import { readBodyJson, sameOrigin } from '../transport/index.js';
import type { RegistryConnection } from './connection.js';
import { errorFromResponse } from './errors.js';

/** Whether a Link parameter list (`; rel="next"; type=...`) names the `next` relation. */
function isNextRelation(parameters: string): boolean {
  for (const parameter of parameters.split(';')) {
    const match = /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(parameter);
    if (match) return (match[1] ?? '').toLowerCase().split(/\s+/).includes('next');
  }
  return false;
}

/** The `rel="next"` target of a Link header, resolved against the request URL; another origin is refused. */
export function nextLink(header: string | string[] | undefined, current: URL): URL | undefined {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const value of values) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const match = /^\s*<([^>]*)>(.*)$/.exec(part);
      if (!match || !isNextRelation(match[2] ?? '')) continue;
      const next = new URL(match[1] ?? '', current);
      if (!sameOrigin(next, current)) {
        throw new TransportError(`refusing a pagination link to another origin: ${next.host}`);
      }
      return next;
    }
  }
  return undefined;
}

export interface PageLimits {
  pageSize: number;
  maxPages: number;
  signal?: AbortSignal;
}

/**
 * Where the listing goes on after a page: the Link, or — when a full page comes without one —
 * the same URL with `last=` the page's last item; nothing after a short page or a page already read.
 */
export function nextPageUrl(page: {
  url: URL;
  link: string | string[] | undefined;
  items: readonly string[];
  pageSize: number;
  visited: ReadonlySet<string>;
}): URL | undefined {
  let next = nextLink(page.link, page.url);
  const last = page.items.at(-1);
  if (!next && page.items.length >= page.pageSize && last !== undefined) {
    next = new URL(page.url);
    next.searchParams.set('last', last);
  }
  return next && !page.visited.has(next.href) ? next : undefined;
}

/**
 * Every item of a paginated listing (`tags`, `repositories`) in the registry's order, each once;
 * more than `maxPages` pages is an error.
 */
export async function* paginate(
  connection: RegistryConnection,
  first: URL,
  field: string,
  scopes: string[],
  operation: string,
  limits: PageLimits,
): AsyncIterable<string> {
  const seen = new Set<string>();
  const visited = new Set<string>();
  let url: URL | undefined = first;
  for (let page = 0; url; page++) {
    if (page >= limits.maxPages) throw new TransportError(`${operation}: more than ${limits.maxPages} pages`);
    visited.add(url.href);
    const request = { method: 'GET' as const, url, scopes, signal: limits.signal };
    const response = await connection.send(request);
    if (response.status !== 200) throw await errorFromResponse(operation, request, response);
    const body = await readBodyJson<Record<string, unknown> | null>(response);
    const listed = body?.[field];
    const items = Array.isArray(listed)
      ? listed.filter((item): item is string => typeof item === 'string')
      : [];
    for (const item of items) {
      if (seen.has(item)) continue;
      seen.add(item);
      yield item;
    }
    url = nextPageUrl({ url, link: response.headers.link, items, pageSize: limits.pageSize, visited });
  }
}
