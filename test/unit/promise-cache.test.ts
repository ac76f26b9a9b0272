import { describe, expect, it } from 'vitest';
import { PromiseCache } from '../../src/promise-cache.js';

describe('PromiseCache', () => {
  it('makes one promise per key and shares it with every later ask', async () => {
    const cache = new PromiseCache<number>();
    let made = 0;
    const make = async () => ++made;
    const answers = await Promise.all([cache.get('a', make), cache.get('a', make), cache.get('b', make)]);
    expect(answers).toEqual([1, 1, 2]);
    expect(made).toBe(2);
  });

  it('forgets a promise that rejected, so the next ask makes a new one', async () => {
    const cache = new PromiseCache<string>();
    await expect(cache.get('a', async () => Promise.reject(new Error('not up yet')))).rejects.toThrow();
    await expect(cache.get('a', async () => 'up')).resolves.toBe('up');
  });
});
