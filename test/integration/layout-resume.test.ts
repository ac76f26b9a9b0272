import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let proxy: FaultProxy;
let image: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.baseUrl);
  image = await buildImageLayout({ layers: 1, layerSize: 3 * 1024 * 1024, tag: 'v1' });
  await seedRegistry(registry, 'big/app', image, 'v1');
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

describe('a blob downloaded into an OCI layout', () => {
  it('resumes from the part on disk after the copy was killed, and leaves no ingest file once complete', async () => {
    const layer = image.blobDigests[0] ?? '';
    proxy.setRules([{ method: 'GET', path: new RegExp(`/blobs/${layer}`), pauseAfterBytes: 1_000_000 }]);
    const layout = await tempDir();
    const killed = await runTug(['cp', `${proxy.host}/big/app:v1`, `oci:${layout}:v1`], {
      signal: { name: 'SIGKILL', afterMs: 2000 },
    });
    expect(killed.code).not.toBe(0);
    const part = join(layout, '.tug-ingest', `sha256-${layer.slice(7)}`);
    const kept = (await stat(part)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(1_000_000);

    proxy.setRules([]);
    proxy.hits.length = 0;
    const resumed = await runTug(['cp', `${proxy.host}/big/app:v1`, `oci:${layout}:v1`]);
    expect(resumed.code).toBe(0);
    const layerGets = proxy.hits.filter((hit) => hit.method === 'GET' && hit.path.includes(layer));
    expect(layerGets.map((hit) => hit.range)).toEqual([`bytes=${kept}-`]);
    expect(await readdir(join(layout, '.tug-ingest'))).toEqual([]);
    await expect(access(join(layout, 'blobs', 'sha256', layer.slice(7)))).resolves.toBeUndefined();
    await skopeo(['copy', `oci:${layout}:v1`, `oci:${await tempDir()}:v1`]);
  });
});
