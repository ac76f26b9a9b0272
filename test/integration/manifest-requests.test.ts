import { writeFile } from 'node:fs/promises';
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

/** The manifest requests `work` made for `repository`, as `METHOD reference`. */
async function manifestRequestsTo(repository: string, work: () => Promise<unknown>): Promise<string[]> {
  const before = proxy.hits.length;
  await work();
  return proxy.hits
    .slice(before)
    .filter((hit) => hit.path.startsWith(`/v2/${repository}/manifests/`))
    .map((hit) => `${hit.method} ${hit.path.split('/manifests/')[1]}`);
}

async function digestOf(reference: string): Promise<string> {
  const result = await runTug(['digest', reference]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

// A PUT by tag stores the manifest under its digest as well: skopeo and oras-go put a copy's
// root once, by its tag, where a PUT by digest and then one by tag cost two round trips.
describe('the requests that write the root manifest of a copy into a registry', () => {
  it('puts it once, by its tag, after checking it is not there', async () => {
    const requests = await manifestRequestsTo('by-tag', async () => {
      const result = await runTug(['cp', `${proxy.host}/app:v1`, `${proxy.host}/by-tag:v2`]);
      expect(result.code, result.stderr).toBe(0);
    });
    expect(requests).toEqual([`HEAD ${image.rootDigest}`, 'PUT v2']);
    expect(await digestOf(`${registry.host}/by-tag:v2`)).toBe(image.rootDigest);
    expect(await digestOf(`${registry.host}/by-tag@${image.rootDigest}`)).toBe(image.rootDigest);
  });

  it('puts it by its first tag and then by each other tag', async () => {
    const requests = await manifestRequestsTo('by-tags', async () => {
      const result = await runTug(['cp', `${proxy.host}/app:v1`, `${proxy.host}/by-tags:a,b`]);
      expect(result.code, result.stderr).toBe(0);
    });
    expect(requests).toEqual([`HEAD ${image.rootDigest}`, 'PUT a', 'PUT b']);
    expect(await digestOf(`${registry.host}/by-tags:b`)).toBe(image.rootDigest);
  });

  it('tags a root the registry already holds without putting it by digest', async () => {
    const result = await runTug(['cp', `${proxy.host}/app:v1`, `${proxy.host}/held:v1`]);
    expect(result.code, result.stderr).toBe(0);
    const requests = await manifestRequestsTo('held', async () => {
      const again = await runTug(['cp', `${proxy.host}/app:v1`, `${proxy.host}/held:v2`]);
      expect(again.code, again.stderr).toBe(0);
    });
    // Not pushed by this process, the root's bytes are read from the registry for the tag.
    expect(requests).toEqual([`HEAD ${image.rootDigest}`, `GET ${image.rootDigest}`, 'PUT v2']);
  });

  it('puts the digest first where digest tags come along, and the tag last', async () => {
    const requests = await manifestRequestsTo('with-digest-tags', async () => {
      const result = await runTug([
        'cp',
        '--digest-tags',
        `${proxy.host}/app:v1`,
        `${proxy.host}/with-digest-tags:v2`,
      ]);
      expect(result.code, result.stderr).toBe(0);
    });
    expect(requests).toEqual([`HEAD ${image.rootDigest}`, `PUT ${image.rootDigest}`, 'PUT v2']);
  });

  it('does the same for a push and for the library', async () => {
    const work = await tempDir('tug-push-by-tag-');
    const file = `${work}/notes.txt`;
    await writeFile(file, 'notes');
    const pushed = await manifestRequestsTo('pushed', async () => {
      const result = await runTug(['push', `${proxy.host}/pushed:v1`, 'notes.txt'], { cwd: work });
      expect(result.code, result.stderr).toBe(0);
    });
    expect(pushed).toHaveLength(2);
    expect(pushed[0]).toMatch(/^HEAD sha256:/);
    expect(pushed[1]).toBe('PUT v1');

    await using client = new Client({ plainHttp: true });
    const copied = await manifestRequestsTo('library', () =>
      client.copy(`${proxy.host}/app:v1`, `${proxy.host}/library:v3`),
    );
    expect(copied).toEqual([`HEAD ${image.rootDigest}`, 'PUT v3']);
  });
});
