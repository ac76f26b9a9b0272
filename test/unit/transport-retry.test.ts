import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/errors.js';
import { NetworkError } from '../../src/transport/network-error.js';
import {
  backoffDelay,
  defaultRetryPolicy,
  isReplayable,
  parseRetryAfter,
  withRetry,
} from '../../src/transport/retry.js';
import type { HttpRequest, HttpResponse, RetryPolicy, Send } from '../../src/transport/types.js';

const url = new URL('https://registry.example.com/v2/');

function answer(status: number, headers: HttpResponse['headers'] = {}): HttpResponse {
  return { status, headers, body: Readable.from([Buffer.from('body')]), url };
}

/** A Send that plays the given outcomes in order and records each request. */
function scripted(outcomes: Array<HttpResponse | Error>): Send & { calls: HttpRequest[] } {
  const calls: HttpRequest[] = [];
  const send = async (request: HttpRequest) => {
    calls.push(request);
    const outcome = outcomes[calls.length - 1];
    if (outcome === undefined) throw new Error('no more scripted answers');
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return Object.assign(send, { calls });
}

function recordingSleep(): ((ms: number) => Promise<void>) & { waits: number[] } {
  const waits: number[] = [];
  return Object.assign(
    async (ms: number) => {
      waits.push(ms);
    },
    { waits },
  );
}

const reset = () =>
  new NetworkError('connection to registry.example.com was reset', 'reset', 'ECONNRESET', true);
const policy: RetryPolicy = { ...defaultRetryPolicy };

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  it.each([
    ['7', 7000],
    [' 120 ', 120_000],
    ['0', 0],
  ])('reads %j seconds as %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('reads an HTTP date as the time left until it', () => {
    expect(parseRetryAfter('Sun, 22 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
  });

  it('reads an HTTP date in the past as no wait', () => {
    expect(parseRetryAfter('Sun, 22 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });

  it.each(['soon', '-5', '1.5', '', 'Someday, 99 Foo 2026'])('ignores the unusable value %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('stays below base × 2^attempt', () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const ceiling = policy.baseDelayMs * 2 ** attempt;
      expect(backoffDelay(attempt, policy, () => 0.9999)).toBeLessThan(ceiling);
      expect(backoffDelay(attempt, policy, () => 0.9999)).toBeGreaterThanOrEqual(ceiling * 0.99);
    }
  });

  it('never exceeds the cap however many attempts', () => {
    expect(backoffDelay(30, policy, () => 0.9999)).toBeLessThan(policy.maxDelayMs);
  });

  it('is fully jittered down to zero', () => {
    expect(backoffDelay(4, policy, () => 0)).toBe(0);
  });
});

describe('isReplayable', () => {
  const base: HttpRequest = { method: 'PUT', url };
  it('accepts no body, bytes and a body factory', () => {
    expect(isReplayable(base)).toBe(true);
    expect(isReplayable({ ...base, body: new Uint8Array([1]) })).toBe(true);
    expect(isReplayable({ ...base, body: { kind: 'replayable', open: () => Readable.from([]) } })).toBe(true);
  });

  it('refuses a one-shot stream', () => {
    expect(isReplayable({ ...base, body: { kind: 'stream', stream: Readable.from([]) } })).toBe(false);
  });
});

describe('withRetry', () => {
  it('retries a 503 and returns the 200 that follows, after a back-off', async () => {
    const send = scripted([answer(503), answer(200)]);
    const sleep = recordingSleep();
    const response = await withRetry(send, policy, sleep)({ method: 'GET', url });
    expect(response.status).toBe(200);
    expect(send.calls).toHaveLength(2);
    expect(sleep.waits).toHaveLength(1);
    expect(sleep.waits[0]).toBeLessThan(policy.baseDelayMs);
  });

  it('returns the last 5xx answer once the attempts are spent', async () => {
    const send = scripted([answer(500), answer(502), answer(504)]);
    const response = await withRetry(
      send,
      { ...policy, attempts: 3 },
      recordingSleep(),
    )({ method: 'GET', url });
    expect(response.status).toBe(504);
    expect(send.calls).toHaveLength(3);
  });

  it('waits what Retry-After asks on a 429', async () => {
    const send = scripted([answer(429, { 'retry-after': '3' }), answer(200)]);
    const sleep = recordingSleep();
    await withRetry(send, policy, sleep)({ method: 'HEAD', url });
    expect(sleep.waits).toEqual([3000]);
  });

  it('fails fast when Retry-After is over the ceiling, naming the wait and the quota left', async () => {
    const send = scripted([answer(429, { 'retry-after': '86400', 'ratelimit-remaining': '0;w=21600' })]);
    const sleep = recordingSleep();
    const failure = withRetry(send, policy, sleep)({ method: 'GET', url });
    await expect(failure).rejects.toThrow(TransportError);
    await expect(failure).rejects.toThrow(
      /rate limited by registry\.example\.com; retry after 86400 s.*0;w=21600/,
    );
    expect(sleep.waits).toEqual([]);
    expect(send.calls).toHaveLength(1);
  });

  it('turns a 429 on the last attempt into a rate-limit error', async () => {
    const send = scripted([answer(429), answer(429)]);
    await expect(
      withRetry(send, { ...policy, attempts: 2 }, recordingSleep())({ method: 'GET', url }),
    ).rejects.toThrow(/rate limited by registry\.example\.com/);
  });

  it('waits what a 503 Retry-After asks when it is under the ceiling', async () => {
    const send = scripted([answer(503, { 'retry-after': '2' }), answer(200)]);
    const sleep = recordingSleep();
    await withRetry(send, { ...policy, maxRetryAfterMs: 2000 }, sleep)({ method: 'GET', url });
    expect(sleep.waits).toEqual([2000]);
  });

  it('fails fast on a 503 whose Retry-After is over the ceiling, naming the wait', async () => {
    const send = scripted([answer(503, { 'retry-after': '86400' }), answer(200)]);
    const sleep = recordingSleep();
    const failure = withRetry(send, { ...policy, maxRetryAfterMs: 2000 }, sleep)({ method: 'GET', url });
    await expect(failure).rejects.toThrow(
      'registry.example.com is unavailable (HTTP 503); it asks to retry after 86400 s',
    );
    expect(sleep.waits).toEqual([]);
    expect(send.calls).toHaveLength(1);
  });

  it('fails fast on a 503 whose Retry-After date is over the ceiling', async () => {
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    const send = scripted([answer(503, { 'retry-after': later }), answer(200)]);
    const failure = withRetry(
      send,
      { ...policy, maxRetryAfterMs: 2000 },
      recordingSleep(),
    )({ method: 'GET', url });
    await expect(failure).rejects.toThrow(/unavailable \(HTTP 503\); it asks to retry after 360\d s/);
    expect(send.calls).toHaveLength(1);
  });

  it('retries a connection reset and says how many attempts failed', async () => {
    const send = scripted([reset(), reset(), reset()]);
    const failure = withRetry(send, { ...policy, attempts: 3 }, recordingSleep())({ method: 'GET', url });
    await expect(failure).rejects.toThrow('connection to registry.example.com was reset (3 attempts)');
    expect(send.calls).toHaveLength(3);
  });

  it('does not retry an untrusted certificate', async () => {
    const certificate = new NetworkError(
      'TLS certificate of x is not trusted',
      'certificate',
      'CERT_HAS_EXPIRED',
      false,
    );
    const send = scripted([certificate, answer(200)]);
    await expect(withRetry(send, policy, recordingSleep())({ method: 'GET', url })).rejects.toBe(certificate);
    expect(send.calls).toHaveLength(1);
  });

  it('does not retry an error that is not a network failure (a refused redirect)', async () => {
    const refused = new TransportError('refusing a redirect');
    const send = scripted([refused, answer(200)]);
    await expect(withRetry(send, policy, recordingSleep())({ method: 'GET', url })).rejects.toBe(refused);
    expect(send.calls).toHaveLength(1);
  });

  it('sends a one-shot stream body once, returning the 503', async () => {
    const send = scripted([answer(503), answer(201)]);
    const request: HttpRequest = {
      method: 'PUT',
      url,
      body: { kind: 'stream', stream: Readable.from(['x']) },
    };
    const response = await withRetry(send, policy, recordingSleep())(request);
    expect(response.status).toBe(503);
    expect(send.calls).toHaveLength(1);
  });

  it('retries a PUT whose body can be replayed', async () => {
    const send = scripted([answer(502), answer(201)]);
    const request: HttpRequest = { method: 'PUT', url, body: new Uint8Array([1, 2]) };
    expect((await withRetry(send, policy, recordingSleep())(request)).status).toBe(201);
    expect(send.calls).toHaveLength(2);
  });

  it('stops retrying once the request is aborted', async () => {
    const controller = new AbortController();
    const send = scripted([reset(), answer(200)]);
    const sleep = async () => {
      controller.abort();
    };
    const failure = withRetry(send, policy, sleep)({ method: 'GET', url, signal: controller.signal });
    await expect(failure).rejects.toThrow(/aborted/i);
    expect(send.calls).toHaveLength(1);
  });
});
