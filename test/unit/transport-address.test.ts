import { describe, expect, it } from 'vitest';
import { addressScope, mayPointTo, sameOrigin } from '../../src/transport/address.js';
import { bypassesProxy, proxyFor } from '../../src/transport/proxy.js';

describe('addressScope', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['localhost', 'loopback'],
    ['registry.localhost', 'loopback'],
    ['[::1]', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['[fd00::1]', 'private'],
    ['[::ffff:a00:1]', 'private'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['[2001:db8::1]', 'public'],
    ['registry.example.com', 'public'],
  ])('%s is %s', (host, scope) => {
    expect(addressScope(host)).toBe(scope);
  });

  it('lets a server point only as close to this machine as itself', () => {
    expect(mayPointTo('registry.example.com', 'cdn.example.com')).toBe(true);
    expect(mayPointTo('registry.example.com', '10.0.0.1')).toBe(false);
    expect(mayPointTo('10.0.0.1', '10.0.0.2')).toBe(true);
    expect(mayPointTo('10.0.0.1', '169.254.169.254')).toBe(false);
    expect(mayPointTo('127.0.0.1', '10.0.0.2')).toBe(true);
  });

  it('compares scheme, host and port for the origin', () => {
    expect(sameOrigin(new URL('https://a.example/x'), new URL('https://a.example:443/y'))).toBe(true);
    expect(sameOrigin(new URL('https://a.example/x'), new URL('http://a.example/x'))).toBe(false);
    expect(sameOrigin(new URL('https://a.example/x'), new URL('https://a.example:8443/x'))).toBe(false);
    expect(sameOrigin(new URL('https://a.example/x'), new URL('https://b.example/x'))).toBe(false);
  });
});

describe('proxy selection', () => {
  const env = {
    HTTPS_PROXY: 'http://proxy:3128',
    HTTP_PROXY: 'http://proxy:3129',
    NO_PROXY: 'localhost, .internal,10.0.0.1:5000 192.168.0.0/16,[::1]',
  };

  it.each([
    ['https://registry.example.com/', 'http://proxy:3128'],
    ['http://registry.example.com/', 'http://proxy:3129'],
    ['http://localhost:5000/', undefined],
    ['https://a.internal/', undefined],
    ['https://internal/', undefined],
    ['http://10.0.0.1:5000/', undefined],
    ['http://10.0.0.1:6000/', 'http://proxy:3129'],
    ['https://192.168.4.5/', undefined],
    ['http://[::1]:5000/', undefined],
    ['http://127.0.0.1:5000/', 'http://proxy:3129'],
  ])('%s goes through %s', (url, expected) => {
    expect(proxyFor(new URL(url), env)).toBe(expected);
  });

  it('reads the lower-case variables too', () => {
    expect(proxyFor(new URL('https://r.example/'), { https_proxy: 'http://p:1', no_proxy: 'other' })).toBe(
      'http://p:1',
    );
    expect(
      proxyFor(new URL('https://r.example/'), { https_proxy: 'http://p:1', no_proxy: 'r.example' }),
    ).toBeUndefined();
  });

  it('uses no proxy when none is set', () => {
    expect(proxyFor(new URL('https://r.example/'), {})).toBeUndefined();
  });

  it('treats * as no proxy for any host', () => {
    expect(bypassesProxy(new URL('https://x.example.com'), '*')).toBe(true);
  });

  it('does not match a suffix that is not a whole label', () => {
    expect(bypassesProxy(new URL('https://notexample.com'), 'example.com')).toBe(false);
  });
});
