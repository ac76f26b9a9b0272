import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { copyGraph } from '../../src/copy/index.js';
import { UsageError } from '../../src/errors.js';
import { MediaType, parseManifest, successors } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { json, put, putImage, putIndex, RecordingTarget, seed, twoPlatformIndex } from './copy-fixtures.js';

const sizeOf = (descriptors: Descriptor[]) => descriptors.reduce((sum, d) => sum + d.size, 0);

describe('copyGraph walks the graph', () => {
  it('copies a two-platform index with configs and a shared layer byte for byte', async () => {
    const source = new MemoryTarget();
    const { index, all } = await twoPlatformIndex(source);
    const destination = new MemoryTarget();

    const result = await copyGraph(source, destination, index);

    expect(result).toEqual({ root: index, copied: 8, skipped: 0, mounted: 0, bytes: sizeOf(all) });
    for (const node of all) {
      expect(Buffer.from(await destination.fetchBytes(node))).toEqual(
        Buffer.from(await source.fetchBytes(node)),
      );
    }
  });

  it('pushes every node after all of its successors', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    const destination = new RecordingTarget();

    await copyGraph(source, destination, index);

    const position = (digest: string) => destination.pushed.indexOf(digest);
    for (const digest of destination.pushed) {
      const descriptor = await destination.resolve(digest);
      if (descriptor.mediaType === MediaType.ociLayerGzip || descriptor.mediaType === MediaType.ociConfig)
        continue;
      const { manifest } = parseManifest(await destination.fetchBytes(descriptor));
      for (const child of successors(manifest)) expect(position(child.digest)).toBeLessThan(position(digest));
    }
    expect(destination.pushed.at(-1)).toBe(index.digest);
  });

  it('fetches and pushes a blob shared by two manifests once, and counts it once', async () => {
    const source = new RecordingTarget();
    const { index, shared } = await twoPlatformIndex(source);
    const destination = new RecordingTarget();

    const result = await copyGraph(source, destination, index);

    expect(source.fetched.filter((digest) => digest === shared.digest)).toHaveLength(1);
    expect(destination.pushed.filter((digest) => digest === shared.digest)).toHaveLength(1);
    expect(result.copied).toBe(8);
  });

  it('fetches each manifest from the source once', async () => {
    const source = new RecordingTarget();
    const { index, amd64, arm64 } = await twoPlatformIndex(source);

    await copyGraph(source, new MemoryTarget(), index);

    expect([...source.fetchedBytes].sort()).toEqual(
      [index.digest, amd64.manifest.digest, arm64.manifest.digest].sort(),
    );
  });

  it('copies an image manifest whose descriptor is the root, with a Docker media type', async () => {
    const source = new MemoryTarget();
    const layer = await put(source, Buffer.from('docker layer'), MediaType.dockerLayerGzip);
    const config = await put(source, json({ os: 'linux', architecture: 'amd64' }), MediaType.dockerConfig);
    const manifest = await put(
      source,
      json({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config, layers: [layer] }),
      MediaType.dockerManifest,
    );
    const destination = new MemoryTarget();

    const result = await copyGraph(source, destination, manifest);

    expect(result.copied).toBe(3);
    for (const node of [manifest, config, layer]) expect(await destination.exists(node)).toBe(true);
  });
});

describe('copyGraph skips what the destination has', () => {
  it('skips a sub-graph whose root exists without looking below it', async () => {
    const source = new RecordingTarget();
    const { index, amd64, arm64, shared, arm64Layer } = await twoPlatformIndex(source);
    const destination = new RecordingTarget();
    await copyGraph(source, destination, amd64.manifest);
    source.fetched.length = 0;
    source.fetchedBytes.length = 0;
    destination.checked.length = 0;

    const result = await copyGraph(source, destination, index);

    // index, arm64 manifest, its config and its own layer are new; the amd64 manifest and the shared layer are there.
    expect(result).toMatchObject({ copied: 4, skipped: 2, mounted: 0 });
    expect(result.bytes).toBe(sizeOf([index, arm64.manifest, arm64.config, arm64Layer]));
    expect(source.fetchedBytes).not.toContain(amd64.manifest.digest);
    expect(destination.checked).not.toContain(amd64.config.digest);
    expect(source.fetched).not.toContain(shared.digest);
  });

  it('does nothing but skip the root when the whole graph is there', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    const destination = new RecordingTarget();
    await copyGraph(source, destination, index);
    destination.checked.length = 0;

    const again = await copyGraph(source, destination, index);

    expect(again).toEqual({ root: index, copied: 0, skipped: 1, mounted: 0, bytes: 0 });
    expect(destination.checked).toEqual([index.digest]);
  });

  it('fills a partly filled destination when asked to check every node', async () => {
    const source = new MemoryTarget();
    const { index, amd64, all } = await twoPlatformIndex(source);
    const destination = new MemoryTarget();
    // An interrupted mirror: the index and one manifest arrived, nothing under them.
    await seed(source, destination, [index, amd64.manifest]);

    const shallow = await copyGraph(source, destination, index);
    expect(shallow).toMatchObject({ copied: 0, skipped: 1 });

    const deep = await copyGraph(source, destination, index, { checkEveryNode: true });
    expect(deep).toMatchObject({ copied: 6, skipped: 2, mounted: 0 });
    for (const node of all) expect(await destination.exists(node)).toBe(true);
  });
});

