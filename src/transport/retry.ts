import { setTimeout as delay } from 'node:timers/promises';
import { TransportError } from '../errors.js';
import { discardBody, headerValue } from './body.js';
import { NetworkError } from './network-error.js';
import type { HttpRequest, HttpResponse, RetryPolicy, Send, Sleep } from './types.js';

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxRetryAfterMs: 10_000,
};

const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
export const abortableSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from `now`; undefined if unusable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Anything numeric that is not a plain count of seconds (-5, 1.5) is garbage, not a date.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}

/** Exponential back-off with full jitter: a random delay below min(cap, base × 2^attempt). */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

/** Whether the request can be sent again: no body, or one that can be replayed. */
export function isReplayable(request: HttpRequest): boolean {
  const { body } = request;
  return body === undefined || body instanceof Uint8Array || body.kind === 'replayable';
}

function rateLimited(response: HttpResponse, waitMs: number | undefined): TransportError {
  const remaining = headerValue(response, 'ratelimit-remaining');
  const after = waitMs === undefined ? '' : `; retry after ${Math.ceil(waitMs / 1000)} s`;
  const quota = remaining ? ` (remaining quota: ${remaining})` : '';
  return new TransportError(`rate limited by ${response.url.host}${after}${quota}`, {
    code: 'RATE_LIMITED',
    hint: 'wait and try again, or log in: authenticated pulls have a higher quota on most registries',
  });
}

function unavailable(response: HttpResponse, waitMs: number): TransportError {
  return new TransportError(
    `${response.url.host} is unavailable (HTTP 503); it asks to retry after ${Math.ceil(waitMs / 1000)} s`,
    { hint: 'try again later' },
  );
}

function afterAttempts(error: NetworkError, attempts: number): NetworkError {
  return new NetworkError(`${error.message} (${attempts} attempts)`, error.failure, error.systemCode, true, {
    hint: error.hint,
    option: error.option,
    cause: error.cause,
  });
}

/**
 * Retries what is safe to retry: transient connection failures and 408/429/5xx answers, for a
 * request whose body can be sent again. Waits with back-off, or as long as `Retry-After` says up
 * to a ceiling; a longer `Retry-After` on a 429 or a 503 fails at once with the time to wait.
 */
export function withRetry(send: Send, policy: RetryPolicy, sleep: Sleep = abortableSleep): Send {
  return async (request) => {
    const attempts = isReplayable(request) ? Math.max(1, policy.attempts) : 1;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= attempts;
      let response: HttpResponse;
      try {
        response = await send(request);
      } catch (error) {
        if (!(error instanceof NetworkError) || !error.transient || request.signal?.aborted) throw error;
        if (last) throw attempts > 1 ? afterAttempts(error, attempts) : error;
        await sleep(backoffDelay(attempt, policy), request.signal);
        request.signal?.throwIfAborted();
        continue;
      }
      if (!retryableStatuses.has(response.status)) return response;
      const retryAfter = parseRetryAfter(headerValue(response, 'retry-after'), new Date());
      const overCeiling = retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs;
      if (response.status === 429 && (overCeiling || last)) {
        discardBody(response);
        throw rateLimited(response, retryAfter);
      }
      if (response.status === 503 && overCeiling) {
        discardBody(response);
        throw unavailable(response, retryAfter);
      }
      if (last) return response;
      discardBody(response);
      await sleep(
        retryAfter === undefined
          ? backoffDelay(attempt, policy)
          : Math.min(retryAfter, policy.maxRetryAfterMs),
        request.signal,
      );
      request.signal?.throwIfAborted();
    }
  };
}
