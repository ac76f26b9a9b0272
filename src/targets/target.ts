import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.js';
import type { SignalOptions } from '../signal.js';

export type { SignalOptions } from '../signal.js';

/**
 * A place content can be read from: a registry repository, an OCI layout, an archive, memory.
 * Every method takes an optional `signal`: once it aborts, the call rejects with its reason and a
 * stream it returned is destroyed.
 */
export interface ReadTarget {
  /** A tag or a digest to the root descriptor. Throws NotFoundError when absent. */
  resolve(reference: string, options?: SignalOptions): Promise<Descriptor>;
  /** The content as a stream that fails on a size or digest mismatch before it ends. */
  fetch(descriptor: Descriptor, options?: SignalOptions): Promise<Readable>;
  /** Manifests and other small documents: the exact bytes, size-capped and digest-verified. */
  fetchBytes(descriptor: Descriptor, options?: SignalOptions): Promise<Uint8Array>;
  /** Whether the target holds `descriptor`. */
  exists(descriptor: Descriptor, options?: SignalOptions): Promise<boolean>;
}

/** A place content can be written to. */
export interface WriteTarget extends ReadTarget {
  /** Stores the content under its digest; verifies size and digest while it streams. */
  push(descriptor: Descriptor, content: Readable, options?: SignalOptions): Promise<void>;
  /** Points a tag at a descriptor that the target already holds. */
  tag(descriptor: Descriptor, reference: string, options?: SignalOptions): Promise<void>;
}

/** Optional: a target that can take a blob from another repository of the same registry. */
export interface Mounter {
  /** True when mounted; false when the registry declined (the caller then uploads). */
  mount(descriptor: Descriptor, from: ReadTarget, options?: SignalOptions): Promise<boolean>;
}

/** Optional: a target that lists its tags. */
export interface TagLister {
  /** The tags, in the order the target gives them. */
  tags(options?: SignalOptions): AsyncIterable<string>;
}

/** Optional: a target that finds the manifests whose `subject` is a given descriptor. */
export interface ReferrerFinder {
  /** The manifests whose subject is `subject`, of `artifactType` when given. */
  referrers(subject: Descriptor, artifactType?: string, options?: SignalOptions): AsyncIterable<Descriptor>;
}

/** Optional: a target that deletes manifests by tag or digest (an OCI layout; a registry has its own API). */
export interface ManifestDeleter {
  /** Removes what `reference` names and returns the manifest's descriptor. */
  deleteManifest(reference: string): Promise<Descriptor>;
}

export function isManifestDeleter(target: object): target is ManifestDeleter {
  return typeof (target as Partial<ManifestDeleter>).deleteManifest === 'function';
}

/** Optional: a target that can remove one tag and leave the manifest and its other tags. */
export interface Untagger {
  /** Removes `reference`; returns the descriptor it pointed to. Throws NotFoundError when absent. */
  untag(reference: string, options?: SignalOptions): Promise<Descriptor>;
}

export function isUntagger(target: object): target is Untagger {
  return typeof (target as Partial<Untagger>).untag === 'function';
}

/** Optional: a target that must be finished (an archive written, a file handle closed); `await using` closes it too. */
export interface Closable extends AsyncDisposable {
  /** Finishes the target (writes an archive, releases files). */
  close(): Promise<void>;
}

/** Optional: a target behind a server, which can be reached before its first request needs it. */
export interface Connector {
  /** Reaches the server (for a registry: finds which scheme it speaks). */
  connect(options?: SignalOptions): Promise<void>;
}

export function isConnector(target: object): target is Connector {
  return typeof (target as Partial<Connector>).connect === 'function';
}

/**
 * Optional: a target that stores a manifest and points a tag at it in one step (a registry: one
 * PUT by tag), where `push` and then `tag` take two.
 */
export interface ReferencePusher {
  /** Stores the manifest `descriptor` names, as `push` does, and points `reference` at it. */
  pushReference(
    descriptor: Descriptor,
    content: Readable,
    reference: string,
    options?: SignalOptions,
  ): Promise<void>;
}

export function isReferencePusher(target: object): target is ReferencePusher {
  return typeof (target as Partial<ReferencePusher>).pushReference === 'function';
}

export function isMounter(target: object): target is Mounter {
  return typeof (target as Partial<Mounter>).mount === 'function';
}

export function isTagLister(target: object): target is TagLister {
  return typeof (target as Partial<TagLister>).tags === 'function';
}

export function isReferrerFinder(target: object): target is ReferrerFinder {
  return typeof (target as Partial<ReferrerFinder>).referrers === 'function';
}

export function isClosable(target: object): target is Closable {
  return typeof (target as Partial<Closable>).close === 'function';
}

