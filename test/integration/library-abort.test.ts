import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, type Descriptor, isTugError } from 'tug';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { listOf } from '../fixtures/listing.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let proxy: FaultProxy;
let image: BuiltImage;
let files: string;
let layer: Descriptor;

/** Longer than any test: a stalled request is answered only once the test is long over. */
const STALL_MS = 60_000;
/** Forwarded bytes before a download holds still. */
const PAUSE_AFTER = 100_000;

beforeAll(async () => {
  registry = await startRegistry();
  image = await buildImageLayout({ layers: 2, layerSize: 1024 * 1024, tag: 'v1' });
  await seedRegistry(registry, 'app', image);
  files = await tempDir('tug-abort-');
  await writeFile(join(files, 'payload.bin'), randomBytes(1024 * 1024));
  await using client = new Client({ plainHttp: [registry.host], credentials: async () => undefined });
  await client.push(`${registry.host}/files:v1`, [
    { path: join(files, 'payload.bin'), title: 'payload.bin' },
  ]);
  const { manifest } = await client.manifest(`${registry.host}/app:v1`);
  if (!('layers' in manifest) || !manifest.layers[0]) throw new Error('the test image has no layer');
  layer = manifest.layers[0];
  proxy = await startFaultProxy(registry.baseUrl);
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

const stall = (method: string, path: RegExp): FaultRule => ({ method, path, stallMs: STALL_MS });
const pause = (path: RegExp): FaultRule => ({ method: 'GET', path, pauseAfterBytes: PAUSE_AFTER });

interface Row {
  method: string;
  call: (client: Client, signal: AbortSignal) => Promise<unknown>;
  /** What the proxy holds: the request in flight when the signal aborts. */
  rule: FaultRule;
}

const at = (path: string) => `${proxy.host}/${path}`;
const rows: Row[] = [
  {
    method: 'copy',
    call: async (client, signal) => client.copy(at('app:v1'), `oci:${await tempDir()}:v1`, { signal }),
    rule: pause(/\/blobs\/sha256/),
  },
  {
    method: 'resolve',
    call: (client, signal) => client.resolve(at('app:v1'), { signal }),
    rule: stall('HEAD', /manifests/),
  },
  {
    method: 'manifest',
    call: (client, signal) => client.manifest(at('app:v1'), { signal }),
    rule: stall('GET', /manifests/),
  },
  {
    method: 'blob',
    call: (client, signal) => client.blob(at('app'), layer, { signal }),
    rule: pause(/\/blobs\/sha256/),
  },
  {
    method: 'tags',
    call: (client, signal) => listOf(client.tags(at('app'), { signal })),
    rule: stall('GET', /tags\/list/),
  },
  {
    method: 'push',
    call: (client, signal) =>
      client.push(at('pushed:v1'), [{ path: join(files, 'payload.bin'), title: 'payload.bin' }], { signal }),
    rule: stall('PUT', /blobs\/uploads/),
  },
  {
    method: 'pull',
    call: async (client, signal) => client.pull(at('files:v1'), { output: await tempDir(), signal }),
    rule: pause(/\/blobs\/sha256/),
  },
  {
    method: 'attach',
    call: (client, signal) =>
      client.attach(at('app:v1'), [{ path: join(files, 'payload.bin'), title: 'payload.bin' }], {
        artifactType: 'application/x-test',
        signal,
      }),
    rule: stall('PUT', /blobs\/uploads/),
  },
  {
    method: 'referrers',
    call: (client, signal) => listOf(client.referrers(at('app:v1'), { signal })),
    rule: stall('GET', /referrers/),
  },
  {
    method: 'tag',
    call: (client, signal) => client.tag(at('app:v1'), ['extra'], { signal }),
    rule: stall('PUT', /manifests/),
  },
  {
    method: 'delete',
    call: (client, signal) => client.delete(at(`app@${image.rootDigest}`), { signal }),
    rule: stall('DELETE', /manifests/),
  },
];

describe('Client with a signal that aborts while a request is in flight', () => {
  it.each(rows)('$method rejects with ABORTED within half a second', async ({ call, rule }) => {
    proxy.setRules([rule]);
    const before = proxy.hits.length;
    const held = () =>
      proxy.hits.slice(before).some((hit) => hit.method === rule.method && rule.path.test(hit.path));
    await using client = new Client({ plainHttp: [proxy.host], credentials: async () => undefined });
    const controller = new AbortController();
    const settled = call(client, controller.signal).then(
      () => undefined,
      (error: unknown) => error,
    );
    for (let waited = 0; !held() && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(held()).toBe(true);
    // A paused download has sent its first bytes by now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const abortedAt = Date.now();
    controller.abort();
    const error = await settled;
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(isTugError(error, 'ABORTED')).toBe(true);
  });
});
