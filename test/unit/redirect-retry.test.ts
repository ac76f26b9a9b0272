import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/errors.js';
import { bypassesProxy, proxyFor } from '../../src/transport/agents.js';
import {
  backoffDelay,
  checkRedirect,
  defaultRetryPolicy,
  isPrivateAddress,
  parseRetryAfter,
  redactHeaders,
  redactText,
  redactUrl,
} from '../../src/transport/index.js';

describe('redirect targets', () => {
  const registry = new URL('https://registry.example.com/v2/a/blobs/sha256:x');

  it.each([
    [
      'https://s3.example.com/bucket/blob?X-Amz-Signature=abc',
      'https://s3.example.com/bucket/blob?X-Amz-Signature=abc',
    ],
    ['/v2/a/blobs/other?x=1', 'https://registry.example.com/v2/a/blobs/other?x=1'],
    ['other', 'https://registry.example.com/v2/a/blobs/other'],
  ])('follows %s', (location, expected) => {
    expect(checkRedirect(registry, location).toString()).toBe(expected);
  });

  it.each([
    ['http://registry.example.com/v2/', /HTTPS to plain HTTP/],
    ['file:///etc/passwd', /file: URL/],
    ['https://127.0.0.1/x', /private address/],
    ['https://169.254.169.254/x', /private address/],
    ['https://192.168.1.1/x', /private address/],
  ])('refuses %s', (location, reason) => {
    expect(() => checkRedirect(registry, location)).toThrow(TransportError);
    expect(() => checkRedirect(registry, location)).toThrow(reason);
  });

  it('lets a loopback registry redirect on loopback', () => {
    expect(checkRedirect(new URL('http://127.0.0.1:5000/v2/'), 'http://127.0.0.1:6000/x').host).toBe(
      '127.0.0.1:6000',
    );
  });

  it('knows private addresses', () => {
    expect(
      [
        '10.0.0.1',
        '172.16.0.1',
        '172.31.255.255',
        '192.168.0.1',
        '127.0.0.1',
        '169.254.1.1',
        '[::1]',
        'fe80::1',
        'fd00::1',
        '::ffff:10.0.0.1',
        'localhost',
      ].every(isPrivateAddress),
    ).toBe(true);
    expect(['8.8.8.8', '172.32.0.1', 'registry.example.com', '2001:db8::1'].some(isPrivateAddress)).toBe(
      false,
    );
  });
});

describe('retry timing', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  it.each([
    ['7', 7000],
    ['0', 0],
    ['Sun, 22 Nov 2026 12:00:30 GMT', 30_000],
    ['Sun, 22 Nov 2026 11:00:00 GMT', 0],
    ['soon', undefined],
    ['-5', undefined],
    [undefined, undefined],
  ])('Retry-After %j is %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('backs off exponentially with jitter under the cap', () => {
    expect(backoffDelay(0, defaultRetryPolicy, () => 0.999)).toBeLessThan(200);
    expect(backoffDelay(3, defaultRetryPolicy, () => 0.999)).toBeLessThan(1600);
    expect(backoffDelay(3, defaultRetryPolicy, () => 0.999)).toBeGreaterThan(1500);
    expect(backoffDelay(20, defaultRetryPolicy, () => 0.999)).toBeLessThan(defaultRetryPolicy.maxDelayMs);
    expect(backoffDelay(5, defaultRetryPolicy, () => 0)).toBe(0);
  });
});

describe('redaction', () => {
  it('hides secret headers but keeps their names', () => {
    expect(
      redactHeaders({ Authorization: 'Bearer abc', 'X-Auth-Token': 't', Accept: 'x', Cookie: 'c' }),
    ).toEqual({
      authorization: '***',
      'x-auth-token': '***',
      accept: 'x',
      cookie: '***',
    });
  });

  it('hides userinfo and presigned query values', () => {
    const url = redactUrl(
      'https://user:pass@s3.example.com/b?X-Amz-Signature=abc&X-Amz-Credential=cred&part=1',
    );
    expect(url).not.toContain('pass');
    expect(url).not.toContain('abc');
    expect(url).not.toContain('cred');
    expect(url).toContain('part=1');
  });

  it('hides token JSON fields', () => {
    const text = redactText(
      '{"token":"secret1","access_token":"secret2","expires_in":300,"refresh_token":"r"}',
    );
    expect(text).not.toMatch(/secret1|secret2|"r"/);
    expect(text).toContain('"expires_in":300');
  });
});

describe('proxy selection', () => {
  const env = {
    HTTPS_PROXY: 'http://proxy:3128',
    HTTP_PROXY: 'http://proxy:3129',
    NO_PROXY: 'localhost,.internal,10.0.0.1:5000',
  };
  it.each([
    ['https://registry.example.com/', 'http://proxy:3128'],
    ['http://registry.example.com/', 'http://proxy:3129'],
    ['http://localhost:5000/', undefined],
    ['https://a.internal/', undefined],
    ['https://internal/', undefined],
    ['http://10.0.0.1:5000/', undefined],
    ['http://10.0.0.1:6000/', 'http://proxy:3129'],
  ])('%s → %s', (url, expected) => {
    expect(proxyFor(new URL(url), env)).toBe(expected);
  });

  it('treats * as no proxy for anything', () => {
    expect(bypassesProxy(new URL('https://x.example.com'), '*')).toBe(true);
  });
});
