import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyGraph,
  createCredentialLookup,
  createTransport,
  digestOf,
  MediaType,
  MemoryTarget,
  RegistryClient,
  RegistryTarget,
} from '../../src/index.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';

let registry: RegistryFixture;

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
});

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

function sockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
}

/** A small image of its own in memory: one unique layer, a config, a manifest. */
async function smallImage(
  index: number,
): Promise<{ source: MemoryTarget; root: { mediaType: string; digest: string; size: number } }> {
  const source = new MemoryTarget();
  const put = async (bytes: Buffer, mediaType: string) => {
    const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
    await source.push(descriptor, Readable.from([bytes]));
    return descriptor;
  };
  const layer = await put(Buffer.from(`layer of image ${index}`), MediaType.ociLayerGzip);
  const config = await put(
    Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', index })),
    MediaType.ociConfig,
  );
  const root = await put(
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }),
    ),
    MediaType.ociManifest,
  );
  return { source, root };
}

describe('load through the library API', () => {
  it('copies 200 small images at once to one registry, with no failure and no leaked socket or file handle', async () => {
    const images = await Promise.all(Array.from({ length: 200 }, (_, index) => smallImage(index)));
    const descriptorsBefore = await openDescriptors();
    const socketsBefore = sockets();

    const transport = createTransport();
    const client = new RegistryClient({
      transport,
      credentials: createCredentialLookup({ keychain: false, env: {} }),
    });
    const results = await Promise.allSettled(
      images.map(({ source, root }, index) =>
        copyGraph(
          source,
          new RegistryTarget(
            client.repository({ registry: registry.host, repository: `load/image-${index % 20}` }),
          ),
          root,
          {
            tags: [`v${index}`],
          },
        ),
      ),
    );
    await client.close();
    await transport.close();

    const failures = results.filter((result) => result.status === 'rejected');
    expect(failures).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sockets()).toBeLessThanOrEqual(socketsBefore);
    expect(await openDescriptors()).toBeLessThanOrEqual(descriptorsBefore);

    const flags = registryTransportFlags(registry, 'src').map((flag) => flag.replace('--src-', '--'));
    const tags = JSON.parse(
      (await skopeo(['list-tags', ...flags, `docker://${registry.host}/load/image-7`])).stdout,
    ) as { Tags: string[] };
    expect(tags.Tags).toHaveLength(10);
  });
});
