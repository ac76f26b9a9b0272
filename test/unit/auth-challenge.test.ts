import { describe, expect, it } from 'vitest';
import { mergeScopes, parseChallenges, parseScope } from '../../src/auth/challenge.js';
import type { Challenge } from '../../src/auth/types.js';
import { TugError } from '../../src/errors.js';

const bearer = (fields: Partial<Extract<Challenge, { scheme: 'bearer' }>>): Challenge => ({
  scheme: 'bearer',
  realm: 'https://auth.example.com/token',
  scopes: [],
  ...fields,
});

describe('parseChallenges', () => {
  const cases: Array<[string, string | string[], Challenge[]]> = [
    [
      'a Docker Hub style Bearer challenge',
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:library/alpine:pull"',
      [bearer({ service: 'registry.example.com', scopes: ['repository:library/alpine:pull'] })],
    ],
    [
      'space-separated scopes as an array',
      'Bearer realm="https://auth.example.com/token",scope="repository:a:pull repository:b:push"',
      [bearer({ scopes: ['repository:a:pull', 'repository:b:push'] })],
    ],
    [
      'two challenges in one header, Bearer after Basic',
      'Basic realm="Registry", Bearer realm="https://auth.example.com/token", service="s"',
      [{ scheme: 'basic', realm: 'Registry' }, bearer({ service: 's' })],
    ],
    [
      'challenges spread over several header lines',
      ['Basic realm="one"', 'Bearer realm="https://auth.example.com/token",scope="repository:a:pull"'],
      [{ scheme: 'basic', realm: 'one' }, bearer({ scopes: ['repository:a:pull'] })],
    ],
    [
      'a comma inside a quoted realm',
      'Bearer realm="https://auth.example.com/token?a=1,2",service="x, y"',
      [bearer({ realm: 'https://auth.example.com/token?a=1,2', service: 'x, y' })],
    ],
    [
      'escaped quotes and backslashes in a quoted string',
      'Bearer realm="https://auth.example.com/token",service="say \\"hi\\" \\\\ there"',
      [bearer({ service: 'say "hi" \\ there' })],
    ],
    [
      'scheme and parameter names in any case',
      'BEARER REALM="https://auth.example.com/token", Service="s", ScOpE="repository:a:pull"',
      [bearer({ service: 's', scopes: ['repository:a:pull'] })],
    ],
    [
      'the error parameter of an insufficient_scope answer',
      'Bearer realm="https://auth.example.com/token",error="insufficient_scope",scope="repository:src:pull"',
      [bearer({ error: 'insufficient_scope', scopes: ['repository:src:pull'] })],
    ],
    [
      'unquoted parameter values',
      'Bearer realm=https://auth.example.com/token,service=registry.example.com',
      [bearer({ service: 'registry.example.com' })],
    ],
    ['Basic without a realm', 'Basic', [{ scheme: 'basic' }]],
    ['a lower-case basic with a realm', 'basic realm="r"', [{ scheme: 'basic', realm: 'r' }]],
    [
      'whitespace around equals signs and commas',
      'Bearer  realm = "https://auth.example.com/token" ,  service = "s"',
      [bearer({ service: 's' })],
    ],
    [
      'empty list elements between parameters',
      'Bearer realm="https://auth.example.com/token", , service="s"',
      [bearer({ service: 's' })],
    ],
    [
      'schemes tug does not know are skipped',
      'Negotiate, Basic realm="r"',
      [{ scheme: 'basic', realm: 'r' }],
    ],
    ['an empty header gives no challenge', '', []],
    [
      'unknown parameters are ignored',
      'Bearer realm="https://auth.example.com/token",charset="UTF-8"',
      [bearer({})],
    ],
  ];

  it.each(cases)('parses %s', (_name, header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it.each([
    ['an unterminated quoted string', 'Bearer realm="https://auth.example.com/token'],
    ['a Bearer challenge without a realm', 'Bearer service="s",scope="repository:a:pull"'],
    ['a header that starts with "="', '=realm'],
    ['trailing garbage after a parameter', 'Bearer realm="https://a/t" junk"'],
    ['a quote where a scheme should be', '"Bearer" realm="x"'],
  ])('refuses %s with a "cannot parse" TugError', (_name, header) => {
    expect(() => parseChallenges(header)).toThrow(TugError);
    expect(() => parseChallenges(header)).toThrow(/^cannot parse WWW-Authenticate challenge: /);
  });
});

describe('scopes', () => {
  it('splits a scope into its resource and actions, keeping a port in the resource', () => {
    expect(parseScope('repository:localhost:5000/a:pull,push')).toEqual({
      resource: 'repository:localhost:5000/a',
      actions: ['pull', 'push'],
    });
  });

  it('unions actions per resource', () => {
    expect(mergeScopes(['repository:a:pull'], ['repository:a:push'])).toEqual(['repository:a:pull,push']);
  });

  it('keeps different resources apart and sorts the result', () => {
    expect(mergeScopes(['repository:b:push'], ['repository:a:pull', 'registry:catalog:*'])).toEqual([
      'registry:catalog:*',
      'repository:a:pull',
      'repository:b:push',
    ]);
  });

  it('deduplicates and orders actions, so equal sets give equal cache keys', () => {
    const one = mergeScopes(['repository:a:push,pull', 'repository:a:pull'], []);
    const two = mergeScopes(['repository:a:pull'], ['repository:a:push']);
    expect(one).toEqual(['repository:a:pull,push']);
    expect(one).toEqual(two);
  });

  it('merges the pull on a mount source with the pull,push on its target into one set', () => {
    expect(mergeScopes(['repository:target:pull,push'], ['repository:source:pull'])).toEqual([
      'repository:source:pull',
      'repository:target:pull,push',
    ]);
  });
});
