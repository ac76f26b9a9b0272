import { createRequire } from 'node:module';
import { DispatcherPool } from './agents.js';
import { withRedirects } from './redirect.js';
import { defaultRetryPolicy, withRetry } from './retry.js';
import { SchemeResolver } from './scheme.js';
import { createBaseSend } from './send.js';
import { withTrace } from './trace.js';
import type { Send, Timeouts, TransportOptions } from './types.js';

export * from './address.js';
export * from './body.js';
export * from './redact.js';
export { checkRedirect, MAX_REDIRECTS } from './redirect.js';
export { backoffDelay, defaultRetryPolicy, isReplayable, parseRetryAfter } from './retry.js';
export * from './types.js';

export const defaultTimeouts: Timeouts = { connectMs: 30_000, headersMs: 60_000, bodyIdleMs: 60_000 };

export interface Transport {
  /** The stack without auth: retry → redirects → trace → one request. */
  send: Send;
  /** The base URL of a registry (scheme decided once per registry). */
  baseUrl(registry: string): Promise<URL>;
  close(): Promise<void>;
}

function defaultUserAgent(): string {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  return `tug/${version}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createTransport(options: TransportOptions = {}): Transport {
  const timeouts = { ...defaultTimeouts, ...options.timeouts };
  const pool = new DispatcherPool(options, timeouts);
  let single: Send = createBaseSend(pool, options.userAgent ?? defaultUserAgent());
  if (options.trace) single = withTrace(single, options.trace);
  const send = withRetry(
    withRedirects(single),
    { ...defaultRetryPolicy, ...options.retry },
    options.sleep ?? sleep,
  );
  // The scheme probe is one attempt: a plain-HTTP answer to TLS is the expected outcome, not a fault.
  const schemes = new SchemeResolver(single, options.plainHttp === true);
  return {
    send,
    baseUrl: (registry) => schemes.baseUrl(registry),
    close: () => pool.close(),
  };
}
