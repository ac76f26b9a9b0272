import { Readable } from 'node:stream';
import { DigestMismatchError, NotFoundError } from '../errors.js';
import { isManifestMediaType, MAX_MANIFEST_BYTES, parseManifest, readVerified } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { PreconditionFailedError } from '../registry/errors.js';
import type { Repository } from '../registry/repository.js';
import { ManifestMemory } from './manifest-memory.js';
import { addToReferrersTag, readReferrersTag, referrerDescriptor } from './referrers-tag.js';
import type {
  ConditionalTagger,
  Connector,
  Mounter,
  OpenedUpload,
  ReferenceFetcher,
  ReferencePusher,
  ReferrerFinder,
  ReferrersIndexer,
  SignalOptions,
  TagLister,
  TagState,
  Untagger,
  UploadOpener,
  WriteTarget,
} from './target.js';
import { untagPlaceholder } from './untag-placeholder.js';

/** Manifests pushed or read by reference in this process are kept, within these bounds. */
const MAX_REMEMBERED_MANIFESTS = 256;
const MAX_REMEMBERED_BYTES = 16 * 1024 * 1024;

/** A registry repository as a Target: what `cp`, `push` and `pull` read from and write to. */
export class RegistryTarget
  implements
    WriteTarget,
    Connector,
    Mounter,
    ReferenceFetcher,
    ReferencePusher,
    TagLister,
    ReferrerFinder,
    ReferrersIndexer,
    ConditionalTagger,
    Untagger,
    UploadOpener
{
  readonly #manifests = new ManifestMemory(MAX_REMEMBERED_MANIFESTS, MAX_REMEMBERED_BYTES);
  /** Referrers tag updates, one at a time: pushes of this process never lose each other's entry. */
  #referrerUpdates: Promise<unknown> = Promise.resolve();

  constructor(readonly repository: Repository) {}

  /** Ends an `await using` block; the target holds nothing of its own (the registry client owns the connections). */
  async [Symbol.asyncDispose](): Promise<void> {}

  connect(options: SignalOptions = {}): Promise<void> {
    return this.repository.connect(options);
  }

  resolve(reference: string, options: SignalOptions = {}): Promise<Descriptor> {
    return this.repository.resolve(reference, options);
  }

  /** One GET of the manifest by tag or digest; its bytes are kept, so fetchBytes needs no second request. */
  async fetchReference(
    reference: string,
    options: SignalOptions = {},
  ): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
    const { descriptor, bytes } = await this.repository.fetchManifest(reference, options);
    this.#manifests.remember(descriptor.digest, bytes);
    return { descriptor, bytes };
  }

  async fetch(descriptor: Descriptor, options: SignalOptions = {}): Promise<Readable> {
    if (isManifestMediaType(descriptor.mediaType))
      return Readable.from([await this.fetchBytes(descriptor, options)]);
    return this.repository.fetchBlob(descriptor, options);
  }

  async fetchBytes(descriptor: Descriptor, options: SignalOptions = {}): Promise<Uint8Array> {
    if (!isManifestMediaType(descriptor.mediaType)) {
      return readVerified(
        await this.repository.fetchBlob(descriptor, options),
        descriptor,
        MAX_MANIFEST_BYTES,
      );
    }
    const remembered = this.#manifests.get(descriptor.digest);
    if (remembered) return remembered;
    const { descriptor: fetched, bytes } = await this.repository.fetchManifest(descriptor, options);
    if (fetched.digest !== descriptor.digest)
      throw new DigestMismatchError(descriptor.digest, fetched.digest);
    return bytes;
  }

  /** Whether the repository holds `descriptor`. */
  exists(descriptor: Descriptor, options: SignalOptions = {}): Promise<boolean> {
    return this.repository.exists(descriptor, options);
  }

  /** The blob's bytes from `offset` on, unverified (the receiver holds the rest and verifies the whole). */
  fetchFrom(descriptor: Descriptor, offset: number, options: SignalOptions = {}): Promise<Readable> {
    return this.repository.fetchBlobFrom(descriptor, offset, options);
  }

  /** A blob's upload session, opened before its bytes are at hand; `send` then does what `push` does. */
  async openUpload(descriptor: Descriptor, options: SignalOptions = {}): Promise<OpenedUpload> {
    const opened = await this.repository.openBlobUpload(descriptor, options);
    return {
      send: (content) => opened.send({ kind: 'stream', stream: content, length: descriptor.size }),
      cancel: () => opened.cancel(),
    };
  }

  async push(descriptor: Descriptor, content: Readable, options: SignalOptions = {}): Promise<void> {
    if (!isManifestMediaType(descriptor.mediaType)) {
      await (await this.openUpload(descriptor, options)).send(content);
      return;
    }
    await this.pushReference(descriptor, content, descriptor.digest, options);
  }

  /** A manifest put by tag is stored under its digest too: one request where `push` and `tag` make two. */
  async pushReference(
    descriptor: Descriptor,
    content: Readable,
    reference: string,
    options: SignalOptions = {},
  ): Promise<void> {
    const bytes = await readVerified(content, descriptor, MAX_MANIFEST_BYTES);
    const { subjectIndexed } = await this.repository.pushManifest(
      reference,
      bytes,
      descriptor.mediaType,
      undefined,
      options,
    );
    this.#manifests.remember(descriptor.digest, bytes);
    if (!subjectIndexed) await this.#keepFindable(descriptor, bytes, options);
  }

  /**
   * A registry without the referrers API does not answer `OCI-Subject`: a manifest with a subject
   * is then added to its subject's referrers tag, moved only if nobody moved it meanwhile
   * (distribution-spec, "Pushing Manifests with Subject").
   */
  async #keepFindable(descriptor: Descriptor, bytes: Uint8Array, options: SignalOptions): Promise<void> {
    const { manifest } = parseManifest(bytes, descriptor.mediaType);
    const { subject } = manifest;
    if (!subject) return;
    const update = () => addToReferrersTag(this, subject, referrerDescriptor(descriptor, manifest), options);
    const next = this.#referrerUpdates.then(update, update);
    this.#referrerUpdates = next.catch(() => undefined);
    await next;
  }

  async tag(descriptor: Descriptor, reference: string, options: SignalOptions = {}): Promise<void> {
    const bytes = await this.fetchBytes(descriptor, options);
    await this.repository.pushManifest(reference, bytes, descriptor.mediaType, undefined, options);
  }

  /**
   * Removes one tag and leaves the manifest and its other tags: a DELETE of the tag where the
   * registry has one, else the tag is moved onto a placeholder manifest of its own, which is then
   * deleted by digest. Returns what the tag pointed to.
   */
  async untag(reference: string, options: SignalOptions = {}): Promise<Descriptor> {
    const pointed = await this.resolve(reference, options);
    if (await this.repository.deleteTag(reference, options)) return pointed;
    const { config, manifest } = untagPlaceholder();
    if (!(await this.exists(config.descriptor, options)))
      await this.push(config.descriptor, Readable.from([config.bytes]), options);
    await this.repository.pushManifest(
      reference,
      manifest.bytes,
      manifest.descriptor.mediaType,
      undefined,
      options,
    );
    await this.repository.deleteManifest(manifest.descriptor.digest, options);
    return pointed;
  }

  /** What a tag points at now, with its ETag. */
  async readTag(reference: string, options: SignalOptions = {}): Promise<TagState | undefined> {
    try {
      const { descriptor, bytes, etag } = await this.repository.fetchManifest(reference, options);
      return { descriptor, bytes, ...(etag ? { version: etag } : {}) };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async tagIf(
    descriptor: Descriptor,
    reference: string,
    previous: TagState | undefined,
    options: SignalOptions = {},
  ): Promise<boolean> {
    const bytes = await this.fetchBytes(descriptor, options);
    const precondition =
      previous === undefined
        ? { ifNoneMatch: '*' as const }
        : previous.version
          ? { ifMatch: previous.version }
          : undefined;
    try {
      await this.repository.pushManifest(reference, bytes, descriptor.mediaType, precondition, options);
      return true;
    } catch (error) {
      if (error instanceof PreconditionFailedError) return false;
      throw error;
    }
  }

  /** Mounts from another repository of the same registry; anything else is an upload. */
  async mount(descriptor: Descriptor, from: object, options: SignalOptions = {}): Promise<boolean> {
    if (!isSameRegistry(this, from)) return false;
    const source = from.repository.name.repository;
    if (source === this.repository.name.repository) return false;
    return this.repository.mountBlob(descriptor, source, options);
  }

  /** The tags of the repository, page by page. */
  tags(options: SignalOptions = {}): AsyncIterable<string> {
    return this.repository.tags(options);
  }

  /** The referrers API where the registry has it, else the referrers tag schema. */
  async *referrers(
    subject: Descriptor,
    artifactType?: string,
    options: SignalOptions = {},
  ): AsyncIterable<Descriptor> {
    const listed = await this.repository.referrers(subject, artifactType, options);
    const found = listed ?? (await readReferrersTag(this, subject, options)).index.manifests;
    for (const descriptor of found) {
      if (artifactType === undefined || descriptor.artifactType === artifactType) yield descriptor;
    }
  }

  /** Always: the registry indexes what is pushed here, or {@link push} kept the referrers tag. */
  async indexesReferrers(): Promise<boolean> {
    return true;
  }
}

/** Both are registry repositories on one registry: blobs can be mounted from one to the other. */
export function isSameRegistry(a: object, b: object): b is RegistryTarget {
  return (
    a instanceof RegistryTarget &&
    b instanceof RegistryTarget &&
    a.repository.name.registry === b.repository.name.registry
  );
}
