import { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import { readVerified } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { TagLister, WriteTarget } from './target.js';

interface Stored {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

/**
 * Content held in memory, verified on the way in like every target: for building artifacts
 * before they are pushed, and for tests. Readers get copies, so nobody can alter what is stored.
 */
export class MemoryTarget implements WriteTarget, TagLister {
  readonly #content = new Map<string, Stored>();
  readonly #tags = new Map<string, Descriptor>();

  /** Ends an `await using` block; memory is released with the target. */
  async [Symbol.asyncDispose](): Promise<void> {}

  /** A tag, or a digest of stored content, to its descriptor (media type, digest, size). */
  async resolve(reference: string): Promise<Descriptor> {
    const descriptor = this.#tags.get(reference) ?? this.#content.get(reference)?.descriptor;
    if (!descriptor) throw new NotFoundError(`${reference} not found in memory`);
    return descriptor;
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    return Readable.from([this.#get(descriptor)], { objectMode: false });
  }

  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    return this.#get(descriptor);
  }

  /** Whether the target holds `descriptor`. */
  async exists(descriptor: Descriptor): Promise<boolean> {
    return this.#content.has(descriptor.digest);
  }

  /** Stores the content once its size and digest match `descriptor`; nothing is stored otherwise. */
  async push(descriptor: Descriptor, content: Readable): Promise<void> {
    const bytes = await readVerified(content, descriptor);
    const { mediaType, digest, size } = descriptor;
    this.#content.set(digest, { descriptor: { mediaType, digest, size }, bytes });
  }

  async tag(descriptor: Descriptor, reference: string): Promise<void> {
    const stored = this.#content.get(descriptor.digest);
    if (!stored) throw new NotFoundError(`${descriptor.digest} not found in memory`);
    this.#tags.set(reference, stored.descriptor);
  }

  /** The tags set so far. */
  async *tags(): AsyncIterable<string> {
    yield* [...this.#tags.keys()].sort();
  }

  #get(descriptor: Descriptor): Buffer {
    const stored = this.#content.get(descriptor.digest);
    if (!stored) throw new NotFoundError(`${descriptor.digest} not found in memory`);
    return Buffer.from(stored.bytes);
  }
}
