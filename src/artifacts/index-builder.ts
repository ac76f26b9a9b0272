import { Readable } from 'node:stream';
import { copyGraph } from '../copy/index.js';
import { TugError, UsageError } from '../errors.js';
import { digestOf, formatPlatform, isIndex, MediaType, parseManifest } from '../oci/index.js';
import type { Descriptor, ImageIndex, Platform } from '../oci/types.js';
import type { ReadTarget, SignalOptions, WriteTarget } from '../targets/target.js';

interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  'os.version'?: string;
}

async function platformOf(
  target: ReadTarget,
  config: Descriptor,
  options: SignalOptions,
): Promise<Platform | undefined> {
  const bytes = await target.fetchBytes(config, options);
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageConfig;
  if (!parsed.os || !parsed.architecture) return undefined;
  const platform: Platform = { architecture: parsed.architecture, os: parsed.os };
  if (parsed.variant) platform.variant = parsed.variant;
  if (parsed['os.version']) platform['os.version'] = parsed['os.version'];
  return platform;
}

/**
 * The entries an index lists for `root`: an image manifest with the platform of its config, or
 * every entry of an index (so indexes can be merged).
 */
async function indexEntries(
  target: ReadTarget,
  root: Descriptor,
  options: SignalOptions = {},
): Promise<Descriptor[]> {
  const { mediaType, manifest } = parseManifest(await target.fetchBytes(root, options), root.mediaType);
  if (isIndex(manifest)) return manifest.manifests;
  const entry: Descriptor = { mediaType, digest: root.digest, size: root.size };
  const platform = await platformOf(target, manifest.config, options);
  if (platform) entry.platform = platform;
  return [entry];
}

/** Platforms that more than one entry claims: a client choosing by platform gets only the first. */
function duplicatePlatforms(entries: Descriptor[]): string[] {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.platform) continue;
    const name = formatPlatform(entry.platform);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].filter(([, count]) => count > 1).map(([name]) => name);
}

/** The exact bytes and descriptor of an index over `entries` (a Docker manifest list when all are Docker). */
function buildIndex(entries: Descriptor[]): { descriptor: Descriptor; bytes: Uint8Array } {
  if (entries.length === 0) throw new UsageError('an index needs at least one manifest');
  const docker = entries.every((entry) => entry.mediaType === MediaType.dockerManifest);
  const mediaType = docker ? MediaType.dockerManifestList : MediaType.ociIndex;
  const index: ImageIndex = { schemaVersion: 2, mediaType, manifests: entries };
  const bytes = Buffer.from(JSON.stringify(index), 'utf8');
  return { descriptor: { mediaType, digest: digestOf(bytes), size: bytes.byteLength }, bytes };
}

async function pushIndex(
  target: WriteTarget,
  index: { descriptor: Descriptor; bytes: Uint8Array },
  options: SignalOptions = {},
): Promise<void> {
  await target.push(index.descriptor, Readable.from([index.bytes]), options);
}

/** One manifest or index to list in a new index: the target holding it and its tag or digest there. */
export interface IndexSource {
  target: ReadTarget;
  reference: string;
}

export interface CreateIndexOptions extends SignalOptions {
  /** The tag the index gets at the destination; none when absent. */
  tag?: string;
  /** The digest the index must have: a mismatch is refused before anything is pushed. */
  digest?: string;
  /** Transfers at once while the entries are copied. */
  concurrency?: number;
}

export interface CreatedIndex {
  descriptor: Descriptor;
  /** Platforms two or more entries claim (a pull by platform gets only the first). */
  duplicatePlatforms: string[];
}

/**
 * Pushes an index over the manifests `sources` name (every entry of a source that is an index),
 * after copying each to `destination`: an index may only point at manifests its own repository
 * holds (distribution-spec, "Pushing Manifests": a registry may refuse one that names missing content).
 */
export async function createIndex(
  destination: WriteTarget,
  sources: readonly IndexSource[],
  options: CreateIndexOptions = {},
): Promise<CreatedIndex> {
  const signal = { signal: options.signal };
  const entries: Descriptor[] = [];
  for (const { target, reference } of sources) {
    const root = await target.resolve(reference, signal);
    for (const entry of await indexEntries(target, root, signal)) {
      await copyGraph(target, destination, entry, {
        concurrency: options.concurrency,
        signal: options.signal,
      });
      entries.push(entry);
    }
  }
  const index = buildIndex(entries);
  if (options.digest && options.digest !== index.descriptor.digest) {
    throw new TugError(
      `the index is ${index.descriptor.digest}, but the destination names ${options.digest}`,
      {
        hint: 'name the destination by a tag, or give the digest of the index built',
      },
    );
  }
  await pushIndex(destination, index, signal);
  if (options.tag) await destination.tag(index.descriptor, options.tag, signal);
  return { descriptor: index.descriptor, duplicatePlatforms: duplicatePlatforms(entries) };
}
