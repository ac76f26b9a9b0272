import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { isManifestMediaType, parseManifest, successors } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { openOciLayout } from '../../src/targets/oci-layout.js';
import type { ReadTarget, WriteTarget } from '../../src/targets/target.js';
import { type BuiltImage, buildImageLayout } from '../fixtures/images.js';
import { skopeo } from '../fixtures/skopeo.js';

const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(scratchDirs.splice(0).map((path) => rm(path, { recursive: true, force: true })));
});

/** A fresh directory removed when this file's tests end. */
async function scratchDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'tug-layout-'));
  scratchDirs.push(path);
  return path;
}

/** A hand-built image layout, removed with the scratch directories. */
async function imageLayout(options: Parameters<typeof buildImageLayout>[0]): Promise<BuiltImage> {
  const image = await buildImageLayout(options);
  scratchDirs.push(image.layoutDir);
  return image;
}

async function digestOfStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Every descriptor reachable from `root` (root included), children before their parents. */
async function graphOf(target: ReadTarget, root: Descriptor): Promise<Descriptor[]> {
  const children = successors(parseManifest(await target.fetchBytes(root), root.mediaType).manifest);
  const below: Descriptor[] = [];
  for (const child of children) {
    if (isManifestMediaType(child.mediaType)) {
      below.push(...(await graphOf(target, child)));
    } else {
      below.push(child);
    }
  }
  return [...below, root];
}

async function copyThroughTargetApi(
  source: ReadTarget,
  destination: WriteTarget,
  tag: string,
): Promise<Descriptor> {
  const root = await source.resolve(tag);
  for (const node of await graphOf(source, root)) await destination.push(node, await source.fetch(node));
  await destination.tag(root, tag);
  return root;
}

async function skopeoCopy(from: string, to: string): Promise<void> {
  await skopeo(['copy', '--all', '--preserve-digests', from, to], { timeoutMs: 30_000 });
}

describe('OCI layouts shared with skopeo', () => {
  it('reads every blob of a two-platform layout that skopeo wrote, each matching its digest', async () => {
    const image = await imageLayout({
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      layers: 2,
      tag: 'src',
    });
    const written = join(await scratchDir(), 'by-skopeo');
    await skopeoCopy(`oci:${image.layoutDir}:src`, `oci:${written}:v1`);

    const layout = await openOciLayout(written);
    const root = await layout.resolve('v1');
    expect(root.digest).toBe(image.rootDigest);
    expect(await layout.resolve('')).toEqual(root);
    const tags: string[] = [];
    for await (const tag of layout.tags()) tags.push(tag);
    expect(tags).toEqual(['v1']);

    const graph = await graphOf(layout, root);
    expect(new Set(graph.map((node) => node.digest))).toEqual(new Set(image.blobDigests));
    for (const node of graph) {
      expect(await layout.exists(node)).toBe(true);
      expect(await digestOfStream(await layout.fetch(node))).toBe(node.digest);
    }
    for (const digest of image.manifestDigests) {
      expect((await layout.resolve(digest)).digest).toBe(digest);
    }
  });

  it('resolves the full image name skopeo stores as a ref.name, and tags beside skopeo entries', async () => {
    const image = await imageLayout({ tag: 'src' });
    const written = join(await scratchDir(), 'by-skopeo');
    await skopeoCopy(`oci:${image.layoutDir}:src`, `oci:${written}:v1`);
    await skopeoCopy(`oci:${image.layoutDir}:src`, `oci:${written}:example.test/team/app:v2`);

    const layout = await openOciLayout(written, { create: true });
    expect((await layout.resolve('example.test/team/app:v2')).digest).toBe(image.rootDigest);
    await layout.tag(await layout.resolve('v1'), 'v3');
    const tags: string[] = [];
    for await (const tag of layout.tags()) tags.push(tag);
    expect(tags).toEqual(['v1', 'example.test/team/app:v2', 'v3']);
    for (const tag of tags) {
      const raw = await skopeo(['inspect', '--raw', `oci:${written}:${tag}`]);
      expect(`sha256:${createHash('sha256').update(raw.stdoutBytes).digest('hex')}`).toBe(image.rootDigest);
    }
  });

  it('writes a single-platform layout that skopeo inspects and copies with the same digest', async () => {
    const image = await imageLayout({ layers: 3, tag: 'v1' });
    const written = join(await scratchDir(), 'by-tug');
    const target = await openOciLayout(written, { create: true });
    await copyThroughTargetApi(await openOciLayout(image.layoutDir), target, 'v1');

    const raw = await skopeo(['inspect', '--raw', `oci:${written}:v1`]);
    expect(`sha256:${createHash('sha256').update(raw.stdoutBytes).digest('hex')}`).toBe(image.rootDigest);
    const inspected = JSON.parse((await skopeo(['inspect', `oci:${written}:v1`])).stdout) as {
      Digest: string;
      Layers: string[];
    };
    expect(inspected.Digest).toBe(image.rootDigest);
    expect(inspected.Layers).toHaveLength(3);

    const copied = join(await scratchDir(), 'copied');
    await skopeoCopy(`oci:${written}:v1`, `oci:${copied}:v1`);
    const copiedIndex = JSON.parse(await readFile(join(copied, 'index.json'), 'utf8')) as {
      manifests: Descriptor[];
    };
    expect(copiedIndex.manifests.map((entry) => entry.digest)).toEqual([image.rootDigest]);
  });

  it('writes a two-platform index that skopeo copies whole with the same digest', async () => {
    const image = await imageLayout({ platforms: ['linux/amd64', 'linux/arm64/v8'], tag: 'multi' });
    const written = join(await scratchDir(), 'by-tug');
    const target = await openOciLayout(written, { create: true });
    await copyThroughTargetApi(await openOciLayout(image.layoutDir), target, 'multi');

    const raw = await skopeo(['inspect', '--raw', `oci:${written}:multi`]);
    expect(`sha256:${createHash('sha256').update(raw.stdoutBytes).digest('hex')}`).toBe(image.rootDigest);

    const copied = join(await scratchDir(), 'copied');
    await skopeoCopy(`oci:${written}:multi`, `oci:${copied}:multi`);
    const back = await openOciLayout(copied);
    const root = await back.resolve('multi');
    expect(root.digest).toBe(image.rootDigest);
    for (const node of await graphOf(back, root)) {
      expect(await digestOfStream(await back.fetch(node))).toBe(node.digest);
    }
  });
});
