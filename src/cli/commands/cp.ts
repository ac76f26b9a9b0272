import { readFile } from 'node:fs/promises';
import type { OptionValues } from 'commander';
import { copyWithReferrers } from '../../artifacts/referrers.js';
import { type CopyImageResult, copyGraph, copyImage, type PlatformCopyResult } from '../../copy/index.js';
import { UsageError } from '../../errors.js';
import { formatPlatform, parsePlatform } from '../../oci/index.js';
import type { Descriptor, Platform } from '../../oci/types.js';
import { destinationTag, sourceTag } from '../../ref/destination-tag.js';
import { formatReference, parseRepositoryName } from '../../ref/index.js';
import type { Reference, RepositoryName } from '../../ref/types.js';
import { isDigestTag } from '../../tags/digest-tag.js';
import { isTagLister, type ReadTarget, type WriteTarget } from '../../targets/target.js';
import type { CliContext } from '../context.js';
import { checkDestinationDigest, refuseUnkeptDestinationParts, writtenWithTag } from '../destination.js';
import { CopyProgress, resultJson } from '../progress.js';
import { parseDestinationReference, parseTargetReference } from '../reference.js';
import { openReadTarget, openWriteTarget, targetReference } from '../targets.js';

/** With several platforms, whether a reduced index was made, from which index, for which platforms. */
function filteredJson(result: PlatformCopyResult, platforms: Platform[]): Record<string, unknown> {
  if (platforms.length < 2) return {};
  const { filteredFrom } = result;
  return filteredFrom
    ? { filtered: { from: filteredFrom.digest, platforms: platforms.map(formatPlatform) } }
    : { filtered: false };
}

interface CopyRequest {
  reference: string;
  tags: string[];
  /** Refuses to move a tag that names another digest at the destination (`--no-clobber`). */
  noClobber: boolean;
  platforms: string[];
  recursive: boolean;
  /** Refuses an image without a valid signature (`--verify-key`). */
  verify?: (root: Descriptor, image: string) => Promise<void>;
  image: string;
  maxNodes: number | undefined;
  destinationRef: Reference;
  /** `--digest-tags` and `--verify-key`: the source's tags, among them the image's cosign digest tags to copy along. */
  sourceTags?: () => Promise<string[]>;
  /** With --all-tags: each line names the tag it copied. */
  label?: string;
  /** The source's plain-tar layers are gzipped on the way, so the digests differ from the source's. */
  compressed: boolean;
}

/** Layers a docker-archive source serves gzipped (0 for every other source). */
function compressedLayers(source: ReadTarget): number {
  return 'compressedLayerCount' in source && typeof source.compressedLayerCount === 'number'
    ? source.compressedLayerCount
    : 0;
}

async function copyOne(
  context: CliContext,
  source: ReadTarget,
  destination: WriteTarget,
  request: CopyRequest,
): Promise<void> {
  const progress = new CopyProgress(context);
  const platforms = request.platforms.map(parsePlatform);
  const { verify, sourceTags } = request;
  let result: CopyImageResult;
  try {
    result = await copyImage(source, destination, request.reference, {
      platforms,
      copier: request.recursive ? copyWithReferrers : copyGraph,
      tags: request.tags,
      noClobber: request.noClobber,
      ...(verify ? { verify: (root: Descriptor) => verify(root, request.image) } : {}),
      ...(sourceTags ? { sourceTags } : {}),
      beforeCopy: (root) => progress.start(`copying ${root.digest}`),
      concurrency: context.options.concurrency,
      signal: context.signal,
      events: progress.events,
      maxNodes: request.maxNodes,
    });
  } catch (error) {
    progress.fail();
    throw error;
  }
  progress.finish(result, 'copied');
  checkDestinationDigest(request.destinationRef, result.root.digest);
  const { digestTags } = result;
  if (digestTags.length > 0 && !context.output.options.json) {
    context.output.info(`with ${digestTags.join(', ')}`);
  }
  const gzipped = request.compressed ? compressedLayers(source) : 0;
  if (gzipped > 0 && !context.output.options.json) {
    context.output.info(
      `gzipped ${gzipped} layer(s) on the way: digests differ from the archive's (--no-compress keeps them)`,
    );
  }
  if (context.output.options.json)
    context.output.json({
      ...(request.label ? { tag: request.label } : {}),
      ...resultJson(result),
      ...filteredJson(result, platforms),
      ...(sourceTags ? { digestTags } : {}),
      ...(request.compressed ? { layersCompressed: gzipped, digestsChanged: gzipped > 0 } : {}),
    });
  else context.output.line(request.label ? `${request.label} ${result.root.digest}` : result.root.digest);
}