/**
 * Optional: a target that keeps referrers findable by itself when a manifest with a subject is
 * pushed (a registry: through its referrers API, else by updating the referrers tag on push).
 * Others need the referrers tag schema kept up to date by the caller.
 */
export interface ReferrersIndexer {
  /** Whether pushing `referrer` (whose subject is `subject`) was made findable by the target itself. */
  indexesReferrers(subject: Descriptor, referrer: Descriptor): Promise<boolean>;
}

export function isReferrersIndexer(target: object): target is ReferrersIndexer {
  return typeof (target as Partial<ReferrersIndexer>).indexesReferrers === 'function';
}

/** What a tag points at now, and the version a conditional update of it is checked against. */
export interface TagState {
  descriptor: Descriptor;
  bytes: Uint8Array;
  /** The registry's ETag; absent when it gives none (then updates are last-writer-wins). */
  version?: string;
}

/**
 * Optional: a target whose tags can be moved only if nobody moved them since they were read
 * (HTTP `If-Match` / `If-None-Match`), so two writers of one index do not lose each other's entry.
 */
export interface ConditionalTagger {
  /** What `reference` points at now, with its version; undefined when there is no such tag. */
  readTag(reference: string, options?: SignalOptions): Promise<TagState | undefined>;
  /** False when the tag changed since `previous` was read (or appeared, when it was absent). */
  tagIf(
    descriptor: Descriptor,
    reference: string,
    previous: TagState | undefined,
    options?: SignalOptions,
  ): Promise<boolean>;
}

export function isConditionalTagger(target: object): target is ConditionalTagger {
  const candidate = target as Partial<ConditionalTagger>;
  return typeof candidate.readTag === 'function' && typeof candidate.tagIf === 'function';
}

/** Optional: a source that sends a blob from an offset on (HTTP Range), unverified: the receiver verifies the whole. */
export interface RangeReader {
  fetchFrom(descriptor: Descriptor, offset: number, options?: SignalOptions): Promise<Readable>;
}

export function isRangeReader(target: object): target is RangeReader {
  return typeof (target as Partial<RangeReader>).fetchFrom === 'function';
}

/**
 * Optional: a destination that keeps what an interrupted copy of a blob wrote (an OCI layout's
 * ingest directory) and continues from there.
 */
export interface ResumableWriter {
  /** The bytes of the blob kept from an earlier attempt; 0 when none. */
  partialSize(descriptor: Descriptor): Promise<number>;
  /** Writes `content` (the blob from `offset` on) after the part kept, and verifies the whole blob. */
  pushFrom(descriptor: Descriptor, offset: number, content: Readable): Promise<void>;
}

export function isResumableWriter(target: object): target is ResumableWriter {
  const candidate = target as Partial<ResumableWriter>;
  return typeof candidate.partialSize === 'function' && typeof candidate.pushFrom === 'function';
}

/**
 * Optional: a destination on local disk. Once its push has read the whole content, what is left
 * is local (flushing the file to disk, renaming it into place): a copy gives the transfer's slot
 * to the next blob meanwhile, so a pull of many small blobs does not wait on each fsync in turn.
 */
export interface DiskWriter {
  readonly writesToDisk: true;
}

export function isDiskWriter(target: object): target is DiskWriter {
  return (target as Partial<DiskWriter>).writesToDisk === true;
}

/**
 * Optional: a destination whose blob upload begins with a round trip of its own (a registry's
 * upload session), which a copy opens while the source is still answering instead of after.
 */
export interface UploadOpener {
  /** Opens the upload of `descriptor`, whose bytes follow with {@link OpenedUpload.send}. */
  openUpload(descriptor: Descriptor, options?: SignalOptions): Promise<OpenedUpload>;
}

/** An upload opened before its bytes are at hand. */
export interface OpenedUpload {
  /** Sends the blob and completes the upload, as `push` would. */
  send(content: Readable): Promise<void>;
  /** Gives the upload up unsent, best effort: never rejects. */
  cancel(): Promise<void>;
}

export function isUploadOpener(target: object): target is UploadOpener {
  return typeof (target as Partial<UploadOpener>).openUpload === 'function';
}

/**
 * Optional: a target that reads a manifest by tag in one request, where `resolve` and then
 * `fetchBytes` take two (a registry: one GET instead of a HEAD and a GET). `fetchBytes` of the
 * descriptor it answered then needs no request of its own.
 */
export interface ReferenceFetcher {
  /** The manifest `reference` names, with its exact bytes (size-capped, digest-verified). */
  fetchReference(
    reference: string,
    options?: SignalOptions,
  ): Promise<{ descriptor: Descriptor; bytes: Uint8Array }>;
}

export function isReferenceFetcher(target: object): target is ReferenceFetcher {
  return typeof (target as Partial<ReferenceFetcher>).fetchReference === 'function';
}
