import { headerValue } from './body.js';
import { abortableSleep, parseRetryAfter } from './retry.js';
import type { HttpRequest, HttpResponse, Send, Sleep } from './types.js';

export interface ThrottleOptions {
  /** The most requests a second sent to a host (`registry:port`); undefined: no limit. */
  requestsPerSecond?: (host: string) => number | undefined;
  /** The longest one pause asked for by a registry may last, in milliseconds. */
  maxWaitMs: number;
  now?: () => number;
  sleep?: Sleep;
}

/**
 * Pacing shared by every request of a run, per host: a rate limit answered by one request
 * (`Retry-After` on a 429 or 503, or `ratelimit-remaining: 0` with `ratelimit-reset`) holds back
 * every other request to that host for as long (up to a ceiling) instead of letting them fail
 * too; and an optional ceiling on requests per second spaces the requests out.
 */
export class Throttle {
  readonly #options: ThrottleOptions;
  readonly #pausedUntil = new Map<string, number>();
  readonly #nextSlot = new Map<string, number>();
  readonly #now: () => number;
  readonly #sleep: Sleep;

  constructor(options: ThrottleOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
  }

  /** Waits for the host's pause to end and for the request's turn under its rate. */
  async before(request: HttpRequest): Promise<void> {
    const host = request.url.host;
    const now = this.#now();
    let start = Math.max(now, this.#pausedUntil.get(host) ?? 0);
    const rate = this.#options.requestsPerSecond?.(host);
    if (rate !== undefined) {
      start = Math.max(start, this.#nextSlot.get(host) ?? 0);
      this.#nextSlot.set(host, start + 1000 / rate);
    }
    if (start > now) await this.#sleep(start - now, request.signal);
  }

  /** Reads what the answer says about the host's rate limit. */
  after(response: HttpResponse): void {
    const now = this.#now();
    let waitMs: number | undefined;
    if (response.status === 429 || response.status === 503) {
      waitMs = parseRetryAfter(headerValue(response, 'retry-after'), new Date(now));
    }
    const remaining = headerValue(response, 'ratelimit-remaining');
    if (waitMs === undefined && remaining !== undefined && /^\s*0\s*(?:;|$)/.test(remaining)) {
      waitMs = parseRetryAfter(headerValue(response, 'ratelimit-reset'), new Date(now));
    }
    if (waitMs === undefined || waitMs <= 0) return;
    const host = response.url.host;
    const until = now + Math.min(waitMs, this.#options.maxWaitMs);
    this.#pausedUntil.set(host, Math.max(until, this.#pausedUntil.get(host) ?? 0));
  }
}

/** Each request (each attempt, each redirect hop's first request) waits its turn, and each answer informs the pace. */
export function withThrottle(send: Send, throttle: Pick<Throttle, 'before' | 'after'>): Send {
  return async (request) => {
    await throttle.before(request);
    const response = await send(request);
    throttle.after(response);
    return response;
  };
}
