import { access, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialLookup } from '../../src/auth/index.js';
import { DigestMismatchError, TransportError } from '../../src/errors.js';
import { readVerified } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { parseRepositoryName } from '../../src/ref/index.js';
import { RegistryClient } from '../../src/registry/client.js';
import type { Repository } from '../../src/registry/repository.js';
import { RegistryTarget } from '../../src/targets/registry.js';
import { createTransport, type Transport } from '../../src/transport/index.js';
import type { Timeouts } from '../../src/transport/types.js';
import { runTug } from '../fixtures/cli.js';
import { type HostileRegistry, sha256, startHostileRegistry } from '../fixtures/hostile-registry.js';
import { tempDir } from '../fixtures/temp.js';

let hostile: HostileRegistry;
const transports: Transport[] = [];

beforeAll(async () => {
  hostile = await startHostileRegistry();
});

afterEach(() => {
  hostile.misbehave({});
});

afterAll(async () => {
  await Promise.all([hostile?.stop(), ...transports.map((transport) => transport.close())]);
});

async function repository(timeouts: Partial<Timeouts> = {}): Promise<Repository> {
  const transport = createTransport({ retry: { attempts: 1 }, timeouts });
  transports.push(transport);
  const configPath = join(await tempDir('tug-config-'), 'config.json');
  const client = new RegistryClient({
    transport,
    credentials: await createCredentialLookup({ configPath, env: {} }),
  });
  return client.repository(parseRepositoryName(`${hostile.host}/app`));
}

function layer(): Descriptor {
  return {
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    digest: hostile.image.layerDigest,
    size: hostile.image.layer.length,
  };
}

function blobRequests(): number {
  return hostile.requests.filter(
    (hit) => hit.method === 'GET' && hit.path.endsWith(hostile.image.layerDigest),
  ).length;
}

