import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Throttle } from '../../src/transport/throttle.js';
import type { HttpRequest, HttpResponse } from '../../src/transport/types.js';

function clock() {
  const state = { now: 1_000_000, slept: [] as number[] };
  return {
    state,
    now: () => state.now,
    sleep: async (ms: number) => {
      state.slept.push(ms);
      state.now += ms;
    },
  };
}

const request = (host: string): HttpRequest => ({ method: 'GET', url: new URL(`http://${host}/v2/`) });
const response = (host: string, status: number, headers: Record<string, string>): HttpResponse => ({
  status,
  headers,
  body: Readable.from([]),
  url: new URL(`http://${host}/v2/x/manifests/1`),
});

describe('the pace of a sync run', () => {
  it('holds back every request to a host that answered 429 with Retry-After, up to the ceiling', async () => {
    const time = clock();
    const throttle = new Throttle({ maxWaitMs: 30_000, now: time.now, sleep: time.sleep });
    throttle.after(response('a.io', 429, { 'retry-after': '7' }));
    await throttle.before(request('b.io'));
    expect(time.state.slept).toEqual([]);
    await throttle.before(request('a.io'));
    expect(time.state.slept).toEqual([7000]);
    throttle.after(response('a.io', 429, { 'retry-after': '86400' }));
    await throttle.before(request('a.io'));
    expect(time.state.slept).toEqual([7000, 30_000]);
  });

  it('pauses when the quota is spent (ratelimit-remaining 0 and ratelimit-reset), not before', async () => {
    const time = clock();
    const throttle = new Throttle({ maxWaitMs: 60_000, now: time.now, sleep: time.sleep });
    throttle.after(response('a.io', 200, { 'ratelimit-remaining': '3;w=21600', 'ratelimit-reset': '20' }));
    await throttle.before(request('a.io'));
    expect(time.state.slept).toEqual([]);
    throttle.after(response('a.io', 200, { 'ratelimit-remaining': '0;w=21600', 'ratelimit-reset': '20' }));
    await throttle.before(request('a.io'));
    expect(time.state.slept).toEqual([20_000]);
  });

  it('spaces requests to a host with a requests-per-second limit', async () => {
    const time = clock();
    const throttle = new Throttle({
      maxWaitMs: 1000,
      requestsPerSecond: (host) => (host === 'a.io' ? 4 : undefined),
      now: time.now,
      sleep: time.sleep,
    });
    for (let i = 0; i < 3; i++) await throttle.before(request('a.io'));
    await throttle.before(request('b.io'));
    expect(time.state.slept).toEqual([250, 250]);
  });
});
