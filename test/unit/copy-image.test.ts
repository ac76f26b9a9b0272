import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { copyImage } from '../../src/copy/index.js';
import { TagConflictError, TugError } from '../../src/errors.js';
import { MediaType, parsePlatform } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { put, putImage, RecordingTarget, twoPlatformIndex } from './copy-fixtures.js';

/** A destination that logs its writes in order, and can fail the push of one digest. */
class WriteLog extends RecordingTarget {
  readonly writes: string[] = [];
  failPushOf: string | undefined;

  override async push(descriptor: Descriptor, content: Readable): Promise<void> {
    if (descriptor.digest === this.failPushOf) throw new Error('disk full');
    await super.push(descriptor, content);
    this.writes.push(`push ${descriptor.digest}`);
  }

  override async tag(descriptor: Descriptor, reference: string): Promise<void> {
    await super.tag(descriptor, reference);
    this.writes.push(`tag ${reference}`);
  }
}

const signatureTag = (digest: string) => `${digest.replace(':', '-')}.sig`;

/** A cosign-style signature manifest tagged next to `subject` in `source`. */
async function sign(source: MemoryTarget, subject: Descriptor): Promise<Descriptor> {
  const payload = await put(source, Buffer.from(`signed ${subject.digest}`), MediaType.ociLayerGzip);
  const { manifest } = await putImage(source, 'signature', [payload]);
  await source.tag(manifest, signatureTag(subject.digest));
  return manifest;
}

/** An index in `source` of one linux manifest per architecture. */
function indexOf(source: MemoryTarget, byArchitecture: Record<string, Descriptor>): Promise<Descriptor> {
  const manifests = Object.entries(byArchitecture).map(([architecture, manifest]) => ({
    ...manifest,
    platform: { os: 'linux', architecture },
  }));
  return put(
    source,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })),
    MediaType.ociIndex,
  );
}

async function tagsOf(target: MemoryTarget): Promise<string[]> {
  const all: string[] = [];
  for await (const tag of target.tags()) all.push(tag);
  return all;
}

