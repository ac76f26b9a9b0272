import { describe, expect, it } from 'vitest';
import { validateRealm } from '../../src/auth/realm.js';
import { AuthError, TransportError } from '../../src/errors.js';
import { addressScope, mayPointTo } from '../../src/transport/address.js';
import { checkRedirect } from '../../src/transport/redirect.js';

/** Spellings of this machine that a URL parser, a resolver or a socket all accept as loopback. */
const loopbackSpellings = [
  'localhost.',
  'LOCALHOST',
  'LocalHost.',
  'registry.localhost.',
  '127.1',
  '127.0.1',
  '0x7f.0.0.1',
  '0x7f000001',
  '0177.0.0.1',
  '2130706433',
  '[::ffff:127.0.0.1]',
  '[0:0:0:0:0:0:0:1]',
  '0.0.0.0',
  '0',
  '[::]',
];

const otherPrivateSpellings: Array<[string, string]> = [
  ['169.254.169.254.', 'link-local'],
  ['0xa9fea9fe', 'link-local'],
  ['[FE80::1]', 'link-local'],
  ['10.1', 'private'],
  ['012.0.0.1', 'private'],
  ['[::ffff:192.168.0.1]', 'private'],
];

describe('address scopes of unusual spellings', () => {
  it.each(loopbackSpellings)('%s is loopback', (host) => {
    expect(addressScope(host)).toBe('loopback');
  });

  it.each(otherPrivateSpellings)('%s is %s', (host, scope) => {
    expect(addressScope(host)).toBe(scope);
  });

  it.each(['registry.example.com', 'REGISTRY.Example.COM.', '8.8.8.8', '0x8.8.8.8', 'localhost.example.com'])(
    '%s is public',
    (host) => {
      expect(addressScope(host)).toBe('public');
    },
  );

  it('judges the pointing server by the same rules', () => {
    expect(mayPointTo('LOCALHOST.', '127.1')).toBe(true);
    expect(mayPointTo('registry.example.com.', '0x7f.0.0.1')).toBe(false);
  });
});

describe('a public registry cannot point tug at this machine', () => {
  const publicRegistry = 'https://registry.example.com';

  it.each(loopbackSpellings)('refuses the token realm https://%s/token', (host) => {
    expect(() => validateRealm(`https://${host}/token`, publicRegistry, 'registry.example.com')).toThrow(
      AuthError,
    );
  });

  it.each(loopbackSpellings)('refuses a redirect to https://%s/blob', (host) => {
    expect(() => checkRedirect(new URL(`${publicRegistry}/v2/a/blobs/x`), `https://${host}/blob`)).toThrow(
      TransportError,
    );
  });

  it.each(otherPrivateSpellings)('refuses the token realm and a redirect to %s (%s)', (host) => {
    expect(() => validateRealm(`https://${host}/token`, publicRegistry, 'registry.example.com')).toThrow(
      AuthError,
    );
    expect(() => checkRedirect(new URL(`${publicRegistry}/v2/`), `https://${host}/`)).toThrow(TransportError);
  });

  it.each(loopbackSpellings)('lets a loopback registry at %s use a loopback realm', (host) => {
    const origin = `http://${host}:5000`;
    expect(validateRealm('http://127.0.0.1:5001/token', origin, `${host}:5000`).host).toBe('127.0.0.1:5001');
    expect(validateRealm(`http://${host}:5001/token`, 'http://127.0.0.1:5000', '127.0.0.1:5000').port).toBe(
      '5001',
    );
  });
});
