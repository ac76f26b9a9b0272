import { Readable } from 'node:stream';
import {
  type CopyOptions,
  type CopyResult,
  copyGraph,
  DEFAULT_MAX_NODES,
  NodeBudget,
} from '../copy/index.js';
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
  type SignalOptions,
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
  options: SignalOptions = {},
): Promise<Descriptor[]> {
  if (isReferrerFinder(target)) {
    const found: Descriptor[] = [];
    for await (const descriptor of target.referrers(subject, artifactType, options)) found.push(descriptor);
    return found;
  }
  const { index } = await readReferrersTag(target, subject, options);
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

export interface ReferrerNode {
  descriptor: Descriptor;
  referrers: ReferrerNode[];
}

export interface ReferrerWalkOptions extends SignalOptions {
  /** Only referrers of this type at the first level (their own referrers are all listed). */
  artifactType?: string;
  /** Referrer entries the walk reads before it stops with GraphLimitError; default 10 000. */
  maxNodes?: number;
  /** Levels of referrers of referrers to list; default 16. */
  depth?: number;
}

/**
 * Referrers of referrers, depth first. Each digest's referrers are listed once per walk: a digest
 * met again (a cycle, or a registry listing the same referrers under every subject) appears as a
 * leaf. Every listed entry counts against `maxNodes`, so neither requests nor output can grow
 * without bound.
 */
export async function referrerTree(
  target: ReadTarget,
  subject: Descriptor,
  options: ReferrerWalkOptions = {},
): Promise<ReferrerNode[]> {
  const budget = new NodeBudget(options.maxNodes ?? DEFAULT_MAX_NODES, 'referrers');
  const expanded = new Set<string>([subject.digest]);
  const walk = async (node: Descriptor, levels: number, artifactType?: string): Promise<ReferrerNode[]> => {
    if (levels === 0) return [];
    const nodes: ReferrerNode[] = [];
    for (const descriptor of await listReferrers(target, node, artifactType, options)) {
      budget.take();
      if (!matches(descriptor, artifactType)) continue;
      const first = !expanded.has(descriptor.digest);
      expanded.add(descriptor.digest);
      nodes.push({ descriptor, referrers: first ? await walk(descriptor, levels - 1) : [] });
    }
    return nodes;
  };
  return walk(subject, options.depth ?? 16, options.artifactType);
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
  // Each manifest's referrers are listed once (the copy visits each digest once); the links
  // found count against the same limit as the nodes, as each may cost a tag update.
  const links = new NodeBudget(options.maxNodes ?? DEFAULT_MAX_NODES, 'referrer links');
  const result = await copyGraph(src, dst, root, {
    ...options,
    findExtraSuccessors: async (descriptor, { signal }) => {
      if (!isManifestMediaType(descriptor.mediaType)) return [];
      const referrers = await listReferrers(src, descriptor, undefined, { signal });
      for (const referrer of referrers) {
        links.take();
        found.push({ subject: descriptor, referrer });
      }
      return referrers;
    },
  });
  const signalOptions = { signal: options.signal };
  for (const { subject, referrer } of found) {
    options.signal?.throwIfAborted();
    const indexed = isReferrersIndexer(dst) && (await dst.indexesReferrers(subject, referrer));
    if (!indexed) await addToReferrersTag(dst, subject, referrer, signalOptions);
  }
  return result;
}
