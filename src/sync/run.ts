import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { copyWithReferrers } from '../artifacts/referrers.js';
import { copyDigestTags, copyGraph, copyImage, Limiter, platformRoot } from '../copy/index.js';
import { NotFoundError, TugError, UsageError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { RepositoryName } from '../ref/types.js';
import { loadPublicKey } from '../sign/keys.js';
import { requireSignedBy } from '../sign/policy.js';
import { runSignal, type SignalOptions } from '../signal.js';
import { isTagLister, type ReadTarget, type WriteTarget } from '../targets/target.js';
import type { SyncConfig, SyncDestination } from './config.js';
import { staleDigestTags } from './digest-tags.js';
import {
  destinationText,
  expandEntries,
  imageName,
  type Shard,
  type SyncImage,
  type SyncLister,
} from './plan.js';

/** How a sync run reaches its sources and destinations; the caller decides credentials and TLS. */
export interface SyncEnvironment {
  openSource(repository: RepositoryName): Promise<ReadTarget>;
  openDestination(destination: SyncDestination): Promise<WriteTarget>;
  catalog(registry: string, options?: SignalOptions): AsyncIterable<string>;
}

export type SyncAction = 'copy' | 'skip' | 'conflict' | 'failed';

export interface SyncImageReport {
  source: string;
  target: string;
  action: SyncAction;
  /**
   * Why: `new`, `changed` (overwritten), `already there`, `already there; newer digest tags at the
   * source` (a skip whose digest tags are copied), `noClobber: the target holds …`, or the error.
   */
  reason: string;
  /** The digest written (or that would be) at the target. */
  digest?: string;
  /** Digest tags (cosign `.sig`/`.att`/`.sbom`) copied along, or with `dryRun` those that would be. */
  digestTags?: string[];
}

export interface SyncReport {
  dryRun: boolean;
  shard?: string;
  images: SyncImageReport[];
  /**
   * Images by action (the four add up to the images). `refreshed` counts the skipped images whose
   * digest tags were copied (or would be): their graph was there, new or moved signatures were not.
   */
  summary: { copied: number; skipped: number; refreshed: number; conflicts: number; failed: number };
}

/** The reason of a skipped image whose digest tags are behind the source's. */
const STALE_DIGEST_TAGS = 'already there; newer digest tags at the source';

export interface SyncRunOptions {
  dryRun?: boolean;
  shard?: Shard;
  signal?: AbortSignal;
  /** Called as each image is decided and done, for progress lines. */
  onImage?(report: SyncImageReport): void;
}

function reasonOf(error: unknown): string {
  if (error instanceof TugError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Caches one target per repository, so each layout and repository is opened (and its tags listed)
 * once. A run has one signal, so the listing started with the first caller's signal serves all.
 */
class Targets implements SyncLister {
  readonly #sources = new Map<string, Promise<ReadTarget>>();
  readonly #destinations = new Map<string, Promise<WriteTarget>>();
  readonly #tags = new Map<string, Promise<string[]>>();

  constructor(readonly environment: SyncEnvironment) {}

  source(name: RepositoryName): Promise<ReadTarget> {
    const key = `${name.registry}/${name.repository}`;
    let target = this.#sources.get(key);
    if (!target) {
      target = this.environment.openSource(name);
      this.#sources.set(key, target);
    }
    return target;
  }

  destination(destination: SyncDestination): Promise<WriteTarget> {
    const key =
      destination.kind === 'registry'
        ? `${destination.registry}/${destination.repository}`
        : `oci:${destination.path}`;
    let target = this.#destinations.get(key);
    if (!target) {
      target = this.environment.openDestination(destination);
      this.#destinations.set(key, target);
    }
    return target;
  }

  tags(name: RepositoryName, options: SignalOptions = {}): Promise<string[]> {
    const key = `${name.registry}/${name.repository}`;
    let tags = this.#tags.get(key);
    if (!tags) {
      tags = (async () => {
        const target = await this.source(name);
        if (!isTagLister(target)) return [];
        const all: string[] = [];
        for await (const tag of target.tags(options)) all.push(tag);
        return all;
      })();
      this.#tags.set(key, tags);
    }
    return tags;
  }

  catalog(registry: string, options: SignalOptions = {}): AsyncIterable<string> {
    return this.environment.catalog(registry, options);
  }
}

/** The image's root at the source, and what to do with it (the report names the digest to write). */
interface Decision {
  report: SyncImageReport;
  root: Descriptor;
}

/** The public key of each `verify.key` file named in the config, read before anything is copied. */
async function loadVerifyKeys(config: SyncConfig): Promise<Map<string, KeyObject>> {
  const keys = new Map<string, KeyObject>();
  for (const entry of config.entries) {
    const file = entry.verify?.key;
    if (file === undefined || keys.has(file)) continue;
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read the verify key ${file}: ${reasonOf(error)}`);
    }
    keys.set(file, loadPublicKey(pem));
  }
  return keys;
}

async function decide(
  targets: Targets,
  image: SyncImage,
  key: KeyObject | undefined,
  options: SignalOptions,
): Promise<Decision> {
  const source = await targets.source(image.source);
  const root = await source.resolve(image.reference, options);
  const identity = image.entry.verify?.identity;
  if (key) await requireSignedBy(source, root, key, imageName(image), { ...options, identity });
  const { platforms } = image.entry;
  // The root written at the destination: the source root, or an index reduced to some platforms.
  const expected = platforms === undefined ? root : await platformRoot(source, root, platforms, options);
  const base = { source: imageName(image), target: destinationText(image), digest: expected.digest };
  const destination = await targets.destination(image.destination);
  if (image.tag === undefined) {
    const present = await destination.exists(expected, options);
    const report: SyncImageReport = present
      ? { ...base, action: 'skip', reason: 'already there' }
      : { ...base, action: 'copy', reason: 'new' };
    return { report, root };
  }
  let current: Descriptor | undefined;
  try {
    current = await destination.resolve(image.tag, options);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  let report: SyncImageReport;
  if (current === undefined) report = { ...base, action: 'copy', reason: 'new' };
  else if (current.digest === expected.digest) report = { ...base, action: 'skip', reason: 'already there' };
  else if (image.entry.noClobber) {
    report = { ...base, action: 'conflict', reason: `noClobber: the target holds ${current.digest}` };
  } else report = { ...base, action: 'copy', reason: `changed (was ${current.digest})` };
  return { report, root };
}

/**
 * A skipped image whose digest tags travel is checked for signatures, attestations and SBOMs added
 * or appended at the source since it was mirrored: the source's tags are listed once per run (the
 * listing is shared), and only the digest tags listed there are resolved on both sides.
 */
async function checkDigestTags(
  targets: Targets,
  image: SyncImage,
  decision: Decision,
  options: SignalOptions,
): Promise<Decision> {
  if (decision.report.action !== 'skip' || !travels(image)) return decision;
  const stale = await staleDigestTags(
    await targets.source(image.source),
    await targets.destination(image.destination),
    decision.root,
    image.entry.platforms ?? [],
    await targets.tags(image.source, options),
    options,
  );
  if (stale.length === 0) return decision;
  return { ...decision, report: { ...decision.report, reason: STALE_DIGEST_TAGS, digestTags: stale } };
}

/** Digest tags travel when asked for, and with a verified image so the destination verifies too. */
function travels(image: SyncImage): boolean {
  return image.entry.digestTags || image.entry.verify !== undefined;
}

/**
 * Copies the image, then its digest tags, and tags it last: the tag is what a re-run checks, so a
 * run killed half way copies again whatever was not finished (what is there is skipped).
 */
async function copyDecided(
  targets: Targets,
  image: SyncImage,
  decision: Decision,
  limiter: Limiter,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const { entry } = image;
  const result = await copyImage(
    await targets.source(image.source),
    await targets.destination(image.destination),
    decision.root,
    {
      ...(entry.platforms === undefined ? {} : { platforms: entry.platforms, keepIndex: true }),
      copier: entry.referrers ? copyWithReferrers : copyGraph,
      tags: image.tag === undefined ? [] : [image.tag],
      ...(travels(image) ? { sourceTags: () => targets.tags(image.source, { signal }) } : {}),
      limiter,
      signal,
    },
  );
  return result.digestTags;
}

/** Writes what was decided: the image (with its digest tags), or only the digest tags of a skipped one. */
async function carryOut(
  targets: Targets,
  image: SyncImage,
  decision: Decision,
  limiter: Limiter,
  signal: AbortSignal | undefined,
): Promise<SyncImageReport> {
  const { report } = decision;
  if (report.action === 'copy') {
    const travelled = await copyDecided(targets, image, decision, limiter, signal);
    return travelled.length > 0 ? { ...report, digestTags: travelled } : report;
  }
  await copyDigestTags(
    await targets.source(image.source),
    await targets.destination(image.destination),
    report.digestTags ?? [],
    { limiter, signal },
  );
  return report;
}

/**
 * Runs at most `limit` of the tasks at once. A task that throws ends its worker; the pool rejects
 * only once every worker has stopped, so no task is still cleaning up when the caller goes on.
 */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Makes the destinations match the sync file: lists and filters, decides per image (copy, skip
 * because the tag already holds the digest, conflict under noClobber, failed without a signature by
 * the entry's verify key), and copies, many images at once under one limit on transfers. A skipped
 * image whose digest tags travel still gets those the source added or moved since. A failing image
 * is reported and the others go on; with `dryRun` nothing is written.
 */
export async function runSync(
  config: SyncConfig,
  environment: SyncEnvironment,
  options: SyncRunOptions = {},
): Promise<SyncReport> {
  const targets = new Targets(environment);
  const signal = options.signal ? runSignal(options.signal) : undefined;
  const reports: SyncImageReport[] = [];
  const record = (report: SyncImageReport) => {
    reports.push(report);
    options.onImage?.(report);
  };
  const keys = await loadVerifyKeys(config);
  const { images, failures } = await expandEntries(config, targets, options.shard, { signal });
  for (const failure of failures) {
    record({ source: failure.source, target: '', action: 'failed', reason: reasonOf(failure.error) });
  }
  const limiter = new Limiter(config.concurrency);
  await pool(images, config.concurrency * 2, async (image) => {
    signal?.throwIfAborted();
    let decision: Decision;
    try {
      const file = image.entry.verify?.key;
      const key = file === undefined ? undefined : keys.get(file);
      decision = await checkDigestTags(targets, image, await decide(targets, image, key, { signal }), {
        signal,
      });
    } catch (error) {
      signal?.throwIfAborted();
      record({
        source: imageName(image),
        target: destinationText(image),
        action: 'failed',
        reason: reasonOf(error),
      });
      return;
    }
    const { report } = decision;
    if (options.dryRun || (report.action !== 'copy' && report.digestTags === undefined)) {
      record(report);
      return;
    }
    try {
      record(await carryOut(targets, image, decision, limiter, signal));
    } catch (error) {
      signal?.throwIfAborted();
      const { digestTags: _unwritten, ...rest } = report;
      record({ ...rest, action: 'failed', reason: reasonOf(error) });
    }
  });
  const count = (action: SyncAction) => reports.filter((report) => report.action === action).length;
  return {
    dryRun: options.dryRun === true,
    ...(options.shard ? { shard: `${options.shard.index}/${options.shard.count}` } : {}),
    images: reports,
    summary: {
      copied: count('copy'),
      skipped: count('skip'),
      refreshed: reports.filter((report) => report.action === 'skip' && report.digestTags !== undefined)
        .length,
      conflicts: count('conflict'),
      failed: count('failed'),
    },
  };
}
