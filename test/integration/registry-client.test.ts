import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CredentialLookup, createCredentialLookup } from '../../src/auth/index.js';
import { AuthError, NotFoundError, SizeLimitError } from '../../src/errors.js';
import { digestOf, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { parseRepositoryName } from '../../src/ref/index.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/client.js';
import type { Repository } from '../../src/registry/repository.js';
import { createTransport, type Transport } from '../../src/transport/index.js';
import type { HttpRequest, TransportOptions } from '../../src/transport/types.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { listOf } from '../fixtures/listing.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

let open: RegistryFixture;
let image: BuiltImage;
const transports: Transport[] = [];

beforeAll(async () => {
  open = await startRegistry();
  image = await buildImageLayout({
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    layers: 1,
    layerSize: 2048,
    tag: 'v1',
  });
  await Promise.all([
    seedRegistry(open, 'seeded/app', image, 'v1'),
    seedRegistry(open, 'seeded/other', image, 'v1'),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([open?.stop(), ...transports.map((transport) => transport.close())]);
});

/** Credentials from the flags only, or none: the user's docker config is never read. */
async function credentialsFor(registry: RegistryFixture, withUser = true): Promise<CredentialLookup> {
  const configPath = join(await tempDir('tug-config-'), 'config.json');
  const flags = withUser ? { username: registry.username, password: registry.password } : undefined;
  return createCredentialLookup({ configPath, env: {}, ...(flags ? { flags } : {}) });
}

/** A client whose every request is also recorded, so tests can see what went over the wire. */
async function clientFor(
  registry: RegistryFixture,
  options: Partial<RegistryClientOptions> & { transport?: TransportOptions; anonymous?: boolean } = {},
) {
  const transport = createTransport({
    retry: { attempts: 1 },
    caFile: registry.caFile,
    ...options.transport,
  });
  transports.push(transport);
  const sent: HttpRequest[] = [];
  const client = new RegistryClient({
    ...options,
    transport: {
      ...transport,
      send: (request) => {
        sent.push(request);
        return transport.send(request);
      },
    },
    credentials: await credentialsFor(registry, options.anonymous !== true),
  });
  return { client, sent };
}

function repositoryOf(client: RegistryClient, registry: RegistryFixture, name: string): Repository {
  return client.repository(parseRepositoryName(`${registry.host}/${name}`));
}

function blobOf(bytes: Uint8Array, mediaType = 'application/octet-stream'): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
}

/** Pushes a config and one layer, then returns a manifest over them (not yet pushed). */
async function smallImage(repository: Repository, annotations: Record<string, string> = {}) {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = randomBytes(512);
  const configDescriptor = blobOf(config, MediaType.ociConfig);
  const layerDescriptor = blobOf(layer, 'application/vnd.oci.image.layer.v1.tar');
  await repository.pushBlob(configDescriptor, config);
  await repository.pushBlob(layerDescriptor, layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: [layerDescriptor],
      annotations,
    }),
  );
  return { manifest, layerDescriptor };
}

function skopeoInspectFlags(registry: RegistryFixture): string[] {
  const flags = registry.tls ? ['--cert-dir', registry.caDir ?? ''] : ['--tls-verify=false'];
  if (registry.auth !== 'none') flags.push('--creds', `${registry.username}:${registry.password}`);
  return flags;
}

