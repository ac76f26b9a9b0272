import type { Descriptor, Platform } from '../oci/types.js';
import { selectPlatform } from '../targets/platform.js';
import { resolveIn } from '../targets/resolve.js';
import { isConnector, type ReadTarget, type WriteTarget } from '../targets/target.js';
import { type CopyOptions, copyGraph } from './copy.js';
import { onSide } from './copy-error.js';
import { copyDigestTags, digestTagSubjects, digestTagsOf } from './digest-tags.js';
import { refuseMovedTags } from './no-clobber.js';
import { copyPlatforms, type GraphCopier, type PlatformCopyResult, platformRoot } from './platforms.js';

/** How {@link copyImage} copies one image. */
export interface CopyImageOptions extends Omit<CopyOptions, 'tags' | 'findExtraSuccessors'> {
  /**
   * Platforms to copy out of an index; every one when absent or empty. One: that platform's
   * manifest. Several: a new index with only their entries.
   */
  platforms?: readonly Platform[];
  /** With `platforms` given, write a reduced index even for one platform (a mirror keeps an index). */
  keepIndex?: boolean;
  /** How each graph is copied; default copyGraph (copyWithReferrers takes the referrers along). */
  copier?: GraphCopier;
  /** Tags for the written root at the destination, set last: after its graph and its digest tags. */
  tags?: readonly string[];
  /** Refuse, before anything is written, when one of `tags` names another manifest at the destination. */
  noClobber?: boolean;
  /** Rejects the resolved source root before anything else is read or written (a missing signature). */
  verify?: (root: Descriptor) => Promise<void>;
  /** The source's tags: given, the cosign digest tags of what is written travel with it. */
  sourceTags?: () => Promise<readonly string[]>;
  /** Called with the root about to be copied, once every check has passed and before anything is written. */
  beforeCopy?: (root: Descriptor) => Promise<void> | void;
}

/** What {@link copyImage} wrote. */
export interface CopyImageResult extends PlatformCopyResult {
  /** The digest tags copied along, in the order the source lists them. */
  digestTags: string[];
}

/**
 * Copies one image: resolves `image` (a reference, or a root already resolved), verifies it,
 * narrows it to the platforms asked for, refuses a moved tag under `noClobber`, copies the graph,
 * then the image's digest tags, and tags the root last. Each check comes before the first write,
 * and the tags come last, so a copy stopped half way leaves no tag on an incomplete image.
 */
export async function copyImage(
  source: ReadTarget,
  destination: WriteTarget,
  image: string | Descriptor,
  options: CopyImageOptions = {},
): Promise<CopyImageResult> {
  const { signal, platforms: given, keepIndex, copier = copyGraph, tags = [] } = options;
  const signalOptions = { signal };
  // The destination is reached (over a network, a round trip or more) while the source resolves.
  // A failure is left for the destination's first request to report, in its place.
  if (isConnector(destination)) destination.connect(signalOptions).catch(() => undefined);
  let root =
    typeof image === 'string'
      ? (await resolveIn(source, image, { readsManifest: true, signal })).root
      : image;
  await options.verify?.(root);
  const platforms = [...(given ?? [])];
  const reduce = platforms.length > 1 || (keepIndex === true && given !== undefined);
  const [only] = platforms;
  if (!reduce && only) root = await selectPlatform(source, root, only, signalOptions);
  if (options.noClobber) {
    const written = reduce ? await platformRoot(source, root, platforms, signalOptions) : root;
    await refuseMovedTags(destination, written, [...tags], signalOptions);
  }
  await options.beforeCopy?.(root);
  const { concurrency, limiter } = options;
  // copyGraph tags the root as the graph's last write, and a registry then gets the root by its
  // first tag, one request less. Digest tags, a reduced index, or another copier's own writes
  // come after the graph: the tags wait for them.
  const tagsInGraph = !reduce && options.sourceTags === undefined && copier === copyGraph;
  const copyOptions: CopyOptions = {
    concurrency,
    limiter,
    checkEveryNode: options.checkEveryNode,
    events: options.events,
    maxNodes: options.maxNodes,
    signal,
    tags: tagsInGraph ? [...tags] : [],
  };
  const result = reduce
    ? await copyPlatforms(source, destination, root, platforms, { ...copyOptions, copier })
    : await copier(source, destination, root, copyOptions);
  const digestTags = options.sourceTags
    ? await copyDigestTags(
        source,
        destination,
        digestTagsOf(
          await digestTagSubjects(source, root, reduce ? platforms : [], signalOptions),
          await options.sourceTags(),
        ),
        { concurrency, limiter, signal },
      )
    : [];
  for (const tag of tagsInGraph ? [] : tags) {
    signal?.throwIfAborted();
    await onSide(
      'destination',
      result.root,
      `tagging ${result.root.digest} as ${tag} at the destination`,
      () => destination.tag(result.root, tag, signalOptions),
    );
  }
  return { ...result, digestTags };
}
