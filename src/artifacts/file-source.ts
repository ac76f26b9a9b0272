import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import { createVerifier, readVerified } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { ReadTarget } from '../targets/target.js';

/**
 * Content to push, read from where it already is: files stay on disk (streamed, verified as they
 * are read, so a file changed since it was hashed is caught) and small documents in memory.
 */
export class FileSource implements ReadTarget {
  readonly #files = new Map<string, string>();
  readonly #documents = new Map<string, Uint8Array>();
  readonly #tags = new Map<string, Descriptor>();

  /** Serves `descriptor` from the file at `path`. */
  addFile(descriptor: Descriptor, path: string): void {
    this.#files.set(descriptor.digest, path);
  }

  /** Serves `descriptor` from bytes in memory, under `tag` when given. */
  addBytes(descriptor: Descriptor, bytes: Uint8Array, tag?: string): void {
    this.#documents.set(descriptor.digest, bytes);
    if (tag) this.#tags.set(tag, descriptor);
  }

  async resolve(reference: string): Promise<Descriptor> {
    const descriptor = this.#tags.get(reference);
    if (!descriptor) throw new NotFoundError(`nothing named ${reference} is being pushed`);
    return descriptor;
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    const bytes = this.#documents.get(descriptor.digest);
    const source = bytes ? Readable.from([bytes]) : createReadStream(this.#pathOf(descriptor));
    // The callback form destroys the verifier when the file fails, so readers see the error.
    return pipeline(source, createVerifier(descriptor), () => {});
  }

  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    return readVerified(await this.fetch(descriptor), descriptor);
  }

  /** Whether the source holds `descriptor`. */
  async exists(descriptor: Descriptor): Promise<boolean> {
    return this.#documents.has(descriptor.digest) || this.#files.has(descriptor.digest);
  }

  #pathOf(descriptor: Descriptor): string {
    const path = this.#files.get(descriptor.digest);
    if (!path) throw new NotFoundError(`${descriptor.digest} is not part of this push`);
    return path;
  }
}
