import { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import {
  digestOf,
  formatPlatform,
  isIndex,
  parseManifest,
  platformMatches,
  selectManifests,
} from '../oci/index.js';
import type { Descriptor, ImageIndex, Platform } from '../oci/types.js';
import type { ReadTarget, SignalOptions, WriteTarget } from '../targets/target.js';
import { type CopyOptions, type CopyResult, copyGraph } from './copy.js';
import { onSide } from './copy-error.js';

/** An index reduced to some platforms: its exact new bytes and descriptor. */
export interface PlatformSubset {
  descriptor: Descriptor;
  bytes: Uint8Array;
  /** The kept entries, as they were in the original index. */
  kept: Descriptor[];
}

/**
 * A new index holding only the entries of `index` for the `wanted` platforms, in index order, each
 * descriptor (annotations included) unchanged, and every other field of the index kept. A wanted
 * platform that matches no entry is a NotFoundError listing the platforms the index has.
 */
export function platformSubset(index: ImageIndex, mediaType: string, wanted: Platform[]): PlatformSubset {
  const available = index.manifests.flatMap((entry) => (entry.platform ? [entry.platform] : []));
  for (const want of wanted) {
    if (!available.some((platform) => platformMatches(want, platform))) {
      throw new NotFoundError(`no manifest for platform ${formatPlatform(want)} in the index`, {
        hint: `the index has: ${available.map(formatPlatform).join(', ') || 'no platform-specific manifests'}`,
      });
    }
  }
  const kept = selectManifests(index, wanted);
  const bytes = Buffer.from(JSON.stringify({ ...index, manifests: kept }), 'utf8');
  return { descriptor: { mediaType, digest: digestOf(bytes), size: bytes.byteLength }, bytes, kept };
}

/** The root `copyPlatforms` writes for `root` and `wanted`: a reduced index, or `root` itself. */
export async function platformRoot(
  src: ReadTarget,
  root: Descriptor,
  wanted: Platform[],
  options: SignalOptions = {},
): Promise<Descriptor> {
  const { manifest } = parseManifest(await src.fetchBytes(root, options), root.mediaType);
  if (!isIndex(manifest)) return root;
  const subset = platformSubset(manifest, root.mediaType, wanted);
  return subset.kept.length === manifest.manifests.length ? root : subset.descriptor;
}

/** A copy of the graph under `root` with options: {@link copyGraph}, or one that takes more along. */
export type GraphCopier = (
  src: ReadTarget,
  dst: WriteTarget,
  root: Descriptor,
  options: CopyOptions,
) => Promise<CopyResult>;

export interface PlatformCopyResult extends CopyResult {
  /** Set when a new, reduced index was written: the index it was made from. */
  filteredFrom?: Descriptor;
}

/**
 * Copies `root` reduced to the `wanted` platforms. An index keeping every entry, or a single
 * manifest, is copied as it is; otherwise each kept manifest's graph is copied (with `copier`,
 * e.g. with its referrers), then the new index is pushed and tagged.
 */
export async function copyPlatforms(
  src: ReadTarget,
  dst: WriteTarget,
  root: Descriptor,
  wanted: Platform[],
  options: CopyOptions & { copier?: GraphCopier } = {},
): Promise<PlatformCopyResult> {
  const { copier = copyGraph, tags = [], ...rest } = options;
  const { manifest } = parseManifest(await src.fetchBytes(root), root.mediaType);
  if (!isIndex(manifest)) return copier(src, dst, root, options);
  const subset = platformSubset(manifest, root.mediaType, wanted);
  if (subset.kept.length === manifest.manifests.length) return copier(src, dst, root, options);
  const parts = await Promise.all(subset.kept.map((entry) => copier(src, dst, entry, { ...rest, tags: [] })));
  const result: PlatformCopyResult = {
    root: subset.descriptor,
    copied: 0,
    skipped: 0,
    mounted: 0,
    bytes: 0,
    filteredFrom: root,
  };
  for (const part of parts) {
    result.copied += part.copied;
    result.skipped += part.skipped;
    result.mounted += part.mounted;
    result.bytes += part.bytes;
  }
  options.signal?.throwIfAborted();
  const index = subset.descriptor;
  const present = await onSide('destination', index, `checking for ${index.digest} at the destination`, () =>
    dst.exists(index),
  );
  if (present) result.skipped += 1;
  else {
    await onSide('destination', index, `pushing ${index.digest} to the destination`, () =>
      dst.push(index, Readable.from([subset.bytes], { objectMode: false })),
    );
    result.copied += 1;
    result.bytes += subset.bytes.byteLength;
  }
  for (const tag of tags) {
    options.signal?.throwIfAborted();
    await onSide('destination', index, `tagging ${index.digest} as ${tag} at the destination`, () =>
      dst.tag(index, tag),
    );
  }
  return result;
}
