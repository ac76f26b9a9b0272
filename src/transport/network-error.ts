import { type ErrorCode, TransportError, type TugErrorOptions } from '../errors.js';
import type { Timeouts } from './types.js';

/** What went wrong below HTTP, in the terms a user can act on. */
export type NetworkFailure =
  | 'certificate'
  | 'not-tls'
  | 'handshake-closed'
  | 'refused'
  | 'unresolved'
  | 'timeout'
  | 'reset'
  | 'other';

const failureCodes: Record<NetworkFailure, ErrorCode> = {
  certificate: 'TLS',
  'not-tls': 'TLS',
  'handshake-closed': 'TLS',
  refused: 'NETWORK',
  unresolved: 'NETWORK',
  timeout: 'TIMEOUT',
  reset: 'NETWORK',
  other: 'NETWORK',
};

/**
 * A request that got no HTTP answer: code `TLS`, `TIMEOUT` or `NETWORK`. `transient` failures may
 * succeed when tried again; `systemCode` is the socket's or TLS stack's own code.
 */
export class NetworkError extends TransportError {
  constructor(
    message: string,
    readonly failure: NetworkFailure,
    readonly systemCode: string,
    transient: boolean,
    options: TugErrorOptions = {},
  ) {
    super(message, { ...options, code: failureCodes[failure], transient });
  }
}

/** A body that kept arriving, but slower than the floor tug sets (see pacedChunks). */
export class SlowBodyError extends NetworkError {
  constructor(host: string, bytesPerSecond: number, windowMs: number) {
    super(
      `${host} sent the response too slowly (under ${bytesPerSecond / 1024} KiB/s over ${windowMs / 1000} s)`,
      'timeout',
      'SLOW_BODY',
      true,
      { hint: 'a slow link may need a longer timeout', option: 'timeout' },
    );
  }
}

const certificateCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Codes that mean a TLS client got something else back: the server speaks plain HTTP. */
const notTlsCodes = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);
const notTlsMessage = /wrong version number|packet length too long|http request/i;
const handshakeClosedMessage = /before secure TLS connection was established/i;

const resetCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const timeoutCodes = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The most specific error code in a chain of causes (undici wraps socket errors). */
function errorCode(error: unknown): string {
  let generic = '';
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_CONNECT') return code;
      generic ||= code;
    }
    current = current.cause;
  }
  return generic;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? (error.message.trim().split('\n')[0] ?? '') : String(error);
}

function timeoutSeconds(code: string, timeouts: Timeouts): number {
  const ms =
    code === 'UND_ERR_CONNECT_TIMEOUT'
      ? timeouts.connectMs
      : code === 'UND_ERR_BODY_TIMEOUT'
        ? timeouts.bodyIdleMs
        : timeouts.headersMs;
  return Math.round(ms / 100) / 10;
}

/** Turns a network or TLS failure talking to `url` into one line a user can act on, with the fix. */
export function describeNetworkError(error: unknown, url: URL, timeouts: Timeouts): NetworkError {
  const code = errorCode(error);
  const message = errorMessage(error);
  const host = url.host;
  const cause = { cause: error };
  if (certificateCodes.has(code)) {
    return new NetworkError(
      `TLS certificate of ${host} is not trusted (${code})`,
      'certificate',
      code,
      false,
      {
        hint: `give the registry's CA as caFile, or put it in /etc/docker/certs.d/${host}/ca.crt; insecure skips verification`,
        option: 'caFile',
        ...cause,
      },
    );
  }
  if (notTlsCodes.has(code) || notTlsMessage.test(message)) {
    return new NetworkError(`${host} does not speak TLS (${code || message})`, 'not-tls', code, false, {
      hint: 'if the registry serves plain HTTP, list it in plainHttp',
      option: 'plainHttp',
      ...cause,
    });
  }
  if (handshakeClosedMessage.test(message)) {
    return new NetworkError(
      `${host} closed the connection during the TLS handshake`,
      'handshake-closed',
      code,
      true,
      {
        hint: 'if the registry serves plain HTTP, list it in plainHttp',
        option: 'plainHttp',
        ...cause,
      },
    );
  }
  if (code === 'ECONNREFUSED') {
    return new NetworkError(`cannot connect to ${host}: connection refused`, 'refused', code, true, {
      hint: 'is the registry running? is the address right?',
      ...cause,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new NetworkError(`cannot resolve ${url.hostname}`, 'unresolved', code, code === 'EAI_AGAIN', {
      hint: 'check the registry name and your DNS',
      ...cause,
    });
  }
  if (timeoutCodes.has(code)) {
    return new NetworkError(
      `${host} did not answer in time (within ${timeoutSeconds(code, timeouts)} s)`,
      'timeout',
      code,
      true,
      { hint: 'a slow registry may need a longer timeout', option: 'timeout', ...cause },
    );
  }
  if (resetCodes.has(code)) {
    return new NetworkError(`connection to ${host} was reset`, 'reset', code, true, cause);
  }
  return new NetworkError(`request to ${host} failed: ${message}`, 'other', code, false, cause);
}