/** No line of a Node stack trace: `    at fn (file:line)`. */
const stackLine = /^\s+at .+[:(]/m;

describe('a blob body that departs from its descriptor', () => {
  it('is "size exceeds descriptor" when Content-Length is larger than the size, not a crash', async () => {
    hostile.misbehave({ blobExtraBytes: 10 });
    const repo = await repository();
    await expect(repo.fetchBlob(layer()).then((stream) => readVerified(stream, layer()))).rejects.toThrow(
      /size exceeds descriptor/,
    );
  });

  it('is "size exceeds descriptor" from the CLI: exit 1 and no stack trace', async () => {
    hostile.misbehave({ blobExtraBytes: 10 });
    const out = join(await tempDir('tug-layout-'), 'layout');
    const result = await runTug(['cp', `${hostile.host}/app:v1`, `oci:${out}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/size exceeds descriptor/);
    expect(result.stderr).not.toMatch(stackLine);
  });
});

describe('reconnects and slow bodies are bounded', () => {
  it('gives up on a server that sends one byte per connection after a bounded number of requests', async () => {
    hostile.misbehave({ blobResetAfter: 1 });
    const before = blobRequests();
    const repo = await repository();
    await expect(readVerified(await repo.fetchBlob(layer()), layer())).rejects.toThrow(TransportError);
    // The bound is MAX_BLOB_RECONNECTS (10) reconnects after the first request.
    expect(blobRequests() - before).toBeLessThanOrEqual(11);
  });

  it('still resumes a blob cut a few times, and gets it whole', async () => {
    hostile.misbehave({ blobResetAfter: 1500 });
    const repo = await repository();
    const bytes = await readVerified(await repo.fetchBlob(layer()), layer());
    expect(sha256(bytes)).toBe(hostile.image.layerDigest);
  });

  it('fails a body that trickles one byte at a time, though no pause reaches the idle timeout', async () => {
    hostile.misbehave({ blobByteIntervalMs: 200 });
    const repo = await repository({ bodyIdleMs: 1000 });
    const started = Date.now();
    await expect(readVerified(await repo.fetchBlob(layer()), layer())).rejects.toThrow(/sent .* too slowly/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('fails a trickling body from the CLI after --timeout, naming the rate', async () => {
    hostile.misbehave({ blobByteIntervalMs: 200 });
    const out = join(await tempDir('tug-layout-'), 'layout');
    const result = await runTug([
      '--timeout',
      '1',
      '--retries',
      '1',
      'cp',
      `${hostile.host}/app:v1`,
      `oci:${out}`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/too slowly/);
    expect(result.stderr).not.toMatch(stackLine);
  });

  it('fails at once on a 503 whose Retry-After is over the ceiling, naming the wait', async () => {
    hostile.misbehave({ unavailableRetryAfter: '86400' });
    const started = Date.now();
    const result = await runTug(['digest', `${hostile.host}/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unavailable.*retry after 86400 s/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('a destination that claims a blob', () => {
  it('uploads a blob whose HEAD answers 200 with another size', async () => {
    const source = await tempDir('tug-layout-');
    const copied = await runTug(['cp', `${hostile.host}/app:v1`, `oci:${join(source, 'layout')}`]);
    expect(copied.code, copied.stderr).toBe(0);
    hostile.misbehave({ blobHeadLength: 1 });
    const repo = await repository();
    expect(await new RegistryTarget(repo).exists(layer())).toBe(false);
    const result = await runTug(['cp', `oci:${join(source, 'layout')}:v1`, `${hostile.host}/mirror:v1`]);
    expect(result.code, result.stderr).toBe(0);
    expect(hostile.uploaded.get(hostile.image.layerDigest)?.equals(hostile.image.layer)).toBe(true);
  });
});

describe('manifests that are not what was asked for', () => {
  const other = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }),
  );

  it('refuses a manifest over the cap sent with no Content-Length, while reading', async () => {
    hostile.misbehave({ manifestChunked: true, manifestBody: Buffer.alloc(5 * 1024 * 1024, 0x20) });
    const repo = await repository();
    await expect(repo.fetchManifest('v1')).rejects.toThrow(/manifest too large/);
  });

  it('refuses a manifest by digest whose bytes hash to another digest', async () => {
    hostile.misbehave({ manifestBody: other, digestHeader: sha256(other) });
    const repo = await repository();
    await expect(repo.fetchManifest(hostile.image.manifestDigest)).rejects.toThrow(DigestMismatchError);
  });

  it('refuses, when resolving a digest, a GET fallback (HEAD without digest) that brings other bytes', async () => {
    hostile.misbehave({ headWithoutDigest: true, manifestBody: other, digestHeader: sha256(other) });
    const repo = await repository();
    await expect(repo.resolve(hostile.image.manifestDigest)).rejects.toThrow(DigestMismatchError);
  });

  it('refuses a copy of host/app@A that would receive B, through the CLI', async () => {
    hostile.misbehave({ headWithoutDigest: true, manifestBody: other, digestHeader: sha256(other) });
    const out = join(await tempDir('tug-layout-'), 'layout');
    const result = await runTug(['cp', `${hostile.host}/app@${hostile.image.manifestDigest}`, `oci:${out}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/digest/);
    await expect(access(join(out, 'index.json'))).rejects.toThrow();
  });

  it('refuses a Docker-Content-Digest header that disagrees with the body, by tag', async () => {
    hostile.misbehave({ digestHeader: sha256(other) });
    const repo = await repository();
    await expect(repo.fetchManifest('v1')).rejects.toThrow(DigestMismatchError);
  });

  it('refuses a HEAD by digest that answers another digest', async () => {
    hostile.misbehave({ digestHeader: sha256(other) });
    const repo = await repository();
    await expect(repo.resolve(hostile.image.manifestDigest)).rejects.toThrow(DigestMismatchError);
  });
});

describe('an oci: destination with a symlink inside', () => {
  for (const component of ['blobs', 'blobs/sha256', 'index.json', 'oci-layout']) {
    it(`refuses a layout whose ${component} is a symlink, creating nothing through it`, async () => {
      const base = await tempDir('tug-layout-');
      const layout = join(base, 'layout');
      const outside = join(base, 'outside');
      await mkdir(outside);
      const first = await runTug(['cp', `${hostile.host}/app:v1`, `oci:${layout}`]);
      expect(first.code, first.stderr).toBe(0);
      await rm(join(layout, component), { recursive: true });
      await symlink(outside, join(layout, component));
      const result = await runTug(['cp', `${hostile.host}/app:v1`, `oci:${layout}:v2`]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/symbolic link/);
      expect(await readdir(outside)).toEqual([]);
    });
  }
});
