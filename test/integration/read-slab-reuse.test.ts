import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Client,
  createCredentialLookup,
  createTransport,
  type Descriptor,
  openOciLayout,
  parseReference,
  RegistryClient,
  type RegistryReference,
  RegistryTarget,
} from 'tug';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let image: BuiltImage;
let large: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  // Twelve layers of 3 MiB (random, so gzip leaves them that size): 36 MiB in all, more than the
  // slabs kept for reuse, so later blobs can only be read into memory earlier blobs were read into.
  image = await buildImageLayout({ layers: 12, layerSize: 3 * 1024 * 1024, tag: 'big' });
  await seedRegistry(registry, 'slabs/app', image);
  // Layers larger than loopback's socket buffers hold, so an upload that stalls keeps chunks queued.
  large = await buildImageLayout({ layers: 4, layerSize: 24 * 1024 * 1024, tag: 'large' });
  await seedRegistry(registry, 'slabs/large', large);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

// First in the file, while no slab has been set aside: a slab the layout wrongly gave back would be
// the first one used again.
it('never reuses memory a caller can still read: a blob read alongside its push into a layout keeps its bytes', async () => {
  const transport = createTransport({ plainHttp: true });
  const credentials = await createCredentialLookup({
    configPath: join(await tempDir('tug-slabs-config-'), 'config.json'),
    env: {},
  });
  const reference = parseReference(`${registry.host}/slabs/app:big`) as RegistryReference;
  const source = new RegistryTarget(new RegistryClient({ transport, credentials }).repository(reference));
  const { bytes } = await source.fetchReference('big');
  const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as { layers: Descriptor[] };
  const layer = manifest.layers[0];
  if (!layer) throw new Error('the image has no layer');

  // The caller reads the blob's chunks as they pass and keeps them, while a layout writes them
  // (paused until the layout reads too, so both see every chunk).
  const kept: Buffer[] = [];
  const content = await source.fetch(layer);
  content.on('data', (chunk: Buffer) => kept.push(chunk));
  content.pause();
  const layout = await openOciLayout(join(await tempDir('tug-slabs-teed-'), 'layout'), { create: true });
  await layout.push(layer, content);

  // Then a copy that reuses its slabs: had the layout said it was done with the caller's chunks,
  // their memory would now hold other blobs.
  await using client = new Client({ plainHttp: [registry.host] });
  await client.copy(
    `${registry.host}/slabs/app:big`,
    `oci:${join(await tempDir('tug-slabs-'), 'again')}:big`,
  );
  await transport.close();

  expect(createHash('sha256').update(Buffer.concat(kept)).digest('hex')).toBe(layer.digest.slice(7));
}, 120_000);

/**
 * Runs `work`, and counts the places in memory where body chunks of more than one blob began, as
 * undici handed the chunks out. Concurrent downloads share a slab, but at different places in it;
 * a place used twice was reused.
 */
async function placesReused(work: () => Promise<void>): Promise<number> {
  const carried = new Map<ArrayBufferLike, Map<number, Set<string>>>();
  const onChunk = (message: unknown) => {
    const { request, chunk } = message as { request: { path: string }; chunk: Uint8Array };
    // An empty chunk holds no memory: undici hands every one out as the same empty buffer.
    if (chunk.byteLength === 0) return;
    const places = carried.get(chunk.buffer) ?? new Map<number, Set<string>>();
    const paths = places.get(chunk.byteOffset) ?? new Set<string>();
    paths.add(request.path);
    places.set(chunk.byteOffset, paths);
    carried.set(chunk.buffer, places);
  };
  subscribe('undici:request:bodyChunkReceived', onChunk);
  try {
    await work();
  } finally {
    unsubscribe('undici:request:bodyChunkReceived', onChunk);
  }
  return [...carried.values()].flatMap((places) =>
    [...places.values()].filter((paths) => [...paths].filter((path) => path.includes('/blobs/')).length > 1),
  ).length;
}

/** The layout holds every blob of `built` and nothing else, each with the bytes of its digest. */
async function expectEveryBlobOf(built: BuiltImage, layout: string): Promise<void> {
  const directory = join(layout, 'blobs', 'sha256');
  const written = await readdir(directory);
  expect(written.sort()).toEqual([...new Set(built.blobDigests.map((digest) => digest.slice(7)))].sort());
  for (const name of written) {
    const bytes = await readFile(join(directory, name));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(name);
  }
}

it('reads later blobs into the memory earlier blobs were read into, and writes every blob with the bytes of its digest', async () => {
  const layout = join(await tempDir('tug-slabs-'), 'layout');
  const reused = await placesReused(async () => {
    await using client = new Client({ plainHttp: [registry.host] });
    await client.copy(`${registry.host}/slabs/app:big`, `oci:${layout}:big`);
  });
  expect(reused).toBeGreaterThan(0);

  await expectEveryBlobOf(image, layout);
}, 120_000);

describe('a copy between registries', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    // Another host in front of the same registry, so the copy uploads rather than mounts.
    proxy = await startFaultProxy(registry.baseUrl);
  });

  afterAll(async () => {
    await proxy?.stop();
  });

  it('reads later blobs into memory its uploads have sent, never into memory a stalled upload still holds', async () => {
    // The first upload waits a second before the far side reads it: its socket keeps the chunks
    // the kernel has no room for, while the other blobs go on downloading into spare slabs.
    proxy.setRules([{ method: 'PUT', path: /\/blobs\/uploads\//, stallMs: 1000, times: 1 }]);
    const destination = `${proxy.host}/slabs/copied:large`;
    const reused = await placesReused(async () => {
      await using client = new Client({ plainHttp: [registry.host, proxy.host] });
      await client.copy(`${registry.host}/slabs/large:large`, destination);
    });
    expect(reused).toBeGreaterThan(0);

    // The registry checked each upload against its digest; reading every blob back checks it again.
    const layout = join(await tempDir('tug-slabs-'), 'copied');
    await using client = new Client({ plainHttp: [proxy.host] });
    await client.copy(destination, `oci:${layout}:large`);
    await expectEveryBlobOf(large, layout);
  }, 120_000);
});