describe('copyGraph bounds its transfers', () => {
  async function wideThreeLevelGraph(source: MemoryTarget): Promise<Descriptor> {
    const layers: Descriptor[] = [];
    for (let i = 0; i < 12; i++)
      layers.push(await put(source, Buffer.from(`layer ${i}`), MediaType.ociLayerGzip));
    const { manifest } = await putImage(source, 'amd64', layers);
    return putIndex(source, [manifest]);
  }

  it('never has more pushes in flight than the concurrency allows', async () => {
    const source = new MemoryTarget();
    const index = await wideThreeLevelGraph(source);
    const destination = new RecordingTarget(5);

    await copyGraph(source, destination, index, { concurrency: 3 });

    expect(destination.maxPushing).toBeLessThanOrEqual(3);
    expect(destination.maxPushing).toBeGreaterThan(1);
    expect(destination.pushed).toHaveLength(15);
  });

  it('moves six blobs at once when not told otherwise, as skopeo does', async () => {
    const source = new MemoryTarget();
    const index = await wideThreeLevelGraph(source);
    const destination = new RecordingTarget(5);

    await copyGraph(source, destination, index);

    expect(destination.maxPushing).toBe(6);
  });

  it('starts transferring blobs before every blob has been checked for', async () => {
    const source = new MemoryTarget();
    const index = await wideThreeLevelGraph(source);
    const destination = new RecordingTarget(1);

    await copyGraph(source, destination, index, { concurrency: 2 });

    const firstPush = destination.calls.findIndex((call) => call.startsWith('pushed '));
    const lastCheck = destination.calls.findLastIndex((call) => call.startsWith('exists '));
    expect(firstPush).toBeGreaterThan(-1);
    expect(firstPush).toBeLessThan(lastCheck);
  });

  it('starts the next blob while a destination on disk flushes the one it has read whole', async () => {
    const source = new MemoryTarget();
    const layers = [
      await put(source, Buffer.from('first layer'), MediaType.ociLayerGzip),
      await put(source, Buffer.from('second layer'), MediaType.ociLayerGzip),
    ];
    const { manifest } = await putImage(source, 'amd64', layers);
    const events: string[] = [];
    // Reads each blob whole, then takes a while to flush it, as a layout's fsync does.
    class FlushingTarget extends MemoryTarget {
      readonly writesToDisk = true;
      override async push(descriptor: Descriptor, content: Readable): Promise<void> {
        await super.push(descriptor, content);
        events.push('read');
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push('flushed');
      }
    }

    await copyGraph(source, new FlushingTarget(), manifest, { concurrency: 1 });

    // Config, two layers and the manifest, each read and flushed; the second read came before the
    // first flush ended. Without `writesToDisk` the one slot would keep them in turn.
    expect(events.filter((event) => event === 'read')).toHaveLength(4);
    expect(events.indexOf('read', 1)).toBeLessThan(events.indexOf('flushed'));
  });

  it('completes an index → manifest → blobs graph with concurrency 1', async () => {
    const source = new MemoryTarget();
    const index = await wideThreeLevelGraph(source);
    const destination = new RecordingTarget(1);

    const result = await copyGraph(source, destination, index, { concurrency: 1 });

    expect(result.copied).toBe(15);
    expect(destination.maxPushing).toBe(1);
  }, 5_000);

  it('refuses a concurrency below 1 with a usage error', async () => {
    const source = new MemoryTarget();
    const index = await wideThreeLevelGraph(source);
    await expect(copyGraph(source, new MemoryTarget(), index, { concurrency: 0 })).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});

describe('copyGraph mounts, tags and reports', () => {
  it('mounts blobs where the destination can, moving only the manifests', async () => {
    const source = new MemoryTarget();
    const { index, amd64, arm64, all } = await twoPlatformIndex(source);
    const mountedDigests: string[] = [];
    class Mounting extends MemoryTarget {
      async mount(descriptor: Descriptor, from: MemoryTarget): Promise<boolean> {
        mountedDigests.push(descriptor.digest);
        await super.push(descriptor, await from.fetch(descriptor));
        return true;
      }
    }
    const destination = new Mounting();

    const result = await copyGraph(source, destination, index);

    expect(result).toMatchObject({ copied: 3, mounted: 5, skipped: 0 });
    expect(result.bytes).toBe(sizeOf([index, amd64.manifest, arm64.manifest]));
    expect(mountedDigests).toHaveLength(5);
    for (const node of all) expect(await destination.exists(node)).toBe(true);
  });

  it('uploads a blob the destination declines to mount', async () => {
    const source = new MemoryTarget();
    const { index, all } = await twoPlatformIndex(source);
    class Declining extends MemoryTarget {
      async mount(): Promise<boolean> {
        return false;
      }
    }

    const result = await copyGraph(source, new Declining(), index);

    expect(result).toMatchObject({ copied: 8, mounted: 0, bytes: sizeOf(all) });
  });

  it('tags the root only once the whole graph is at the destination', async () => {
    const source = new MemoryTarget();
    const { index, all } = await twoPlatformIndex(source);
    const presentAtTagTime: boolean[] = [];
    class Tagging extends MemoryTarget {
      override async tag(descriptor: Descriptor, reference: string): Promise<void> {
        for (const node of all) presentAtTagTime.push(await this.exists(node));
        await super.tag(descriptor, reference);
      }
    }
    const destination = new Tagging();

    await copyGraph(source, destination, index, { tags: ['v1', 'latest'] });

    expect(presentAtTagTime).toHaveLength(16);
    expect(presentAtTagTime.every(Boolean)).toBe(true);
    expect((await destination.resolve('v1')).digest).toBe(index.digest);
    expect((await destination.resolve('latest')).digest).toBe(index.digest);
  });

  it('tags a root that was already there', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    const destination = new MemoryTarget();
    await copyGraph(source, destination, index);

    await copyGraph(source, destination, index, { tags: ['again'] });

    expect((await destination.resolve('again')).digest).toBe(index.digest);
  });

  it('reports each node started before it is done, once, with bytes adding up to the sizes', async () => {
    const source = new MemoryTarget();
    const { index, all } = await twoPlatformIndex(source);
    const log: string[] = [];
    const bytesOf = new Map<string, number>();

    const result = await copyGraph(source, new MemoryTarget(), index, {
      events: {
        onStart: (descriptor) => log.push(`start ${descriptor.digest}`),
        onBytes: (descriptor, bytes) =>
          bytesOf.set(descriptor.digest, (bytesOf.get(descriptor.digest) ?? 0) + bytes),
        onDone: (descriptor, outcome) => log.push(`${outcome} ${descriptor.digest}`),
      },
    });

    for (const node of all) {
      const start = log.indexOf(`start ${node.digest}`);
      const done = log.indexOf(`copied ${node.digest}`);
      expect(start).toBeGreaterThanOrEqual(0);
      expect(done).toBeGreaterThan(start);
      expect(log.filter((line) => line.endsWith(node.digest))).toHaveLength(2);
      expect(bytesOf.get(node.digest)).toBe(node.size);
    }
    expect(log).toHaveLength(16);
    expect(result.bytes).toBe(sizeOf(all));
  });

  it('reports skipped and mounted outcomes through onDone', async () => {
    const source = new MemoryTarget();
    const { index, amd64 } = await twoPlatformIndex(source);
    const destination = new MemoryTarget();
    await seed(source, destination, [amd64.manifest]);
    const outcomes = new Map<string, string>();

    await copyGraph(source, destination, index, {
      events: { onDone: (descriptor, outcome) => outcomes.set(descriptor.digest, outcome) },
    });

    expect(outcomes.get(amd64.manifest.digest)).toBe('skipped');
    expect(outcomes.get(index.digest)).toBe('copied');
  });

  it('copies extra successors before the manifest that lists them', async () => {
    const source = new MemoryTarget();
    const { index, amd64 } = await twoPlatformIndex(source);
    const signature = await put(source, Buffer.from('signature'), MediaType.ociLayer);
    const { manifest: referrer } = await putImage(source, 'signature', [signature]);
    const destination = new RecordingTarget();

    const result = await copyGraph(source, destination, index, {
      findExtraSuccessors: async (descriptor) =>
        descriptor.digest === amd64.manifest.digest ? [referrer] : [],
    });

    expect(result.copied).toBe(11);
    expect(destination.pushed.indexOf(referrer.digest)).toBeLessThan(
      destination.pushed.indexOf(amd64.manifest.digest),
    );
    expect(await destination.exists(signature)).toBe(true);
  });
});

it('streams a blob: the destination receives the first chunk before the source sends the last', async () => {
  const source = new MemoryTarget();
  const chunks = Array.from({ length: 4 }, (_, i) => Buffer.alloc(64 * 1024, i));
  const layer = await put(source, Buffer.concat(chunks), MediaType.ociLayer);
  const log: string[] = [];
  class Chunked extends MemoryTarget {
    override async fetch(): Promise<Readable> {
      return Readable.from(
        (async function* () {
          for (const [i, chunk] of chunks.entries()) {
            log.push(`sent ${i}`);
            yield chunk;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        })(),
        { objectMode: false },
      );
    }
  }
  class Logging extends MemoryTarget {
    override async push(descriptor: Descriptor, content: Readable): Promise<void> {
      const received: Buffer[] = [];
      for await (const chunk of content) {
        log.push('received');
        received.push(chunk as Buffer);
      }
      await super.push(descriptor, Readable.from(received));
    }
  }
  const increments: number[] = [];

  await copyGraph(new Chunked(), new Logging(), layer, {
    events: { onBytes: (_descriptor, bytes) => increments.push(bytes) },
  });

  expect(log.indexOf('received')).toBeLessThan(log.indexOf(`sent ${chunks.length - 1}`));
  expect(increments).toHaveLength(chunks.length);
  expect(increments.reduce((a, b) => a + b, 0)).toBe(layer.size);
});
