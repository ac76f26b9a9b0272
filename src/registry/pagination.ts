import { TransportError } from '../errors.js';
import { readBodyJson, sameOrigin } from '../transport/index.js';
import { errorFromResponse } from './errors.js';
import type { RegistryConnection } from './repository.js';

/** The `rel="next"` target of a Link header, resolved against the request URL; another origin is refused. */
export function nextLink(header: string | string[] | undefined, current: URL): URL | undefined {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const value of values) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
      if (!match || !/rel="?next"?/i.test(match[2] ?? '')) continue;
      const next = new URL(match[1] ?? '', current);
      if (!sameOrigin(next, current))
        throw new TransportError(`refusing a pagination link to another origin: ${next.host}`);
      return next;
    }
  }
  return undefined;
}

export interface PageLimits {
  pageSize: number;
  maxPages: number;
}

/**
 * Every item of a paginated listing (`tags`, `repositories`): follows Link pages, or `last=` when
 * a full page comes without a Link; stops on a page already seen; bounded; de-duplicated.
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
    visited.add(url.toString());
    const request = { method: 'GET' as const, url, scopes };
    const response = await connection.send(request);
    if (response.status !== 200) throw await errorFromResponse(operation, request, response);
    const body = await readBodyJson<Record<string, unknown>>(response);
    const listed = body[field];
    const items = Array.isArray(listed)
      ? listed.filter((item): item is string => typeof item === 'string')
      : [];
    for (const item of items) {
      if (seen.has(item)) continue;
      seen.add(item);
      yield item;
    }
    let next = nextLink(response.headers.link, url);
    const last = items.at(-1);
    if (!next && items.length >= limits.pageSize && last !== undefined) {
      next = new URL(url);
      next.searchParams.set('last', last);
    }
    url = next && !visited.has(next.toString()) ? next : undefined;
  }
}
