import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/errors.js';
import {
  becomesGet,
  checkRedirect,
  headersForRedirect,
  MAX_REDIRECTS,
  redirectedRequest,
  withRedirects,
} from '../../src/transport/redirect.js';
import type { HttpRequest, HttpResponse } from '../../src/transport/types.js';

const registry = new URL('https://registry.example.com/v2/a/blobs/sha256:abc');

describe('checkRedirect', () => {
  it('follows an absolute redirect to storage on another host', () => {
    expect(checkRedirect(registry, 'https://s3.example.com/b/blob?X-Amz-Signature=abc').href).toBe(
      'https://s3.example.com/b/blob?X-Amz-Signature=abc',
    );
  });

  it('resolves a relative Location against the request URL and keeps its query', () => {
    expect(checkRedirect(registry, '/v2/a/blobs/other?x=1&y=2').href).toBe(
      'https://registry.example.com/v2/a/blobs/other?x=1&y=2',
    );
    expect(checkRedirect(registry, 'other').href).toBe('https://registry.example.com/v2/a/blobs/other');
  });

  it.each([
    ['http://registry.example.com/v2/', /HTTPS to plain HTTP: http:\/\/registry\.example\.com\/v2\//],
    ['file:///etc/passwd', /file: URL: file:\/\/\/etc\/passwd/],
    ['ftp://registry.example.com/x', /ftp: URL/],
    ['https://127.0.0.1/x', /private address in https:\/\/127\.0\.0\.1\/x/],
    ['https://localhost:5000/x', /private address/],
    ['https://169.254.169.254/latest/meta-data', /private address/],
    ['https://10.1.2.3/x', /private address/],
    ['https://[::1]/x', /private address/],
    ['https://[::ffff:127.0.0.1]/x', /private address/],
    ['https://[fe80::1]/x', /private address/],
  ])('refuses a redirect from a public registry to %s, naming it', (location, reason) => {
    expect(() => checkRedirect(registry, location)).toThrow(TransportError);
    expect(() => checkRedirect(registry, location)).toThrow(reason);
  });

  it('hides the presigned query of a refused target', () => {
    expect(() => checkRedirect(registry, 'http://s3.example.com/b?X-Amz-Signature=SECRET')).toThrow(
      /X-Amz-Signature=\*\*\*/,
    );
  });

  it('lets a loopback registry redirect to another loopback port', () => {
    expect(checkRedirect(new URL('http://127.0.0.1:5000/v2/'), 'http://127.0.0.1:6000/x').host).toBe(
      '127.0.0.1:6000',
    );
  });

  it('lets a private registry redirect to private storage but not to loopback', () => {
    const internal = new URL('https://10.0.0.5/v2/');
    expect(checkRedirect(internal, 'https://10.0.0.6/blob').host).toBe('10.0.0.6');
    expect(() => checkRedirect(internal, 'https://127.0.0.1/blob')).toThrow(/private address/);
  });
});

describe('headersForRedirect', () => {
  const headers = {
    Authorization: 'Bearer secret',
    'Proxy-Authorization': 'Basic x',
    Cookie: 'session=1',
    'X-Meta-Custom': 'mine',
    Accept: 'application/vnd.oci.image.manifest.v1+json',
    Range: 'bytes=10-',
  };

  it('keeps every header on the same origin', () => {
    expect(headersForRedirect(headers, registry, new URL('https://registry.example.com/other'))).toEqual(
      headers,
    );
  });

  it('keeps only content-negotiation headers on another host', () => {
    expect(headersForRedirect(headers, registry, new URL('https://s3.example.com/b'))).toEqual({
      Accept: 'application/vnd.oci.image.manifest.v1+json',
      Range: 'bytes=10-',
    });
  });

  it('treats a port change on the same host as another origin', () => {
    const moved = headersForRedirect(headers, registry, new URL('https://registry.example.com:8443/x'));
    expect(moved).not.toHaveProperty('Authorization');
    expect(moved).not.toHaveProperty('Cookie');
    expect(moved).not.toHaveProperty('X-Meta-Custom');
  });

  it('treats an explicit default port as the same origin', () => {
    expect(
      headersForRedirect(headers, registry, new URL('https://registry.example.com:443/x')),
    ).toHaveProperty('Authorization');
  });
});

describe('redirectedRequest', () => {
  const post: HttpRequest = {
    method: 'POST',
    url: registry,
    headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
    body: new Uint8Array([1]),
  };

  it('turns a 303 into a GET without body or body headers', () => {
    const next = redirectedRequest(post, 303, new URL('https://registry.example.com/done'));
    expect(next.method).toBe('GET');
    expect(next.body).toBeUndefined();
    expect(next.headers).toEqual({ authorization: 'Bearer t' });
  });

  it('keeps method and replayable body on a 307 and 308', () => {
    for (const status of [307, 308]) {
      const next = redirectedRequest(
        { ...post, method: 'PUT' },
        status,
        new URL('https://registry.example.com/x'),
      );
      expect(next.method).toBe('PUT');
      expect(next.body).toEqual(new Uint8Array([1]));
    }
  });

  it('keeps a HEAD a HEAD on a 303', () => {
    expect(becomesGet(303, 'HEAD')).toBe(false);
    expect(becomesGet(302, 'POST')).toBe(true);
    expect(becomesGet(302, 'PUT')).toBe(false);
  });

  it('refuses to re-send a one-shot stream body and says what to do', () => {
    const upload: HttpRequest = {
      method: 'PUT',
      url: registry,
      body: { kind: 'stream', stream: Readable.from(['x']) },
    };
    expect(() => redirectedRequest(upload, 307, new URL('https://registry.example.com/x'))).toThrow(
      /cannot be sent twice/,
    );
  });

  it('marks a request that left its origin, and keeps the mark on the way back', () => {
    const away = redirectedRequest(
      { method: 'GET', url: registry },
      302,
      new URL('https://cdn.example.com/x'),
    );
    expect(away.crossOrigin).toBe(true);
    expect(redirectedRequest(away, 302, registry).crossOrigin).toBe(true);
  });
});

describe('withRedirects', () => {
  function redirector(locations: (url: URL) => string | undefined) {
    const seen: HttpRequest[] = [];
    const send = withRedirects(async (request): Promise<HttpResponse> => {
      seen.push(request);
      const location = locations(request.url);
      return {
        status: location ? 302 : 200,
        headers: location ? { location } : {},
        body: Readable.from([]),
        url: request.url,
      };
    });
    return { send, seen };
  }

  it(`follows up to ${MAX_REDIRECTS} hops`, async () => {
    const { send, seen } = redirector((url) => {
      const hop = Number(url.pathname.slice(1));
      return hop < MAX_REDIRECTS ? `/${hop + 1}` : undefined;
    });
    const response = await send({ method: 'GET', url: new URL('https://registry.example.com/0') });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('refuses the hop after the limit', async () => {
    const { send, seen } = redirector((url) => `/${Number(url.pathname.slice(1)) + 1}`);
    await expect(send({ method: 'GET', url: new URL('https://registry.example.com/0') })).rejects.toThrow(
      /too many redirects/,
    );
    expect(seen).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('detects a loop before the hop limit', async () => {
    const { send, seen } = redirector((url) => (url.pathname === '/a' ? '/b' : '/a'));
    await expect(send({ method: 'GET', url: new URL('https://registry.example.com/a') })).rejects.toThrow(
      'redirect loop at https://registry.example.com/a',
    );
    expect(seen).toHaveLength(2);
  });

  it('fails clearly on a redirect without Location', async () => {
    const send = withRedirects(async (request) => ({
      status: 301,
      headers: {},
      body: Readable.from([]),
      url: request.url,
    }));
    await expect(send({ method: 'GET', url: registry })).rejects.toThrow(/301 without a Location/);
  });
});
