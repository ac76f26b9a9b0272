import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
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
export async function indexEntries(
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
export function duplicatePlatforms(entries: Descriptor[]): string[] {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.platform) continue;
    const name = formatPlatform(entry.platform);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].filter(([, count]) => count > 1).map(([name]) => name);
}

/** The exact bytes and descriptor of an index over `entries` (a Docker manifest list when all are Docker). */
export function buildIndex(entries: Descriptor[]): { descriptor: Descriptor; bytes: Uint8Array } {
  if (entries.length === 0) throw new UsageError('an index needs at least one manifest');
  const docker = entries.every((entry) => entry.mediaType === MediaType.dockerManifest);
  const mediaType = docker ? MediaType.dockerManifestList : MediaType.ociIndex;
  const index: ImageIndex = { schemaVersion: 2, mediaType, manifests: entries };
  const bytes = Buffer.from(JSON.stringify(index), 'utf8');
  return { descriptor: { mediaType, digest: digestOf(bytes), size: bytes.byteLength }, bytes };
}

export async function pushIndex(
  target: WriteTarget,
  index: { descriptor: Descriptor; bytes: Uint8Array },
  options: SignalOptions = {},
): Promise<void> {
  await target.push(index.descriptor, Readable.from([index.bytes]), options);
}
