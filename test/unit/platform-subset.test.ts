import { describe, expect, it } from 'vitest';
import { copyPlatforms, platformSubset } from '../../src/copy/index.js';
import { NotFoundError } from '../../src/errors.js';
import { digestOf, MediaType, parsePlatform } from '../../src/oci/index.js';
import type { ImageIndex } from '../../src/oci/types.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { putImage, putIndex, twoPlatformIndex } from './copy-fixtures.js';

const entry = (architecture: string, variant?: string) => ({
  mediaType: MediaType.ociManifest,
  digest: digestOf(Buffer.from(architecture + (variant ?? ''))),
  size: 100,
  platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  annotations: { 'org.example.arch': architecture },
});

const index: ImageIndex = {
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: [entry('amd64'), entry('arm', 'v7'), entry('arm64', 'v8'), entry('s390x')],
  annotations: { 'org.opencontainers.image.version': '1.0' },
};

describe('an index reduced to some platforms', () => {
  it('keeps the matching entries in index order, byte for byte, and the index fields', () => {
    const subset = platformSubset(index, MediaType.ociIndex, [
      parsePlatform('linux/arm64'),
      parsePlatform('linux/amd64'),
    ]);
    const written = JSON.parse(Buffer.from(subset.bytes).toString()) as ImageIndex;
    expect(written.manifests).toEqual([index.manifests[0], index.manifests[2]]);
    expect(written.annotations).toEqual(index.annotations);
    expect(written.mediaType).toBe(MediaType.ociIndex);
    expect(subset.descriptor).toEqual({
      mediaType: MediaType.ociIndex,
      digest: digestOf(subset.bytes),
      size: subset.bytes.byteLength,
    });
  });

  it('refuses a platform the index lacks, listing those it has', () => {
    const attempt = () => platformSubset(index, MediaType.ociIndex, [parsePlatform('linux/ppc64le')]);
    expect(attempt).toThrow(NotFoundError);
    expect(attempt).toThrow(/linux\/ppc64le/);
    try {
      attempt();
    } catch (error) {
      expect((error as NotFoundError).hint).toBe(
        'the index has: linux/amd64, linux/arm/v7, linux/arm64/v8, linux/s390x',
      );
    }
  });
});

describe('copying some platforms of an index', () => {
  it('copies only their graphs and a new index, and tags that index', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const s390x = await putImage(source, 's390x', [graph.shared]);
    const root = await putIndex(source, [
      { ...graph.amd64.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      { ...graph.arm64.manifest, platform: { os: 'linux', architecture: 'arm64' } },
      { ...s390x.manifest, platform: { os: 'linux', architecture: 's390x' } },
    ]);
    const destination = new MemoryTarget();
    const result = await copyPlatforms(
      source,
      destination,
      root,
      [parsePlatform('linux/amd64'), parsePlatform('linux/s390x')],
      { tags: ['v1'] },
    );
    expect(result.filteredFrom).toEqual(root);
    const tagged = await destination.resolve('v1');
    expect(tagged).toEqual(result.root);
    const written = JSON.parse(Buffer.from(await destination.fetchBytes(tagged)).toString()) as ImageIndex;
    expect(written.manifests.map((m) => m.digest)).toEqual([
      graph.amd64.manifest.digest,
      s390x.manifest.digest,
    ]);
    expect(await destination.exists(graph.amd64Layer)).toBe(true);
    expect(await destination.exists(graph.arm64Layer)).toBe(false);
    expect(await destination.exists(graph.arm64.manifest)).toBe(false);
    expect(await destination.exists(root)).toBe(false);
  });

  it('copies the index as it is when every platform is kept, and a single manifest as it is', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const destination = new MemoryTarget();
    const wanted = [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')];
    const whole = await copyPlatforms(source, destination, graph.index, wanted);
    expect(whole.root).toEqual(graph.index);
    expect(whole.filteredFrom).toBeUndefined();
    const single = await copyPlatforms(source, new MemoryTarget(), graph.amd64.manifest, wanted);
    expect(single.root).toEqual(graph.amd64.manifest);
  });
});
