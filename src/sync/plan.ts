import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { RegistryReference, RepositoryName } from '../ref/types.js';
import type { SignalOptions } from '../signal.js';
import { compileTagFilter } from '../tags/filter.js';
import type { SyncConfig, SyncDestination, SyncEntry } from './config.js';

/** One image to mirror: a source repository and tag (or digest), and where it goes. */
export interface SyncImage {
  entry: SyncEntry;
  source: RepositoryName;
  /** The tag or digest read at the source. */
  reference: string;
  destination: SyncDestination;
  /** The tag written at the destination; undefined for an image named only by digest. */
  tag: string | undefined;
}

/** An entry that could not be expanded into images (a tag list or catalog that failed). */
export interface SyncEntryFailure {
  entry: SyncEntry;
  source: string;
  error: unknown;
}

/** What the plan needs to read from registries. */
export interface SyncLister {
  tags(repository: RepositoryName, options?: SignalOptions): Promise<string[]>;
  catalog(registry: string, options?: SignalOptions): AsyncIterable<string>;
}

export function imageName(image: SyncImage): string {
  const { registry, repository } = image.source;
  const separator = image.reference.includes(':') ? '@' : ':';
  return `${registry}/${repository}${separator}${image.reference}`;
}

export function destinationText(image: SyncImage): string {
  const base =
    image.destination.kind === 'registry'
      ? `${image.destination.registry}/${image.destination.repository}`
      : `oci:${image.destination.path}`;
  return image.tag === undefined ? base : `${base}:${image.tag}`;
}

/** `I/N`: the I-th (1-based) of N shares. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(input: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(input.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`invalid shard "${input}": expected I/N with 1 ≤ I ≤ N, e.g. 2/4`);
  }
  return { index, count };
}

/** Whether an image falls in the shard: a stable hash of its source repository and tag, so every run agrees. */
export function inShard(image: SyncImage, shard: Shard): boolean {
  const key = `${image.source.registry}/${image.source.repository}:${image.reference}`;
  const hash = createHash('sha256').update(key).digest().readUInt32BE(0);
  return hash % shard.count === shard.index - 1;
}

function destinationFor(entry: SyncEntry, repository: string): SyncDestination {
  const target = entry.target;
  if (entry.type !== 'prefix') return target;
  const rest = repository.slice(entry.source.repository.length + 1);
  return target.kind === 'registry'
    ? { ...target, repository: `${target.repository}/${rest}` }
    : { kind: 'oci', path: join(target.path, rest) };
}

async function repositoryImages(
  entry: SyncEntry,
  source: RepositoryName,
  lister: SyncLister,
  options: SignalOptions,
): Promise<SyncImage[]> {
  const filter = compileTagFilter({ ...entry.tags, excludeDigestTags: true });
  const tags = filter(await lister.tags(source, options));
  const destination = destinationFor(entry, source.repository);
  return tags.map((tag) => ({ entry, source, reference: tag, destination, tag }));
}

function oneImage(entry: SyncEntry): SyncImage {
  const source: RegistryReference = entry.source;
  const reference = source.digest ?? source.tag ?? 'latest';
  const tag = entry.targetTag ?? source.tag;
  return {
    entry,
    source: { registry: source.registry, repository: source.repository },
    reference,
    destination: entry.target,
    tag: source.digest !== undefined && entry.targetTag === undefined ? undefined : tag,
  };
}

/**
 * Every image the file names: tag lists and catalogs read, filters applied, then only the
 * shard's share kept. An entry whose listing fails is reported and the others go on; once
 * `signal` aborts, the expansion rejects with its reason.
 */
export async function expandEntries(
  config: SyncConfig,
  lister: SyncLister,
  shard?: Shard,
  options: SignalOptions = {},
): Promise<{ images: SyncImage[]; failures: SyncEntryFailure[] }> {
  const { signal } = options;
  const images: SyncImage[] = [];
  const failures: SyncEntryFailure[] = [];
  for (const entry of config.entries) {
    const { registry, repository } = entry.source;
    try {
      if (entry.type === 'image') images.push(oneImage(entry));
      else if (entry.type === 'repository')
        images.push(...(await repositoryImages(entry, entry.source, lister, options)));
      else {
        for await (const name of lister.catalog(registry, options)) {
          if (!name.startsWith(`${repository}/`)) continue;
          try {
            images.push(...(await repositoryImages(entry, { registry, repository: name }, lister, options)));
          } catch (error) {
            signal?.throwIfAborted();
            failures.push({ entry, source: `${registry}/${name}`, error });
          }
        }
      }
    } catch (error) {
      signal?.throwIfAborted();
      failures.push({ entry, source: `${registry}/${repository}`, error });
    }
  }
  return { images: shard ? images.filter((image) => inShard(image, shard)) : images, failures };
}
