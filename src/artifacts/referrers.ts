import {
  type CopyOptions,
  type CopyResult,
  copyGraph,
  DEFAULT_MAX_NODES,
  NodeBudget,
} from '../copy/index.js';
import { isManifestMediaType } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { keepReferrerFindable, readReferrersTag } from '../targets/referrers-tag.js';
import {
  isReferrerFinder,
  type ReadTarget,
  type SignalOptions,
  type WriteTarget,
} from '../targets/target.js';

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
 * copied through the one engine. Each referrer is kept findable at the destination (a registry
 * does it as the manifest is pushed; an OCI layout gets its referrers tag updated here).
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
    await keepReferrerFindable(dst, subject, referrer, signalOptions);
  }
  return result;
}