describe('reading manifests', () => {
  it('resolves and fetches a two-platform index with the digest and bytes skopeo sees', async () => {
    const { client } = await clientFor(open, { anonymous: true });
    const repository = repositoryOf(client, open, 'seeded/app');
    const raw = await skopeo([
      'inspect',
      '--raw',
      ...skopeoInspectFlags(open),
      `docker://${open.host}/seeded/app:v1`,
    ]);
    const resolved = await repository.resolve('v1');
    expect(resolved).toEqual({
      mediaType: image.rootMediaType,
      digest: image.rootDigest,
      size: raw.stdoutBytes.byteLength,
    });
    expect(resolved.digest).toBe(digestOf(raw.stdoutBytes));
    const byTag = await repository.fetchManifest('v1');
    expect(Buffer.from(byTag.bytes).equals(raw.stdoutBytes)).toBe(true);
    const byDescriptor = await repository.fetchManifest(resolved);
    expect(byDescriptor.descriptor).toEqual(resolved);
    expect(await repository.resolve(image.rootDigest)).toEqual(resolved);
  });

  it('says whether manifests and blobs exist, and not when the registry holds another size', async () => {
    const { client } = await clientFor(open, { anonymous: true });
    const repository = repositoryOf(client, open, 'seeded/app');
    const sizeOf = async (digest: string) =>
      (await stat(join(image.layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)))).size;
    const child = image.manifestDigests[0] ?? '';
    const blob = image.blobDigests[0] ?? '';
    const missing = `sha256:${'0'.repeat(64)}`;
    const manifest = { mediaType: MediaType.ociManifest, digest: child, size: await sizeOf(child) };
    const layer = { mediaType: 'application/octet-stream', digest: blob, size: await sizeOf(blob) };
    expect(await repository.exists(manifest)).toBe(true);
    expect(await repository.exists(layer)).toBe(true);
    expect(await repository.exists({ ...manifest, size: manifest.size + 1 })).toBe(false);
    expect(await repository.exists({ ...layer, size: layer.size - 1 })).toBe(false);
    expect(await repository.exists({ mediaType: 'application/octet-stream', digest: missing, size: 1 })).toBe(
      false,
    );
  });

  it('reports a missing tag and a missing repository as NotFoundError naming them', async () => {
    const { client } = await clientFor(open, { anonymous: true });
    const missingTag = repositoryOf(client, open, 'seeded/app').resolve('nope');
    await expect(missingTag).rejects.toThrow(
      new NotFoundError(`manifest not found: ${open.host}/seeded/app:nope`),
    );
    const missingRepository = listOf(repositoryOf(client, open, 'nothing/here').tags());
    await expect(missingRepository).rejects.toThrow(
      new NotFoundError(`repository not found: ${open.host}/nothing/here`),
    );
  });

  it('stops reading a manifest over the cap with a size error', async () => {
    const writer = repositoryOf((await clientFor(open)).client, open, 'big-manifest');
    const { manifest } = await smallImage(writer, { padding: 'x'.repeat(100_000) });
    await writer.pushManifest('v1', manifest, MediaType.ociManifest);
    const { client } = await clientFor(open, { maxManifestBytes: 64 * 1024 });
    const reading = repositoryOf(client, open, 'big-manifest').fetchManifest('v1');
    await expect(reading).rejects.toBeInstanceOf(SizeLimitError);
    await expect(reading).rejects.toThrow(/manifest too large: .*big-manifest:v1 is over 65536 bytes/);
  });
});

describe('listing', () => {
  // distribution 2.8 answers the whole list whatever `n` says: the full first page makes the
  // client ask again with last=, and the repeated answer must not list a tag twice.
  it('lists 150 tags with a page size of 20, each once, when the registry ignores n', async () => {
    const { client, sent } = await clientFor(open, { pageSize: 20 });
    const repository = repositoryOf(client, open, 'many-tags');
    const { manifest } = await smallImage(repository);
    const tags = Array.from({ length: 150 }, (_, index) => `t${String(index).padStart(3, '0')}`);
    for (const tag of tags) await repository.pushManifest(tag, manifest, MediaType.ociManifest);
    const listed = await listOf(repository.tags());
    expect(listed).toHaveLength(150);
    expect([...listed].sort()).toEqual(tags);
    const pages = sent.filter((request) => request.url.pathname.endsWith('/tags/list'));
    expect(pages.every((request) => request.url.searchParams.get('n') === '20')).toBe(true);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.length).toBeLessThan(10);
  }, 60_000);

  it('lists the seeded repositories in the catalog, page by page', async () => {
    const { client, sent } = await clientFor(open, { pageSize: 1 });
    const repositories = await listOf(client.catalog(open.host));
    expect(repositories).toEqual(expect.arrayContaining(['seeded/app', 'seeded/other']));
    expect(new Set(repositories).size).toBe(repositories.length);
    expect(sent.filter((request) => request.url.pathname === '/v2/_catalog').length).toBeGreaterThan(2);
  });
});

