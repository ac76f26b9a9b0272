import { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import { readVerified } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { TagLister, WriteTarget } from './target.js';

/** Content held in memory, verified on the way in like every target: for building artifacts and for tests. */
export class MemoryTarget implements WriteTarget, TagLister {
  readonly #content = new Map<string, { descriptor: Descriptor; bytes: Uint8Array }>();
  readonly #tags = new Map<string, Descriptor>();

  async resolve(reference: string): Promise<Descriptor> {
    const descriptor = this.#tags.get(reference) ?? this.#content.get(reference)?.descriptor;
    if (!descriptor) throw new NotFoundError(`${reference} not found in memory`);
    return descriptor;
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    return Readable.from([await this.fetchBytes(descriptor)]);
  }

  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    const stored = this.#content.get(descriptor.digest);
    if (!stored) throw new NotFoundError(`${descriptor.digest} not found in memory`);
    return stored.bytes;
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    return this.#content.has(descriptor.digest);
  }

  async push(descriptor: Descriptor, content: Readable): Promise<void> {
    const bytes = await readVerified(content, descriptor);
    this.#content.set(descriptor.digest, { descriptor, bytes });
  }

  async tag(descriptor: Descriptor, reference: string): Promise<void> {
    if (!this.#content.has(descriptor.digest))
      throw new NotFoundError(`${descriptor.digest} not found in memory`);
    this.#tags.set(reference, descriptor);
  }

  async *tags(): AsyncIterable<string> {
    yield* this.#tags.keys();
  }
}
