import { describe, expect, it } from 'vitest';
import { describeNetworkError } from '../../src/transport/network-error.js';

const url = new URL('https://registry.example.com:5000/v2/');
const timeouts = { connectMs: 30_000, headersMs: 60_000, bodyIdleMs: 45_000 };

function failure(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeNetworkError', () => {
  it.each([
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])('names %s as an untrusted certificate (TLS) pointing at the caFile option', (code) => {
    const error = describeNetworkError(failure(code), url, timeouts);
    expect(error.message).toBe(`TLS certificate of registry.example.com:5000 is not trusted (${code})`);
    expect(error.code).toBe('TLS');
    expect(error.option).toBe('caFile');
    expect(error.hint).not.toContain('--');
    expect(error.hint).toContain('/etc/docker/certs.d/registry.example.com:5000/ca.crt');
    expect(error.transient).toBe(false);
  });

  it('points at the plainHttp option when the server answers TLS in plain HTTP', () => {
    const error = describeNetworkError(
      failure(
        'ERR_SSL_WRONG_VERSION_NUMBER',
        'error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
      ),
      url,
      timeouts,
    );
    expect(error.failure).toBe('not-tls');
    expect(error.option).toBe('plainHttp');
  });

  it('recognises a socket closed during the TLS handshake', () => {
    const error = describeNetworkError(
      failure(
        'ECONNRESET',
        'Client network socket disconnected before secure TLS connection was established',
      ),
      url,
      timeouts,
    );
    expect(error.failure).toBe('handshake-closed');
  });

  it('says a refused connection plainly, as transient', () => {
    const error = describeNetworkError(failure('ECONNREFUSED'), url, timeouts);
    expect(error.message).toBe('cannot connect to registry.example.com:5000: connection refused');
    expect(error.hint).toBe('is the registry running? is the address right?');
    expect(error.transient).toBe(true);
  });

  it('says an unknown name cannot be resolved and does not retry it', () => {
    const error = describeNetworkError(failure('ENOTFOUND'), url, timeouts);
    expect(error.message).toBe('cannot resolve registry.example.com');
    expect(error.transient).toBe(false);
  });

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'registry.example.com:5000 did not answer in time (within 30 s)'],
    ['UND_ERR_HEADERS_TIMEOUT', 'registry.example.com:5000 did not answer in time (within 60 s)'],
    ['UND_ERR_BODY_TIMEOUT', 'registry.example.com:5000 did not answer in time (within 45 s)'],
  ])('names the timeout that expired for %s', (code, message) => {
    expect(describeNetworkError(failure(code), url, timeouts).message).toBe(message);
  });

  it('finds the code of a socket error wrapped by undici', () => {
    const wrapped = Object.assign(new Error('other side closed', { cause: failure('ECONNRESET') }), {
      code: 'UND_ERR_SOCKET',
    });
    const error = describeNetworkError(wrapped, url, timeouts);
    expect(error.failure).toBe('reset');
    expect(error.message).toBe('connection to registry.example.com:5000 was reset');
  });
});
