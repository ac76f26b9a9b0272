import { Readable } from 'node:stream';
import { type CopyOptions, type CopyResult, copyGraph } from '../copy/index.js';
import { TugError } from '../errors.js';
import { digestOf, isManifestMediaType, MediaType } from '../oci/index.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import {
  emptyReferrersIndex,
  readReferrersTag,
  referrersIndexFrom,
  referrersTag,
} from '../targets/referrers-tag.js';
import {
  isConditionalTagger,
  isReferrerFinder,
  isReferrersIndexer,
  type ReadTarget,
  type WriteTarget,
} from '../targets/target.js';

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

function matches(descriptor: Descriptor, artifactType?: string): boolean {
  return artifactType === undefined || descriptor.artifactType === artifactType;
}

/** The manifests whose subject is `subject`: the target's referrers API when it has one, else the tag schema. */
export async function listReferrers(
  target: ReadTarget,
  subject: Descriptor,
  artifactType?: string,
): Promise<Descriptor[]> {
  if (isReferrerFinder(target)) {
    const found: Descriptor[] = [];
    for await (const descriptor of target.referrers(subject, artifactType)) found.push(descriptor);
    return found;
  }
  const { index } = await readReferrersTag(target, subject);
  return index.manifests.filter((descriptor) => matches(descriptor, artifactType));
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
): Promise<void> {
  const tag = referrersTag(subject);
  if (!isConditionalTagger(target)) {
    const { index } = await readReferrersTag(target, subject);
    const updated = await pushWith(target, index, referrer);
    if (updated) await target.tag(updated, tag);
    return;
  }
  // Read, add, and move the tag only if nobody moved it meanwhile; on a race, read again.
  for (let attempt = 0; attempt < MAX_TAG_RACES; attempt++) {
    const state = await target.readTag(tag);
    const index = state ? referrersIndexFrom(state.bytes, state.descriptor, tag) : emptyReferrersIndex();
    const updated = await pushWith(target, index, referrer);
    if (!updated || (await target.tagIf(updated, tag, state))) return;
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
): Promise<Descriptor | undefined> {
  if (index.manifests.some((entry) => entry.digest === referrer.digest)) return undefined;
  const updated: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...index.manifests, referrer],
  };
  const bytes = Buffer.from(JSON.stringify(updated), 'utf8');
  const descriptor = { mediaType: MediaType.ociIndex, digest: digestOf(bytes), size: bytes.byteLength };
  await target.push(descriptor, Readable.from([bytes]));
  return descriptor;
}

export interface ReferrerNode {
  descriptor: Descriptor;
  referrers: ReferrerNode[];
}

/** Referrers of referrers, depth first; a digest already on the path is not followed again (A↔B cycles end). */
export async function referrerTree(
  target: ReadTarget,
  subject: Descriptor,
  artifactType?: string,
  path: ReadonlySet<string> = new Set([subject.digest]),
  depth = 16,
): Promise<ReferrerNode[]> {
  if (depth === 0) return [];
  const nodes: ReferrerNode[] = [];
  for (const descriptor of await listReferrers(target, subject)) {
    if (path.has(descriptor.digest)) continue;
    const children = await referrerTree(
      target,
      descriptor,
      undefined,
      new Set([...path, descriptor.digest]),
      depth - 1,
    );
    if (matches(descriptor, artifactType)) nodes.push({ descriptor, referrers: children });
  }
  return nodes;
}

/**
 * `cp -r`: the graph under `root` and, recursively, every referrer of every manifest in it, each
 * copied through the one engine. Where the destination does not index referrers by itself, the
 * referrers tag schema is kept up to date there.
 */
export async function copyWithReferrers(
  src: ReadTarget,
  dst: WriteTarget,
  root: Descriptor,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const found: Array<{ subject: Descriptor; referrer: Descriptor }> = [];
  const result = await copyGraph(src, dst, root, {
    ...options,
    findExtraSuccessors: async (descriptor) => {
      if (!isManifestMediaType(descriptor.mediaType)) return [];
      const referrers = await listReferrers(src, descriptor);
      for (const referrer of referrers) found.push({ subject: descriptor, referrer });
      return referrers;
    },
  });
  for (const { subject, referrer } of found) {
    const indexed = isReferrersIndexer(dst) && (await dst.indexesReferrers(subject, referrer));
    if (!indexed) await addToReferrersTag(dst, subject, referrer);
  }
  return result;
}
