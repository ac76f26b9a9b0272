import { createRequire } from 'node:module';
import { DispatcherPool } from './agents.js';
import { withRedirects } from './redirect.js';
import { abortableSleep, defaultRetryPolicy, withRetry } from './retry.js';
import { SchemeResolver } from './scheme.js';
import { createBaseSend } from './send.js';
import { withThrottle } from './throttle.js';
import { withTrace } from './trace.js';
import type { Send, Timeouts, TransportOptions } from './types.js';

export * from './address.js';
export * from './body.js';
export { NetworkError, type NetworkFailure, SlowBodyError } from './network-error.js';
export { bypassesProxy, proxyFor } from './proxy.js';
export * from './redact.js';
export { becomesGet, checkRedirect, headersForRedirect, MAX_REDIRECTS } from './redirect.js';
export { backoffDelay, defaultRetryPolicy, isReplayable, parseRetryAfter } from './retry.js';
export { type SchemePlan, schemePlan } from './scheme.js';
export { Throttle, type ThrottleOptions, withThrottle } from './throttle.js';
export * from './types.js';

export const defaultTimeouts: Timeouts = { connectMs: 30_000, headersMs: 60_000, bodyIdleMs: 60_000 };

/** The HTTP stack tug talks to registries through. */
export interface Transport {
  /**
   * The stack without auth: retry → redirects → trace → one request. The trace sits at the
   * bottom so every hop and every attempt is its own line.
   */
  send: Send;
  /** The base URL of a registry (scheme decided once per registry), e.g. https://registry-1.docker.io */
  baseUrl(registry: string): Promise<URL>;
  /** Closes every connection. */
  close(): Promise<void>;
}

function packageUserAgent(): string {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  return `tug/${version}`;
}

/** The HTTP stack: TLS material, proxies, retries with back-off, redirects, timeouts. */
export function createTransport(options: TransportOptions = {}): Transport {
  const timeouts = { ...defaultTimeouts, ...options.timeouts };
  const pool = new DispatcherPool(options, timeouts);
  const base = createBaseSend(pool, options.userAgent ?? packageUserAgent(), timeouts);
  const single = options.trace ? withTrace(base, options.trace) : base;
  const redirecting = withRedirects(single);
  const send = withRetry(
    options.throttle ? withThrottle(redirecting, options.throttle) : redirecting,
    { ...defaultRetryPolicy, ...options.retry },
    options.sleep ?? abortableSleep,
  );
  const answersPlain = async (url: URL) => {
    const plain = await pool.answersPlainHttp(url);
    if (plain) options.trace?.(`--- ${url.host} answered a TLS handshake with plain HTTP: using http://`);
    return plain;
  };
  const schemes = new SchemeResolver(single, options.plainHttp === true, answersPlain);
  return {
    send,
    baseUrl: (registry) => schemes.baseUrl(registry),
    close: () => pool.close(),
  };
}
