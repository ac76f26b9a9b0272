import { describe, expect, it } from 'vitest';
import { mergeScopes, parseChallenges } from '../../src/auth/challenge.js';
import { validateRealm } from '../../src/auth/token.js';
import { AuthError, TugError } from '../../src/errors.js';

describe('WWW-Authenticate challenges', () => {
  it.each([
    [
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a:pull"',
      [
        {
          scheme: 'bearer',
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          scopes: ['repository:a:pull'],
        },
      ],
    ],
    [
      'Bearer realm="https://a/t",scope="repository:a:pull repository:b:push"',
      [{ scheme: 'bearer', realm: 'https://a/t', scopes: ['repository:a:pull', 'repository:b:push'] }],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', realm: 'Registry Realm' }]],
    ['basic', [{ scheme: 'basic' }]],
    [
      'Basic realm="x", Bearer realm="https://a/t",service="s"',
      [
        { scheme: 'basic', realm: 'x' },
        { scheme: 'bearer', realm: 'https://a/t', service: 's', scopes: [] },
      ],
    ],
    [
      'BEARER Realm="https://a/t", Service="s", Scope="repository:a:pull", Error="insufficient_scope"',
      [
        {
          scheme: 'bearer',
          realm: 'https://a/t',
          service: 's',
          scopes: ['repository:a:pull'],
          error: 'insufficient_scope',
        },
      ],
    ],
    [
      'Bearer realm="https://a/t?x=1,2",service="a, b"',
      [{ scheme: 'bearer', realm: 'https://a/t?x=1,2', service: 'a, b', scopes: [] }],
    ],
    [
      'Bearer realm="https://a/\\"quoted\\"",service=s',
      [{ scheme: 'bearer', realm: 'https://a/"quoted"', service: 's', scopes: [] }],
    ],
    ['Bearer realm=https://a/t', [{ scheme: 'bearer', realm: 'https://a/t', scopes: [] }]],
    ['Negotiate, Basic realm="r"', [{ scheme: 'basic', realm: 'r' }]],
    [
      ['Basic realm="one"', 'Bearer realm="https://a/t"'],
      [
        { scheme: 'basic', realm: 'one' },
        { scheme: 'bearer', realm: 'https://a/t', scopes: [] },
      ],
    ],
  ])('parses %j', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it.each(['Bearer realm="unterminated', 'Bearer service="s"', '=oops', 'Bearer realm="x" garbage'])(
    'refuses %j with a clear error',
    (header) => {
      expect(() => parseChallenges(header)).toThrow(TugError);
      expect(() => parseChallenges(header)).toThrow(/cannot parse WWW-Authenticate challenge/);
    },
  );
});

describe('scopes', () => {
  it('merges actions per resource, sorted, for the token cache key', () => {
    expect(mergeScopes(['repository:a:pull'], ['repository:a:push', 'repository:b:pull'])).toEqual([
      'repository:a:pull,push',
      'repository:b:pull',
    ]);
    expect(mergeScopes(['repository:a:push,pull', 'repository:a:pull'])).toEqual(['repository:a:pull,push']);
    expect(mergeScopes(['registry:catalog:*'])).toEqual(['registry:catalog:*']);
  });
});

describe('token realms are checked before any credential is sent', () => {
  it.each([
    ['https://auth.example.com/token', 'https://registry.example.com'],
    ['http://127.0.0.1:9000/token', 'http://127.0.0.1:5000'],
    ['https://127.0.0.1:9000/token', 'https://localhost:5000'],
  ])('accepts %s for %s', (realm, origin) => {
    expect(validateRealm(realm, origin, 'r').toString()).toBe(new URL(realm).toString());
  });

  it.each([
    ['http://auth.example.com/token', 'https://registry.example.com', /plain-HTTP/],
    ['file:///etc/passwd', 'https://registry.example.com', /not http/],
    ['ftp://auth.example.com/', 'https://registry.example.com', /not http/],
    ['https://169.254.169.254/latest', 'https://registry.example.com', /private address/],
    ['https://127.0.0.1/token', 'https://registry.example.com', /private address/],
    ['https://10.1.2.3/token', 'https://registry.example.com', /private address/],
    ['https://[::1]/token', 'https://registry.example.com', /private address/],
    ['not a url', 'https://registry.example.com', /invalid token realm/],
  ])('refuses %s for %s', (realm, origin, reason) => {
    expect(() => validateRealm(realm, origin, 'registry.example.com')).toThrow(AuthError);
    expect(() => validateRealm(realm, origin, 'registry.example.com')).toThrow(reason);
  });
});
