import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/copy/index.js';
import { UsageError } from '../../src/errors.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('Limiter', () => {
  it('runs at most its limit of tasks at once, in arrival order', async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        limiter.run(async () => {
          started.push(i);
          running += 1;
          most = Math.max(most, running);
          await tick();
          running -= 1;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives the slot of a failed task to the next one', async () => {
    const limiter = new Limiter(1);
    const failed = limiter.run(async () => {
      throw new Error('boom');
    });
    const next = limiter.run(async () => 'ran');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  it('does not start a queued task once the signal aborts, and lets the running one finish', async () => {
    const limiter = new Limiter(1);
    const controller = new AbortController();
    let queuedRan = false;
    const running = limiter.run(async () => {
      controller.abort(new Error('stop'));
      await tick();
      return 'finished';
    }, controller.signal);
    const queued = limiter
      .run(async () => {
        queuedRan = true;
      }, controller.signal)
      .catch((error: Error) => error.message);
    await expect(running).resolves.toBe('finished');
    expect(await queued).toBe('stop');
    expect(queuedRan).toBe(false);
    await expect(limiter.run(async () => 'still usable')).resolves.toBe('still usable');
  });

  it('starts the next task when a running one releases its slot early, and gives the slot up once', async () => {
    const limiter = new Limiter(1);
    let finish = () => {};
    const events: string[] = [];
    const first = limiter.run(async (release) => {
      events.push('first started');
      release();
      release();
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      events.push('first ended');
    });
    const second = limiter.run(async () => {
      events.push('second ran');
    });
    await second;
    finish();
    await first;
    expect(events).toEqual(['first started', 'second ran', 'first ended']);
    // One slot still: of two new tasks, the second waits for the first.
    let running = 0;
    let most = 0;
    await Promise.all(
      [0, 1].map(() =>
        limiter.run(async () => {
          running += 1;
          most = Math.max(most, running);
          await tick();
          running -= 1;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s', (limit) => {
    expect(() => new Limiter(limit)).toThrow(UsageError);
  });
});