/** `--verify-identity`: the repository a signature must name, which only `--verify-key` checks. */
function verifyIdentity(options: OptionValues): RepositoryName | undefined {
  const named = options.verifyIdentity as string | undefined;
  if (named === undefined) return undefined;
  if (options.verifyKey === undefined) {
    throw new UsageError('--verify-identity needs --verify-key: it narrows which signatures count', {
      option: 'verifyIdentity',
    });
  }
  return parseRepositoryName(named);
}

/** `--verify-key`: a check that an image has a signature by the key, loaded only when asked for. */
async function signaturePolicy(
  keyFile: string,
  identity: RepositoryName | undefined,
  source: ReadTarget,
  signal: AbortSignal,
): Promise<(root: Descriptor, image: string) => Promise<void>> {
  const [{ loadPublicKey }, { requireSignedBy }] = await Promise.all([
    import('../../sign/keys.js'),
    import('../../sign/policy.js'),
  ]);
  const key = loadPublicKey(await readFile(keyFile, 'utf8'));
  return (root, image) => requireSignedBy(source, root, key, image, { signal, identity });
}

export async function run(
  context: CliContext,
  [from = '', to = '']: string[],
  options: OptionValues,
): Promise<void> {
  const sourceRef = parseTargetReference(from);
  const { ref: destinationRef, tags: destinationTags } = parseDestinationReference(to);
  const noClobber = options.clobber === false;
  const platforms = options.platform as string[];
  const recursive = options.recursive === true;
  const maxNodes = options.maxNodes as number | undefined;
  refuseUnkeptDestinationParts(destinationRef);
  const identity = verifyIdentity(options);
  if (options.allTags && writtenWithTag(to, destinationRef)) {
    throw new UsageError(`--all-tags copies each tag to the same tag: give ${to} without a tag or digest`);
  }
  const sides = context.sides(options, { from: [sourceRef], to: [destinationRef] });
  // skopeo and crane gzip a docker save's plain layers when they push them to a registry.
  const compressed =
    sourceRef.kind === 'docker-archive' && destinationRef.kind === 'registry' && options.compress !== false;
  const source = await openReadTarget(context, sourceRef, sides.from, { compressLayers: compressed });
  const destination = await openWriteTarget(context, destinationRef, sides.to);
  const verify = options.verifyKey
    ? await signaturePolicy(options.verifyKey as string, identity, source, context.signal)
    : undefined;
  // A verified image takes its signatures along, so the destination verifies too.
  const travel = verify !== undefined || options.digestTags === true;
  let listed: Promise<string[]> | undefined;
  const sourceTags = async () => {
    listed ??= (async () => {
      const all: string[] = [];
      if (isTagLister(source)) for await (const tag of source.tags({ signal: context.signal })) all.push(tag);
      return all;
    })();
    return listed;
  };
  const shared = {
    noClobber,
    platforms,
    recursive,
    verify,
    ...(travel ? { sourceTags } : {}),
    maxNodes,
    destinationRef,
    compressed,
  };
  if ((options.digestTags === true || options.allTags) && !isTagLister(source)) {
    throw new UsageError(`${formatReference(sourceRef)} cannot list tags`);
  }
  if (options.allTags) {
    // The digest tags travel with their images; they are no images to copy (or verify) themselves.
    for (const tag of (await sourceTags()).filter((tag) => !(travel && isDigestTag(tag)))) {
      const image = `${formatReference(sourceRef)}:${tag}`;
      await copyOne(context, source, destination, {
        ...shared,
        reference: tag,
        tags: [tag],
        image,
        label: tag,
      });
    }
    return;
  }
  const tag = destinationTag(destinationRef, sourceTag(sourceRef));
  await copyOne(context, source, destination, {
    ...shared,
    reference: targetReference(sourceRef),
    tags: destinationTags.length > 0 ? destinationTags : tag ? [tag] : [],
    image: from,
  });
}
