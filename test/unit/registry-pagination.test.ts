import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/errors.js';
import { nextLink, nextPageUrl, paginate } from '../../src/registry/pagination.js';
import type { HttpRequest, HttpResponse } from '../../src/transport/types.js';
import { listOf } from '../fixtures/listing.js';

const page = new URL('http://127.0.0.1:5000/v2/app/tags/list?n=2');

describe('nextLink', () => {
  it('resolves a relative next link against the request URL, keeping its query', () => {
    const next = nextLink('</v2/app/tags/list?n=2&last=b>; rel="next"', page);
    expect(next?.href).toBe('http://127.0.0.1:5000/v2/app/tags/list?n=2&last=b');
  });

  it('accepts an absolute link on the same origin and an unquoted rel', () => {
    const next = nextLink('<http://127.0.0.1:5000/v2/app/tags/list?last=z>; rel=next', page);
    expect(next?.searchParams.get('last')).toBe('z');
  });

  it('picks the next relation among several links and header lines', () => {
    const header = [
      '</first>; rel="first"',
      '</prev?x=1>; rel="prev", </v2/app/tags/list?last=c>; rel="next"',
    ];
    expect(nextLink(header, page)?.searchParams.get('last')).toBe('c');
  });

  it('ignores relations that only start with next, and links without a next relation', () => {
    expect(nextLink('</v2/other>; rel="nextpage"', page)).toBeUndefined();
    expect(nextLink('</v2/other>; rel="prev"', page)).toBeUndefined();
    expect(nextLink(undefined, page)).toBeUndefined();
  });

  it('refuses a link to another host, port or scheme', () => {
    for (const target of [
      'http://evil.example/v2/app/tags/list',
      'http://127.0.0.1:5001/v2/app/tags/list',
      'https://127.0.0.1:5000/v2/app/tags/list',
    ]) {
      expect(() => nextLink(`<${target}>; rel="next"`, page)).toThrow(TransportError);
    }
  });
});

describe('nextPageUrl', () => {
  const base = { url: page, pageSize: 2, visited: new Set([page.href]) };

  it('goes on with last= when a full page comes without a Link', () => {
    const next = nextPageUrl({ ...base, link: undefined, items: ['a', 'b'] });
    expect(next?.searchParams.get('last')).toBe('b');
    expect(next?.searchParams.get('n')).toBe('2');
  });

  it('stops after a short page without a Link', () => {
    expect(nextPageUrl({ ...base, link: undefined, items: ['a'] })).toBeUndefined();
  });

  it('prefers the Link over last= when both could apply', () => {
    const next = nextPageUrl({
      ...base,
      link: '</v2/app/tags/list?cursor=9>; rel="next"',
      items: ['a', 'b'],
    });
    expect(next?.searchParams.get('cursor')).toBe('9');
    expect(next?.searchParams.has('last')).toBe(false);
  });

  it('stops on a self-referential Link', () => {
    const link = `<${page.pathname}${page.search}>; rel="next"`;
    expect(nextPageUrl({ ...base, link, items: ['a', 'b'] })).toBeUndefined();
  });
});

/** A registry of pages keyed by the request's `last` parameter (absent: the first page). */
function fakeRegistry(pages: Record<string, { items: string[]; link?: string }>) {
  const requested: string[] = [];
  const send = async (request: HttpRequest): Promise<HttpResponse> => {
    requested.push(request.url.href);
    const answer = pages[request.url.searchParams.get('last') ?? ''] ?? { items: [] };
    return {
      status: 200,
      headers: answer.link ? { link: answer.link } : {},
      body: Readable.from([Buffer.from(JSON.stringify({ name: 'app', tags: answer.items }))]),
      url: request.url,
    };
  };
  return { connection: { send, baseUrl: new URL(page.origin) }, requested };
}

describe('paginate', () => {
  const limits = { pageSize: 2, maxPages: 10 };

  it('follows Link pages and yields every item once, in the registry order', async () => {
    const { connection, requested } = fakeRegistry({
      '': { items: ['zeta', 'alpha'], link: '</v2/app/tags/list?n=2&last=alpha>; rel="next"' },
      alpha: { items: ['alpha', 'mid'], link: '</v2/app/tags/list?n=2&last=mid>; rel="next"' },
      mid: { items: ['../x'] },
    });
    const items = await listOf(paginate(connection, page, 'tags', [], 'list tags', limits));
    expect(items).toEqual(['zeta', 'alpha', 'mid', '../x']);
    expect(requested).toHaveLength(3);
  });

  it('ends when a registry ignores last= and keeps answering the same page', async () => {
    const { connection, requested } = fakeRegistry({ '': { items: ['a', 'b'] }, b: { items: ['a', 'b'] } });
    const items = await listOf(paginate(connection, page, 'tags', [], 'list tags', limits));
    expect(items).toEqual(['a', 'b']);
    expect(requested).toHaveLength(2);
  });

  it('fails past the page bound instead of listing forever', async () => {
    const pages: Record<string, { items: string[] }> = {};
    let previous = '';
    for (let index = 0; index < 20; index++) {
      const items = [`t${index}a`, `t${index}b`];
      pages[previous] = { items };
      previous = items[1] ?? '';
    }
    const { connection } = fakeRegistry(pages);
    const listing = listOf(
      paginate(connection, page, 'tags', [], 'list tags of app', { pageSize: 2, maxPages: 3 }),
    );
    await expect(listing).rejects.toThrow('list tags of app: more than 3 pages');
  });
});