describe('copying one image', () => {
  it('writes nothing and lists no tags when verification fails', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    await source.tag(graph.index, 'v1');
    const destination = new WriteLog();
    let listed = false;
    const verified: string[] = [];
    const attempt = copyImage(source, destination, 'v1', {
      tags: ['v1'],
      verify: async (root) => {
        verified.push(root.digest);
        throw new TugError('no valid signature');
      },
      sourceTags: async () => {
        listed = true;
        return tagsOf(source);
      },
    });
    await expect(attempt).rejects.toThrow('no valid signature');
    expect(verified).toEqual([graph.index.digest]);
    expect(destination.writes).toEqual([]);
    expect(destination.checked).toEqual([]);
    expect(listed).toBe(false);
  });

  it('verifies the root the reference names, before a platform narrows it', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const verified: string[] = [];
    const result = await copyImage(source, new MemoryTarget(), graph.index.digest, {
      platforms: [parsePlatform('linux/arm64')],
      verify: async (root) => {
        verified.push(root.digest);
      },
    });
    expect(verified).toEqual([graph.index.digest]);
    expect(result.root.digest).toBe(graph.arm64.manifest.digest);
  });

  it('refuses a moved tag before any blob is written or the copy announced', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const destination = new WriteLog();
    const other = await putImage(destination, 'other', []);
    await destination.tag(other.manifest, 'v1');
    destination.writes.length = 0;
    const announced: string[] = [];
    const attempt = copyImage(source, destination, graph.index.digest, {
      tags: ['v1'],
      noClobber: true,
      beforeCopy: (root) => {
        announced.push(root.digest);
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(TagConflictError);
    expect(destination.writes).toEqual([]);
    expect(announced).toEqual([]);
    expect((await destination.resolve('v1')).digest).toBe(other.manifest.digest);
  });

  it('checks no-clobber against the reduced index it would write, not the source index', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const s390x = await putImage(source, 's390x', [graph.shared]);
    const root = await indexOf(source, {
      amd64: graph.amd64.manifest,
      arm64: graph.arm64.manifest,
      s390x: s390x.manifest,
    });
    const platforms = ['linux/amd64', 'linux/arm64'].map(parsePlatform);
    const destination = new WriteLog();
    const first = await copyImage(source, destination, root, { platforms, tags: ['v1'] });
    expect(first.filteredFrom?.digest).toBe(root.digest);
    // The tag already names the reduced index: a second copy is no move.
    const again = await copyImage(source, destination, root, { platforms, tags: ['v1'], noClobber: true });
    expect(again.root.digest).toBe(first.root.digest);
    // Without the platform filter the root is the whole index, and v1 would move.
    await expect(
      copyImage(source, destination, root, { tags: ['v1'], noClobber: true }),
    ).rejects.toBeInstanceOf(TagConflictError);
  });

  it('copies the graph, then its digest tags, and sets the image tag last', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const signature = await sign(source, graph.index);
    const destination = new WriteLog();
    const result = await copyImage(source, destination, graph.index.digest, {
      tags: ['v1', 'latest'],
      sourceTags: () => tagsOf(source),
    });
    expect(result.digestTags).toEqual([signatureTag(graph.index.digest)]);
    const { writes } = destination;
    expect(writes.slice(-3)).toEqual([`tag ${signatureTag(graph.index.digest)}`, 'tag v1', 'tag latest']);
    expect(writes.indexOf(`push ${signature.digest}`)).toBeGreaterThan(
      writes.indexOf(`push ${graph.index.digest}`),
    );
    expect(writes.filter((write) => write.startsWith('push'))).toHaveLength(graph.all.length + 3);
  });

  it('leaves the image untagged when a digest tag fails to copy', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const signature = await sign(source, graph.index);
    const destination = new WriteLog();
    destination.failPushOf = signature.digest;
    const attempt = copyImage(source, destination, graph.index.digest, {
      tags: ['v1'],
      sourceTags: () => tagsOf(source),
    });
    await expect(attempt).rejects.toThrow(/disk full/);
    expect(await destination.exists(graph.index)).toBe(true);
    expect(await tagsOf(destination)).toEqual([]);
  });

  it('takes the digest tags of the platform manifests kept, not of the index it reduced', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const s390x = await putImage(source, 's390x', [graph.shared]);
    const root = await indexOf(source, { amd64: graph.amd64.manifest, s390x: s390x.manifest });
    await sign(source, root);
    await sign(source, graph.amd64.manifest);
    await sign(source, s390x.manifest);
    const destination = new MemoryTarget();
    const result = await copyImage(source, destination, root, {
      platforms: [parsePlatform('linux/amd64')],
      keepIndex: true,
      tags: ['v1'],
      sourceTags: () => tagsOf(source),
    });
    expect(result.filteredFrom?.digest).toBe(root.digest);
    expect(result.root.mediaType).toBe(MediaType.ociIndex);
    expect(result.digestTags).toEqual([signatureTag(graph.amd64.manifest.digest)]);
    expect((await destination.resolve('v1')).digest).toBe(result.root.digest);
  });

  it('writes the platform manifest itself for one platform unless asked to keep an index', async () => {
    const source = new MemoryTarget();
    const graph = await twoPlatformIndex(source);
    const platforms = [parsePlatform('linux/amd64')];
    const single = await copyImage(source, new MemoryTarget(), graph.index.digest, { platforms });
    expect(single.root.digest).toBe(graph.amd64.manifest.digest);
    expect(single.filteredFrom).toBeUndefined();
    const kept = await copyImage(source, new MemoryTarget(), graph.index.digest, {
      platforms,
      keepIndex: true,
    });
    expect(kept.root.mediaType).toBe(MediaType.ociIndex);
    expect(kept.filteredFrom?.digest).toBe(graph.index.digest);
  });

  it('reaches the destination while the source is still resolving', async () => {
    let reached: () => void = () => {};
    const destinationReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    // A source that answers only once the destination was reached: a copy that waited for the
    // source before reaching the destination would never end.
    class WaitingSource extends MemoryTarget {
      override async resolve(reference: string): Promise<Descriptor> {
        await destinationReached;
        return super.resolve(reference);
      }
    }
    class Reachable extends MemoryTarget {
      async connect(): Promise<void> {
        reached();
      }
    }
    const source = new WaitingSource();
    const graph = await twoPlatformIndex(source);
    await source.tag(graph.index, 'v1');
    const destination = new Reachable();
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(
        () => reject(new Error('the destination was reached only after the source resolved')),
        2000,
      ).unref();
    });
    const result = await Promise.race([copyImage(source, destination, 'v1'), timeout]);
    expect(result.root.digest).toBe(graph.index.digest);
    expect(await destination.exists(graph.index)).toBe(true);
  });
});
