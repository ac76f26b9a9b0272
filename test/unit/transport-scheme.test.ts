import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NetworkError, type NetworkFailure } from '../../src/transport/network-error.js';
import { SchemeResolver, schemePlan } from '../../src/transport/scheme.js';
import type { HttpRequest, HttpResponse } from '../../src/transport/types.js';

describe('schemePlan', () => {
  it('sends docker.io to registry-1.docker.io over HTTPS', () => {
    expect(schemePlan('docker.io', false)).toEqual({
      kind: 'fixed',
      url: new URL('https://registry-1.docker.io'),
    });
  });

  it('uses HTTPS for a remote registry, port kept', () => {
    expect(schemePlan('ghcr.io', false)).toEqual({ kind: 'fixed', url: new URL('https://ghcr.io') });
    expect(schemePlan('registry.example.com:8443', false)).toEqual({
      kind: 'fixed',
      url: new URL('https://registry.example.com:8443'),
    });
  });

  it('uses plain HTTP for every registry with plainHttp', () => {
    expect(schemePlan('registry.example.com', true)).toEqual({
      kind: 'fixed',
      url: new URL('http://registry.example.com'),
    });
    expect(schemePlan('localhost:5000', true)).toEqual({
      kind: 'fixed',
      url: new URL('http://localhost:5000'),
    });
  });

  it.each(['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', '[::1]'])(
    'probes the loopback registry %s',
    (registry) => {
      expect(schemePlan(registry, false)).toEqual({
        kind: 'probe',
        https: new URL(`https://${registry}`),
        http: new URL(`http://${registry}`),
      });
    },
  );

  it('does not probe a host that only looks local', () => {
    expect(schemePlan('localhost.example.com:5000', false).kind).toBe('fixed');
    expect(schemePlan('10.0.0.1:5000', false).kind).toBe('fixed');
  });
});

describe('SchemeResolver', () => {
  function failing(failure: NetworkFailure) {
    const calls: HttpRequest[] = [];
    const send = async (request: HttpRequest): Promise<HttpResponse> => {
      calls.push(request);
      throw new NetworkError(`${failure} failure`, failure, 'CODE', false);
    };
    return { send, calls };
  }

  it('falls back to plain HTTP when the loopback server does not speak TLS', async () => {
    const { send } = failing('not-tls');
    expect((await new SchemeResolver(send, false).baseUrl('localhost:5000')).href).toBe(
      'http://localhost:5000/',
    );
  });

  it('falls back to plain HTTP when the server closes the TLS handshake', async () => {
    const { send } = failing('handshake-closed');
    expect((await new SchemeResolver(send, false).baseUrl('127.0.0.1:5000')).href).toBe(
      'http://127.0.0.1:5000/',
    );
  });

  it('never falls back when the loopback server speaks TLS with an untrusted certificate', async () => {
    const { send } = failing('certificate');
    await expect(new SchemeResolver(send, false).baseUrl('127.0.0.1:5000')).rejects.toThrow(
      'certificate failure',
    );
  });

  it('keeps HTTPS when the probe gets any HTTP answer', async () => {
    const send = async (request: HttpRequest): Promise<HttpResponse> => ({
      status: 401,
      headers: {},
      body: Readable.from([]),
      url: request.url,
    });
    expect((await new SchemeResolver(send, false).baseUrl('[::1]:5000')).href).toBe('https://[::1]:5000/');
  });

  it('probes each host once, however many callers ask at the same time', async () => {
    const { send, calls } = failing('not-tls');
    const resolver = new SchemeResolver(send, false);
    const answers = await Promise.all([1, 2, 3, 4].map(() => resolver.baseUrl('localhost:5000')));
    await resolver.baseUrl('localhost:5000');
    expect(new Set(answers.map((url) => url.href))).toEqual(new Set(['http://localhost:5000/']));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url.href).toBe('https://localhost:5000/v2/');
  });

  it('settles on plain HTTP without a request when the server is known not to speak TLS', async () => {
    const { send, calls } = failing('not-tls');
    const asked: string[] = [];
    const answersPlain = async (url: URL) => {
      asked.push(url.href);
      return true;
    };
    const resolver = new SchemeResolver(send, false, answersPlain);
    expect((await resolver.baseUrl('localhost:5000')).href).toBe('http://localhost:5000/');
    expect(asked).toEqual(['https://localhost:5000/']);
    expect(calls).toHaveLength(0);
  });

  it('probes as usual when the server may speak TLS, and keeps its errors', async () => {
    const { send, calls } = failing('certificate');
    const resolver = new SchemeResolver(send, false, async () => false);
    await expect(resolver.baseUrl('127.0.0.1:5000')).rejects.toThrow('certificate failure');
    expect(calls.map((call) => call.url.href)).toEqual(['https://127.0.0.1:5000/v2/']);
  });

  it('probes again after a failed probe', async () => {
    const { send, calls } = failing('refused');
    const resolver = new SchemeResolver(send, false);
    await expect(resolver.baseUrl('localhost:5000')).rejects.toThrow();
    await expect(resolver.baseUrl('localhost:5000')).rejects.toThrow();
    expect(calls).toHaveLength(2);
  });

  it('sends nothing for a registry whose scheme is fixed', async () => {
    const { send, calls } = failing('refused');
    expect((await new SchemeResolver(send, false).baseUrl('docker.io')).href).toBe(
      'https://registry-1.docker.io/',
    );
    expect(calls).toHaveLength(0);
  });
});
