import { UsageError } from '../errors.js';

/** A counting semaphore: at most `limit` tasks run at once; the others wait in arrival order. */
export class Limiter {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new UsageError(`concurrency must be a whole number of at least 1, not ${limit}`);
    }
    this.#limit = limit;
  }

  /**
   * Runs `task` in a slot. A task queued when `signal` aborts does not start: it rejects with the
   * reason. `release` gives the slot up before the task ends; calling it again does nothing.
   */
  async run<T>(task: (release: () => void) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.#running < this.#limit) this.#running += 1;
    // A finishing task hands its slot straight to the first waiter, so no newcomer can slip in.
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    };
    try {
      signal?.throwIfAborted();
      return await task(release);
    } finally {
      release();
    }
  }
}
