import { NotFoundError } from '../errors.js';
import type { ReadTarget, TagLister } from './target.js';

/**
 * The tags of `target` that name `digest`, in listing order: one resolve per tag, `concurrency` at
 * a time. A tag removed while this runs is left out.
 */
export async function tagsPointingAt(
  target: ReadTarget & TagLister,
  digest: string,
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<string[]> {
  const tags: string[] = [];
  for await (const tag of target.tags()) tags.push(tag);
  const matches = new Array<boolean>(tags.length).fill(false);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let position = next++; position < tags.length; position = next++) {
      options.signal?.throwIfAborted();
      const tag = tags[position] ?? '';
      const resolved = await target.resolve(tag, { signal: options.signal }).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      matches[position] = resolved?.digest === digest;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return tags.filter((_, position) => matches[position]);
}
