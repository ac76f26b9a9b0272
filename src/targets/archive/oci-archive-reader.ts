import type { Readable } from 'node:stream';
import { InvalidContentError, NotFoundError, SizeLimitError, UsageError } from '../../errors.js';
import {
  isValidDigest,
  MAX_MANIFEST_BYTES,
  parseDigest,
  parseManifest,
  readVerified,
  validateDescriptor,
  verifiedFrom,
} from '../../oci/index.js';
import type { Descriptor } from '../../oci/types.js';
import { type LayoutIndex, parseLayoutIndex, refNameOf, withoutRefName } from '../layout/index-file.js';
import type { ReadTarget, TagLister } from '../target.js';
import type { TarFile, TarIndex } from './tar-index.js';

/** The entry of a blob in a tarred layout: `blobs/<algorithm>/<hex>`. */
export function archiveBlobName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/**
 * A tarred OCI layout read in place: the tar is indexed once and each blob is read back as a
 * byte range of it, verified against its digest, so nothing is extracted.
 */
export class OciArchiveReader implements ReadTarget, TagLister {
  readonly #tar: TarIndex;
  readonly #index: LayoutIndex;

  private constructor(tar: TarIndex, index: LayoutIndex) {
    this.#tar = tar;
    this.#index = index;
  }

  /** Ends an `await using` block; each read opens and closes the file itself. */
  async [Symbol.asyncDispose](): Promise<void> {}

  static async open(tar: TarIndex): Promise<OciArchiveReader> {
    if (!tar.has('oci-layout')) {
      throw new InvalidContentError(
        `oci-archive ${tar.path} is not a tarred OCI layout: it has no oci-layout`,
        {
          hint: tar.has('manifest.json')
            ? `it is a docker save tarball: read docker-archive:${tar.path}`
            : undefined,
        },
      );
    }
    const bytes = await tar.read(tar.file('index.json'), MAX_MANIFEST_BYTES);
    return new OciArchiveReader(tar, parseLayoutIndex(bytes, `oci-archive ${tar.path}: index.json`));
  }

  get path(): string {
    return this.#tar.path;
  }

  /** As a layout resolves: a digest, a ref name, or (empty) the only manifest. */
  async resolve(reference: string): Promise<Descriptor> {
    const { entries } = this.#index;
    if (reference === '') {
      const [only, ...others] = entries;
      if (only === undefined) throw new NotFoundError(`oci-archive ${this.path} holds no manifest`);
      if (others.length > 0) {
        const tags = entries.flatMap((entry) => refNameOf(entry.descriptor) ?? []);
        throw new UsageError(
          `oci-archive ${this.path} holds ${entries.length} manifests: name one by tag or digest`,
          { hint: tags.length > 0 ? `tags in the archive: ${tags.join(', ')}` : undefined },
        );
      }
      return withoutRefName(only.descriptor);
    }
    const byDigest = isValidDigest(reference);
    const entry = entries.find((candidate) =>
      byDigest ? candidate.descriptor.digest === reference : refNameOf(candidate.descriptor) === reference,
    );
    if (entry !== undefined) return withoutRefName(entry.descriptor);
    if (!byDigest) throw new NotFoundError(`tag ${reference} not found in oci-archive ${this.path}`);
    const file = this.#blobFile(reference);
    if (file.size > MAX_MANIFEST_BYTES) {
      throw new SizeLimitError(
        `manifest ${reference} is ${file.size} bytes, over the limit of ${MAX_MANIFEST_BYTES}`,
      );
    }
    const bytes = await readVerified(this.#tar.open(file), { digest: reference, size: file.size });
    const { mediaType, manifest } = parseManifest(bytes);
    const descriptor: Descriptor = { mediaType, digest: reference, size: file.size };
    if (manifest.artifactType !== undefined) descriptor.artifactType = manifest.artifactType;
    return descriptor;
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    const checked = validateDescriptor(descriptor);
    return verifiedFrom(this.#tar.open(this.#blobFile(checked.digest)), checked);
  }

  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    const checked = validateDescriptor(descriptor);
    return readVerified(this.#tar.open(this.#blobFile(checked.digest)), checked, MAX_MANIFEST_BYTES);
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    const name = archiveBlobName(descriptor.digest);
    return this.#tar.has(name) && this.#tar.file(name).size === descriptor.size;
  }

  async *tags(): AsyncIterable<string> {
    yield* new Set(this.#index.entries.flatMap((entry) => refNameOf(entry.descriptor) ?? []));
  }

  #blobFile(digest: string): TarFile {
    const name = archiveBlobName(digest);
    if (!this.#tar.has(name)) throw new NotFoundError(`blob ${digest} not found in oci-archive ${this.path}`);
    return this.#tar.file(name);
  }
}
