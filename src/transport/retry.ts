import { TransportError } from '../errors.js';
import { discardBody, headerValue } from './body.js';
import type { HttpRequest, HttpResponse, RetryPolicy, Send } from './types.js';

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxRetryAfterMs: 10_000,
};

const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from `now`; undefined if unusable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}

/** Exponential back-off with full jitter: a random delay up to base × 2^attempt, capped. */
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

function rateLimitMessage(response: HttpResponse, waitMs: number | undefined): string {
  const remaining = headerValue(response, 'ratelimit-remaining');
  const quota = remaining ? ` (remaining quota: ${remaining})` : '';
  const after = waitMs !== undefined ? `; retry after ${Math.ceil(waitMs / 1000)} s` : '';
  return `rate limited by ${response.url.host}${after}${quota}`;
}

/**
 * Retries what is safe to retry — connection failures and 408/429/5xx — with back-off, honouring
 * `Retry-After` up to a ceiling. A wait over the ceiling fails at once with the time to wait.
 */
export function withRetry(send: Send, policy: RetryPolicy, sleep: (ms: number) => Promise<void>): Send {
  return async (request) => {
    const replayable = isReplayable(request);
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= policy.attempts || !replayable;
      let response: HttpResponse;
      try {
        response = await send(request);
      } catch (error) {
        if (last || !(error instanceof TransportError) || request.signal?.aborted) throw error;
        await sleep(backoffDelay(attempt, policy));
        continue;
      }
      if (!retryableStatuses.has(response.status)) return response;
      const retryAfter = parseRetryAfter(headerValue(response, 'retry-after'), new Date());
      if (response.status === 429 && retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) {
        discardBody(response);
        throw new TransportError(rateLimitMessage(response, retryAfter));
      }
      if (last) {
        if (response.status === 429) {
          discardBody(response);
          throw new TransportError(rateLimitMessage(response, retryAfter));
        }
        return response;
      }
      discardBody(response);
      await sleep(
        retryAfter !== undefined
          ? Math.min(retryAfter, policy.maxRetryAfterMs)
          : backoffDelay(attempt, policy),
      );
    }
  };
}
