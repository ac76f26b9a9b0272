import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'tug';
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
