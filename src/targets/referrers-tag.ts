import { Readable } from 'node:stream';
import { NotFoundError, TugError } from '../errors.js';
import { digestOf, isIndex, MediaType, parseDigest, parseManifest } from '../oci/index.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import {
  isConditionalTagger,
  isReferrersIndexer,
  type ReadTarget,
  type SignalOptions,
  type WriteTarget,
} from './target.js';

/**
 * The tag of the referrers tag schema (distribution-spec, "Referrers Tag Schema"):
 * `<alg>-<ref>`, for registries and layouts without the referrers API.
 */
export function referrersTag(subject: Descriptor): string {
  const { algorithm, hex } = parseDigest(subject.digest);
  return `${algorithm}-${hex}`.slice(0, 128);
}

export interface ReferrersTagIndex {
  index: ImageIndex;
  /** Absent when the tag does not exist yet. */
  descriptor?: Descriptor;
}

/** The index the referrers tag points at; an empty one when there is no tag; an error when it holds something else. */
export async function readReferrersTag(
  target: ReadTarget,
  subject: Descriptor,
  options: SignalOptions = {},
): Promise<ReferrersTagIndex> {
  const tag = referrersTag(subject);
  let descriptor: Descriptor;
  try {
    descriptor = await target.resolve(tag, options);
  } catch (error) {
    if (error instanceof NotFoundError) return { index: emptyReferrersIndex() };
    throw error;
  }
  return {
    index: referrersIndexFrom(await target.fetchBytes(descriptor, options), descriptor, tag),
    descriptor,
  };
}

export function emptyReferrersIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** The index a referrers tag holds; anything but an OCI index is reported and left untouched. */
export function referrersIndexFrom(bytes: Uint8Array, descriptor: Descriptor, tag: string): ImageIndex {
  const { mediaType, manifest } = parseManifest(bytes, descriptor.mediaType);
  if (!isIndex(manifest) || mediaType !== MediaType.ociIndex) {
    throw new TugError(
      `the referrers tag ${tag} holds a ${mediaType}, not an OCI index; leaving it untouched`,
      { code: 'CONFLICT', transient: false },
    );
  }
  return manifest;
}

/** The descriptor a referrers list holds for a manifest: its artifact type and annotations. */
export function referrerDescriptor(descriptor: Descriptor, manifest: Manifest): Descriptor {
  const artifactType =
    manifest.artifactType ?? ('config' in manifest ? manifest.config.mediaType : undefined);
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(artifactType ? { artifactType } : {}),
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
}

/**
 * Adds a referrer to the tag-schema index of its subject. Two writers racing on one registry
 * without the API can lose an entry (last writer wins), as with every client; the entry is
 * re-read just before the write to keep that window short.
 */
export async function addToReferrersTag(
  target: WriteTarget,
  subject: Descriptor,
  referrer: Descriptor,
  options: SignalOptions = {},
): Promise<void> {
  const tag = referrersTag(subject);
  if (!isConditionalTagger(target)) {
    const { index } = await readReferrersTag(target, subject, options);
    const updated = await pushWith(target, index, referrer, options);
    if (updated) await target.tag(updated, tag, options);
    return;
  }
  // Read, add, and move the tag only if nobody moved it meanwhile; on a race, read again.
  for (let attempt = 0; attempt < MAX_TAG_RACES; attempt++) {
    const state = await target.readTag(tag, options);
    const index = state ? referrersIndexFrom(state.bytes, state.descriptor, tag) : emptyReferrersIndex();
    const updated = await pushWith(target, index, referrer, options);
    if (!updated || (await target.tagIf(updated, tag, state, options))) return;
  }
  throw new TugError(`the referrers tag ${tag} kept changing under other writers`, {
    code: 'CONFLICT',
    hint: 'attach again',
  });
}

/** Writers that may race on one referrers tag before an update gives up. */
const MAX_TAG_RACES = 5;

/** Pushes `index` with `referrer` added; undefined when it already lists it. */
async function pushWith(
  target: WriteTarget,
  index: ImageIndex,
  referrer: Descriptor,
  options: SignalOptions,
): Promise<Descriptor | undefined> {
  if (index.manifests.some((entry) => entry.digest === referrer.digest)) return undefined;
  const updated: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...index.manifests, referrer],
  };
  const bytes = Buffer.from(JSON.stringify(updated), 'utf8');
  const descriptor = { mediaType: MediaType.ociIndex, digest: digestOf(bytes), size: bytes.byteLength };
  await target.push(descriptor, Readable.from([bytes]), options);
  return descriptor;
}

/**
 * Makes `referrer` findable from `subject` (distribution-spec, "Pushing Manifests with Subject"):
 * a target that keeps its referrers by itself (a registry) has nothing to do; others get the
 * entry added to the referrers tag.
 */
export async function keepReferrerFindable(
  target: WriteTarget,
  subject: Descriptor,
  referrer: Descriptor,
  options: SignalOptions = {},
): Promise<void> {
  if (isReferrersIndexer(target) && (await target.indexesReferrers(subject, referrer))) return;
  await addToReferrersTag(target, subject, referrer, options);
}
