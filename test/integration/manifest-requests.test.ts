import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client.js';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let proxy: FaultProxy;
let image: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  image = await buildImageLayout({ layers: 1, layerSize: 4096, tag: 'v1' });
  await seedRegistry(registry, 'app', image);
  proxy = await startFaultProxy(registry.baseUrl);
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** The manifest requests `work` made through the proxy, as `METHOD reference`. */
async function manifestRequests(work: () => Promise<unknown>): Promise<string[]> {
  const before = proxy.hits.length;
  await work();
  return proxy.hits
    .slice(before)
    .filter((hit) => hit.path.includes('/manifests/'))
    .map((hit) => `${hit.method} ${hit.path.split('/manifests/')[1]}`);
}

// A registry answers a GET by tag with the manifest and its digest: a copy or a read of a tag
// needs that one request, as crane and skopeo make it, where a HEAD and then a GET cost two round trips.
describe('the requests for the manifest a tag names', () => {
  it('copying a tag from a registry asks for its manifest once, by tag', async () => {
    const layout = await tempDir('tug-one-get-');
    const requests = await manifestRequests(async () => {
      const result = await runTug(['cp', `${proxy.host}/app:v1`, `oci:${layout}:v1`]);
      expect(result.code).toBe(0);
    });
    expect(requests).toEqual(['GET v1']);
  });

  it('inspecting a tag asks for its manifest once, by tag', async () => {
    const requests = await manifestRequests(async () => {
      const result = await runTug(['inspect', `${proxy.host}/app:v1`]);
      expect(result.stdout).toContain(image.rootDigest);
    });
    expect(requests).toEqual(['GET v1']);
  });

  it("the library's manifest() asks once, and copy() of a tag does too", async () => {
    await using client = new Client({ plainHttp: true });
    const read = await manifestRequests(async () => {
      const { descriptor } = await client.manifest(`${proxy.host}/app:v1`);
      expect(descriptor.digest).toBe(image.rootDigest);
    });
    expect(read).toEqual(['GET v1']);
    const layout = await tempDir('tug-one-get-library-');
    const copied = await manifestRequests(() => client.copy(`${proxy.host}/app:v1`, `oci:${layout}:v1`));
    expect(copied).toEqual(['GET v1']);
  });

  it('digest still asks with a HEAD only, which registries do not count as a pull', async () => {
    const requests = await manifestRequests(async () => {
      const result = await runTug(['digest', `${proxy.host}/app:v1`]);
      expect(result.stdout.trim()).toBe(image.rootDigest);
    });
    expect(requests).toEqual(['HEAD v1']);
  });
});
