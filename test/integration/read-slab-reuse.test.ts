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
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let image: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  // Twelve layers of 3 MiB (random, so gzip leaves them that size): 36 MiB in all, more than the
  // slabs kept for reuse, so later blobs can only be read into memory earlier blobs were read into.
  image = await buildImageLayout({ layers: 12, layerSize: 3 * 1024 * 1024, tag: 'big' });
  await seedRegistry(registry, 'slabs/app', image);
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

it('reads later blobs into the memory earlier blobs were read into, and writes every blob with the bytes of its digest', async () => {
  // Which requests' body chunks began at each place in memory, as undici hands the chunks out.
  // Concurrent downloads share a slab, but at different places in it; a place used twice was reused.
  const carried = new Map<ArrayBufferLike, Map<number, Set<string>>>();
  const onChunk = (message: unknown) => {
    const { request, chunk } = message as { request: { path: string }; chunk: Uint8Array };
    const places = carried.get(chunk.buffer) ?? new Map<number, Set<string>>();
    const paths = places.get(chunk.byteOffset) ?? new Set<string>();
    paths.add(request.path);
    places.set(chunk.byteOffset, paths);
    carried.set(chunk.buffer, places);
  };
  subscribe('undici:request:bodyChunkReceived', onChunk);
  const layout = join(await tempDir('tug-slabs-'), 'layout');
  try {
    await using client = new Client({ plainHttp: [registry.host] });
    await client.copy(`${registry.host}/slabs/app:big`, `oci:${layout}:big`);
  } finally {
    unsubscribe('undici:request:bodyChunkReceived', onChunk);
  }

  const reused = [...carried.values()].flatMap((places) =>
    [...places.values()].filter((paths) => [...paths].filter((path) => path.includes('/blobs/')).length > 1),
  );
  expect(reused.length).toBeGreaterThan(0);

  const directory = join(layout, 'blobs', 'sha256');
  const written = await readdir(directory);
  expect(written.sort()).toEqual([...new Set(image.blobDigests.map((digest) => digest.slice(7)))].sort());
  for (const name of written) {
    const bytes = await readFile(join(directory, name));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(name);
  }
}, 120_000);