describe('blobs', () => {
  it('streams back exactly the blob that was pushed', async () => {
    const { client } = await clientFor(open);
    const repository = repositoryOf(client, open, 'blobs/small');
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const descriptor = blobOf(bytes);
    await repository.pushBlob(descriptor, {
      kind: 'replayable',
      open: () => Readable.from([bytes]),
      length: bytes.byteLength,
    });
    expect(Buffer.from(await buffer(await repository.fetchBlob(descriptor))).equals(bytes)).toBe(true);
  });

  it('uploads a 40 MiB blob in chunks that arrive intact', async () => {
    const chunkSize = 4 * 1024 * 1024;
    const { client, sent } = await clientFor(open, { chunkSize, monolithicUploadMax: 8 * 1024 * 1024 });
    const repository = repositoryOf(client, open, 'blobs/large');
    const bytes = randomBytes(40 * 1024 * 1024);
    const descriptor = blobOf(bytes);
    // Pieces of an odd size, so chunk boundaries fall inside them.
    const pieceSize = 1_000_003;
    const pieces = Array.from({ length: Math.ceil(bytes.byteLength / pieceSize) }, (_, index) =>
      bytes.subarray(index * pieceSize, (index + 1) * pieceSize),
    );
    await repository.pushBlob(descriptor, {
      kind: 'stream',
      stream: Readable.from(pieces),
      length: bytes.byteLength,
    });
    expect(sent.filter((request) => request.method === 'PATCH')).toHaveLength(10);
    // Read back by plain HTTP, without tug's client.
    const response = await fetch(`${open.baseUrl}/v2/blobs/large/blobs/${descriptor.digest}`);
    const stored = Buffer.from(await response.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(stored).digest('hex')}`).toBe(descriptor.digest);
  }, 60_000);

  it('mounts a blob from another repository of the registry', async () => {
    const { client } = await clientFor(open);
    const source = repositoryOf(client, open, 'mount/source');
    const target = repositoryOf(client, open, 'mount/target');
    const bytes = randomBytes(4096);
    const descriptor = blobOf(bytes);
    await source.pushBlob(descriptor, bytes);
    expect(await target.exists(descriptor)).toBe(false);
    expect(await target.mountBlob(descriptor, 'mount/source')).toBe(true);
    expect(await target.exists(descriptor)).toBe(true);
  });

  it('declines a mount of a blob the source does not hold, and cancels the session it was given', async () => {
    const { client, sent } = await clientFor(open);
    const target = repositoryOf(client, open, 'mount/target');
    const absent = blobOf(randomBytes(64));
    expect(await target.mountBlob(absent, 'mount/source')).toBe(false);
    expect(sent.at(-1)?.method).toBe('DELETE');
    expect(sent.at(-1)?.url.pathname).toMatch(/^\/v2\/mount\/target\/blobs\/uploads\/.+/);
  });

  it('deletes a blob', async () => {
    const { client } = await clientFor(open);
    const repository = repositoryOf(client, open, 'blobs/deleted');
    const bytes = randomBytes(100);
    const descriptor = blobOf(bytes);
    await repository.pushBlob(descriptor, bytes);
    await repository.deleteBlob(descriptor.digest);
    expect(await repository.exists(descriptor)).toBe(false);
  });
});

describe('writing manifests', () => {
  it('deletes a manifest, after which resolving it is not found', async () => {
    const { client } = await clientFor(open);
    const repository = repositoryOf(client, open, 'deleted/app');
    const { manifest } = await smallImage(repository);
    const pushed = await repository.pushManifest('v1', manifest, MediaType.ociManifest);
    expect(await repository.resolve('v1')).toEqual(pushed.descriptor);
    await repository.deleteManifest(pushed.descriptor.digest);
    await expect(repository.resolve('v1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(repository.resolve(pushed.descriptor.digest)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a 5 MiB manifest before sending anything', async () => {
    const { client, sent } = await clientFor(open);
    const repository = repositoryOf(client, open, 'huge/app');
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, padding: 'x'.repeat(5 * 1024 * 1024) }));
    await expect(repository.pushManifest('v1', manifest, MediaType.ociManifest)).rejects.toThrow(
      /manifest too large: \d+ bytes, over the 4 MiB limit/,
    );
    expect(sent).toHaveLength(0);
  });
});

describe('authentication and TLS', () => {
  let basic: RegistryFixture;
  let token: RegistryFixture;

  beforeAll(async () => {
    [basic, token] = await Promise.all([
      startRegistry({ auth: 'htpasswd', tls: true }),
      startRegistry({ auth: 'token' }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([basic?.stop(), token?.stop()]);
  });

  for (const mode of ['htpasswd over TLS', 'token'] as const) {
    it(`pushes, tags, lists and reads back with the valid user (${mode})`, async () => {
      const registry = mode === 'token' ? token : basic;
      const { client } = await clientFor(registry);
      await client.ping(registry.host);
      await client.verifyCredentials(registry.host);
      const repository = repositoryOf(client, registry, 'team/app');
      const { manifest } = await smallImage(repository);
      const pushed = await repository.pushManifest('v1', manifest, MediaType.ociManifest);
      expect(await repository.resolve('v1')).toEqual(pushed.descriptor);
      expect(Buffer.from((await repository.fetchManifest('v1')).bytes).equals(manifest)).toBe(true);
      expect(await listOf(repository.tags())).toEqual(['v1']);
      expect(await listOf(client.catalog(registry.host))).toContain('team/app');
    });
  }

  it('answers an anonymous read of a private repository with AuthError and the login hint', async () => {
    const { client } = await clientFor(basic, { anonymous: true });
    const reading = repositoryOf(client, basic, 'team/app').resolve('v1');
    await expect(reading).rejects.toBeInstanceOf(AuthError);
    await expect(reading).rejects.toMatchObject({ hint: expect.stringContaining('tug login') });
  });

  it('refuses the TLS registry when its CA is not trusted', async () => {
    const transport = createTransport({ retry: { attempts: 1 } });
    transports.push(transport);
    const client = new RegistryClient({ transport, credentials: await credentialsFor(basic) });
    await expect(client.ping(basic.host)).rejects.toThrow(/certificate/);
  });
});
