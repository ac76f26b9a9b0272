import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialLookup } from '../../src/auth/index.js';
import { DigestMismatchError } from '../../src/errors.js';
import { digestOf, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { parseRepositoryName } from '../../src/ref/index.js';
import { RegistryClient } from '../../src/registry/client.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { isSameRegistry, RegistryTarget } from '../../src/targets/registry.js';
import { createTransport, type Transport } from '../../src/transport/index.js';
import type { HttpRequest } from '../../src/transport/types.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { listOf } from '../fixtures/listing.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let image: BuiltImage;
let transport: Transport;
let client: RegistryClient;
const sent: HttpRequest[] = [];

beforeAll(async () => {
  registry = await startRegistry({ auth: 'htpasswd' });
  image = await buildImageLayout({ layers: 2, layerSize: 4096, tag: 'v1' });
  await seedRegistry(registry, 'seeded/app', image, 'v1');
  transport = createTransport({ retry: { attempts: 1 } });
  const configPath = join(await tempDir('tug-config-'), 'config.json');
  client = new RegistryClient({
    transport: {
      ...transport,
      send: (request) => {
        sent.push(request);
        return transport.send(request);
      },
    },
    credentials: createCredentialLookup({
      configPath,
      env: {},
      flags: { username: registry.username, password: registry.password },
    }),
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), transport?.close()]);
});

function targetOf(name: string, host = registry.host): RegistryTarget {
  return new RegistryTarget(client.repository(parseRepositoryName(`${host}/${name}`)));
}

function describeBytes(bytes: Uint8Array, mediaType: string): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
}

/** A config, a layer and the manifest over them, as bytes with their descriptors. */
function smallImage() {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = randomBytes(2048);
  const blobs = [
    { bytes: config, descriptor: describeBytes(config, MediaType.ociConfig) },
    { bytes: layer, descriptor: describeBytes(layer, 'application/vnd.oci.image.layer.v1.tar') },
  ];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: blobs[0]?.descriptor,
      layers: [blobs[1]?.descriptor],
    }),
  );
  return { blobs, manifest, descriptor: describeBytes(manifest, MediaType.ociManifest) };
}

async function pushImage(target: RegistryTarget, built: ReturnType<typeof smallImage>): Promise<void> {
  for (const blob of built.blobs) await target.push(blob.descriptor, Readable.from([blob.bytes]));
  await target.push(built.descriptor, Readable.from([built.manifest]));
}

describe('RegistryTarget reading', () => {
  it('resolves a tag and fetches the manifest and its blobs, verified', async () => {
    const target = targetOf('seeded/app');
    const root = await target.resolve('v1');
    expect(root.digest).toBe(image.rootDigest);
    const manifestBytes = await target.fetchBytes(root);
    expect(digestOf(manifestBytes)).toBe(image.rootDigest);
    expect((await buffer(await target.fetch(root))).equals(Buffer.from(manifestBytes))).toBe(true);
    const manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as { layers: Descriptor[] };
    for (const layer of manifest.layers) {
      expect(await target.exists(layer)).toBe(true);
      expect(digestOf(await buffer(await target.fetch(layer)))).toBe(layer.digest);
    }
  });

  it('lists tags', async () => {
    expect(await listOf(targetOf('seeded/app').tags())).toEqual(['v1']);
  });
});

describe('RegistryTarget writing', () => {
  it('pushes blobs and a manifest, then tags it from the bytes it just pushed without fetching', async () => {
    const target = targetOf('written/app');
    const built = smallImage();
    await pushImage(target, built);
    expect(await target.exists(built.descriptor)).toBe(true);
    const before = sent.length;
    await target.tag(built.descriptor, 'v2');
    const tagging = sent.slice(before);
    expect(tagging.some((request) => request.method === 'GET')).toBe(false);
    expect(await target.resolve('v2')).toEqual(built.descriptor);
  });

  it('tags a manifest it did not push by fetching its bytes first', async () => {
    const built = smallImage();
    await pushImage(targetOf('tagged/app'), built);
    const fresh = targetOf('tagged/app');
    await fresh.tag(built.descriptor, 'later');
    expect(await fresh.resolve('later')).toEqual(built.descriptor);
    expect((await listOf(fresh.tags())).sort()).toEqual(['later']);
  });

  it('refuses manifest content that does not match its descriptor and pushes nothing', async () => {
    const target = targetOf('refused/app');
    const built = smallImage();
    for (const blob of built.blobs) await target.push(blob.descriptor, Readable.from([blob.bytes]));
    const other = Buffer.from(built.manifest);
    other[other.length - 2] = 0x20;
    await expect(target.push(built.descriptor, Readable.from([other]))).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    expect(await target.exists(built.descriptor)).toBe(false);
  });
});

describe('RegistryTarget mounting', () => {
  it('mounts a blob from another repository of the same registry', async () => {
    const source = targetOf('mount/from');
    const destination = targetOf('mount/to');
    const bytes = randomBytes(1024);
    const descriptor = describeBytes(bytes, 'application/octet-stream');
    await source.push(descriptor, Readable.from([bytes]));
    expect(await destination.mount(descriptor, source)).toBe(true);
    expect(await destination.exists(descriptor)).toBe(true);
  });

  it('does not try to mount from the same repository, another registry or a non-registry target', async () => {
    const destination = targetOf('mount/to');
    const descriptor = describeBytes(randomBytes(16), 'application/octet-stream');
    const before = sent.length;
    expect(await destination.mount(descriptor, targetOf('mount/to'))).toBe(false);
    expect(await destination.mount(descriptor, targetOf('mount/from', '127.0.0.1:1'))).toBe(false);
    expect(await destination.mount(descriptor, new MemoryTarget())).toBe(false);
    expect(sent.length).toBe(before);
  });
});

describe('isSameRegistry', () => {
  it('holds for two registry targets on one registry and nothing else', () => {
    expect(isSameRegistry(targetOf('a'), targetOf('b'))).toBe(true);
    expect(isSameRegistry(targetOf('a'), targetOf('a', 'other.example:5000'))).toBe(false);
    expect(isSameRegistry(targetOf('a'), new MemoryTarget())).toBe(false);
    expect(isSameRegistry(new MemoryTarget(), targetOf('a'))).toBe(false);
  });
});
