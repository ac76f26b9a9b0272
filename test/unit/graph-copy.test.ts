import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyError, copyGraph } from '../../src/copy/index.js';
import { DigestMismatchError } from '../../src/errors.js';
import { createVerifier, digestOf, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { MemoryTarget } from '../../src/targets/memory.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

async function put(target: MemoryTarget, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  await target.push(descriptor, Readable.from([bytes]));
  return descriptor;
}

/** index → two manifests → a config each and one layer they share. */
async function twoPlatformIndex(target: MemoryTarget) {
  const shared = await put(target, Buffer.from('shared layer'), MediaType.ociLayerGzip);
  const manifests: Descriptor[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const config = await put(target, json({ architecture, os: 'linux' }), MediaType.ociConfig);
    const own = await put(target, Buffer.from(`layer of ${architecture}`), MediaType.ociLayerGzip);
    const manifest = await put(
      target,
      json({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [shared, own] }),
      MediaType.ociManifest,
    );
    manifests.push({ ...manifest, platform: { os: 'linux', architecture } });
  }
  const index = await put(
    target,
    json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }),
    MediaType.ociIndex,
  );
  return { index, shared, manifests };
}

/** A memory target that records what happens to it. */
class Recording extends MemoryTarget {
  readonly pushes: string[] = [];
  readonly fetches: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  override async push(descriptor: Descriptor, content: Readable): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    try {
      await super.push(descriptor, content);
      this.pushes.push(descriptor.digest);
    } finally {
      this.inFlight -= 1;
    }
  }

  override async fetch(descriptor: Descriptor): Promise<Readable> {
    this.fetches.push(descriptor.digest);
    return super.fetch(descriptor);
  }
}

describe('copying a graph between targets', () => {
  it('copies a two-platform index byte for byte, each shared blob once, children before parents', async () => {
    const source = new Recording();
    const { index, shared } = await twoPlatformIndex(source);
    const destination = new Recording();
    const result = await copyGraph(source, destination, index, { tags: ['v1'] });
    expect(result).toMatchObject({ copied: 8, skipped: 0, mounted: 0 });
    expect(await destination.fetchBytes(index)).toEqual(await source.fetchBytes(index));
    expect(source.fetches.filter((digest) => digest === shared.digest)).toHaveLength(1);
    expect(destination.pushes.at(-1)).toBe(index.digest);
    expect((await destination.resolve('v1')).digest).toBe(index.digest);
  });

  it('skips what the destination has, with everything under it', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    const destination = new MemoryTarget();
    await copyGraph(source, destination, index);
    const again = await copyGraph(source, destination, index);
    expect(again).toMatchObject({ copied: 0, skipped: 1, bytes: 0 });
  });

  it('fills a partly filled destination when asked to check every node', async () => {
    const source = new MemoryTarget();
    const { index, manifests } = await twoPlatformIndex(source);
    const destination = new MemoryTarget();
    // The index and one manifest arrived, but not the blobs under them (an interrupted mirror).
    await destination.push(index, Readable.from([await source.fetchBytes(index)]));
    const first = manifests[0]!;
    await destination.push(first, Readable.from([await source.fetchBytes(first)]));
    expect((await copyGraph(source, destination, index)).copied).toBe(0);
    const filled = await copyGraph(source, destination, index, { checkEveryNode: true });
    expect(filled.copied).toBe(6);
    for (const manifest of manifests) expect(await destination.exists(manifest)).toBe(true);
  });

  it('bounds concurrent transfers, and concurrency 1 does not deadlock on a deep graph', async () => {
    const source = new MemoryTarget();
    const layers: Descriptor[] = [];
    for (let i = 0; i < 12; i++)
      layers.push(await put(source, Buffer.from(`layer ${i}`), MediaType.ociLayerGzip));
    const config = await put(source, json({ os: 'linux', architecture: 'amd64' }), MediaType.ociConfig);
    const manifest = await put(
      source,
      json({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers }),
      MediaType.ociManifest,
    );
    const index = await put(
      source,
      json({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [manifest] }),
      MediaType.ociIndex,
    );
    const three = new Recording();
    await copyGraph(source, three, index, { concurrency: 3 });
    expect(three.maxInFlight).toBeLessThanOrEqual(3);
    expect(three.maxInFlight).toBeGreaterThan(1);
    const one = new Recording();
    await copyGraph(source, one, index, { concurrency: 1 });
    expect(one.maxInFlight).toBe(1);
    expect(one.pushes).toHaveLength(15);
  });

  it('refuses a source blob whose bytes do not match its digest, and nothing above it arrives', async () => {
    const source = new MemoryTarget();
    const { index, shared } = await twoPlatformIndex(source);
    class Lying extends MemoryTarget {
      override async fetch(descriptor: Descriptor): Promise<Readable> {
        // Like every real target, the source verifies what it serves.
        if (descriptor.digest === shared.digest)
          return Readable.from([Buffer.from('shared lay3r')]).pipe(createVerifier(shared));
        return source.fetch(descriptor);
      }
      override fetchBytes(descriptor: Descriptor) {
        return source.fetchBytes(descriptor);
      }
    }
    const destination = new MemoryTarget();
    const failure = await copyGraph(new Lying(), destination, index).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CopyError);
    expect((failure as CopyError).cause).toBeInstanceOf(DigestMismatchError);
    expect((failure as CopyError).message).toContain('from the source');
    expect(await destination.exists(shared)).toBe(false);
    expect(await destination.exists(index)).toBe(false);
  });

  it('mounts where the destination can, moving no bytes', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    class Mounting extends MemoryTarget {
      async mount(descriptor: Descriptor): Promise<boolean> {
        await super.push(descriptor, await source.fetch(descriptor));
        return true;
      }
    }
    const result = await copyGraph(source, new Mounting(), index);
    expect(result.mounted).toBe(5);
    expect(result.bytes).toBe(
      (await source.fetchBytes(index)).byteLength +
        (JSON.parse(Buffer.from(await source.fetchBytes(index)).toString()).manifests as Descriptor[]).reduce(
          (sum, m) => sum + m.size,
          0,
        ),
    );
  });

  it('reports every node it starts and finishes, and bytes that add up', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    const started = new Set<string>();
    const done: string[] = [];
    let bytes = 0;
    const result = await copyGraph(source, new MemoryTarget(), index, {
      events: {
        onStart: (descriptor) => started.add(descriptor.digest),
        onBytes: (_descriptor, n) => {
          bytes += n;
        },
        onDone: (descriptor) => {
          expect(started.has(descriptor.digest)).toBe(true);
          done.push(descriptor.digest);
        },
      },
    });
    expect(done).toHaveLength(8);
    expect(bytes).toBe(result.bytes);
  });

  it('stops when aborted', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    const controller = new AbortController();
    controller.abort();
    await expect(
      copyGraph(source, new MemoryTarget(), index, { signal: controller.signal }),
    ).rejects.toThrow();
  });
});
