import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

let open: RegistryFixture;
let basic: RegistryFixture;
let token: RegistryFixture;
let proxy: FaultProxy;
let image: BuiltImage;

beforeAll(async () => {
  [open, basic, token] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: 'htpasswd' }),
    startRegistry({ auth: 'token' }),
  ]);
  image = await buildImageLayout({ layers: 2, layerSize: 1024 * 1024, tag: 'v1' });
  await Promise.all([
    seedRegistry(open, 'app', image),
    seedRegistry(basic, 'app', image),
    seedRegistry(token, 'private/app', image),
  ]);
  proxy = await startFaultProxy(open.baseUrl);
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([open?.stop(), basic?.stop(), token?.stop()]);
});

describe('faults the registry or the network produce', () => {
  it('retries 503 answers with back-off and succeeds', async () => {
    proxy.setRules([{ path: /\/manifests\/v1$/, status: 503, times: 2 }]);
    const before = proxy.hits.length;
    const result = await runTug(['digest', `${proxy.host}/app:v1`]);
    expect(result.stdout.trim()).toBe(image.rootDigest);
    expect(proxy.hits.slice(before).filter((hit) => hit.path.endsWith('/manifests/v1'))).toHaveLength(3);
  });

  it('waits as long as a short Retry-After says on 429, then succeeds', async () => {
    proxy.setRules([{ path: /\/manifests\/v1$/, status: 429, times: 1, headers: { 'retry-after': '1' } }]);
    const started = Date.now();
    const result = await runTug(['digest', `${proxy.host}/app:v1`]);
    expect(result.stdout.trim()).toBe(image.rootDigest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('fails fast with the wait when Retry-After is over the ceiling', async () => {
    proxy.setRules([
      {
        path: /\/manifests\/v1$/,
        status: 429,
        headers: { 'retry-after': '86400', 'ratelimit-remaining': '0;w=21600' },
      },
    ]);
    const result = await runTug(['digest', `${proxy.host}/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rate limited by .*retry after 86400 s.*remaining quota: 0;w=21600/);
  });

  it('gives up on a stalled server after --timeout, without hanging', async () => {
    proxy.setRules([{ path: /\/manifests\/v1$/, stallMs: 5000 }]);
    const result = await runTug(['--timeout', '1', '--retries', '1', 'digest', `${proxy.host}/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/did not answer in time/);
  });

  it('refuses a manifest cut short', async () => {
    proxy.setRules([
      { method: 'GET', path: /\/manifests\//, cutAfterBytes: 100 },
      { method: 'HEAD', path: /\/manifests\//, status: 200 },
    ]);
    const result = await runTug(['--retries', '1', 'manifest', 'get', `${proxy.host}/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('follows a redirect to another host without the Authorization header', async () => {
    const storage = await startFaultProxy(open.baseUrl);
    const front = await startFaultProxy(basic.baseUrl);
    try {
      const layer = image.blobDigests[0] ?? '';
      front.setRules([
        {
          method: 'GET',
          path: new RegExp(`/blobs/${layer}`),
          redirectTo: `${storage.baseUrl}/v2/app/blobs/${layer}?X-Amz-Signature=secret`,
        },
      ]);
      const out = join(await tempDir(), 'layer');
      const result = await runTug([
        '-v',
        'blob',
        'get',
        '-u',
        basic.username,
        '-p',
        basic.password,
        `${front.host}/app@${layer}`,
        '-o',
        out,
      ]);
      expect(result.code).toBe(0);
      expect(front.hits.some((hit) => hit.authorization?.startsWith('Basic '))).toBe(true);
      expect(storage.hits.length).toBeGreaterThan(0);
      expect(storage.hits.every((hit) => hit.authorization === undefined)).toBe(true);
      expect(result.stderr).not.toContain('X-Amz-Signature=secret');
    } finally {
      await Promise.all([storage.stop(), front.stop()]);
    }
  });

  it('starts a broken upload again in a new session, and the destination is whole', async () => {
    const destination = await startFaultProxy(open.baseUrl);
    try {
      destination.setRules([{ method: 'PUT', path: /\/blobs\/uploads\//, status: 500, times: 1 }]);
      const result = await runTug(['cp', `oci:${image.layoutDir}:v1`, `${destination.host}/rebuilt:v1`]);
      expect(result.code).toBe(0);
      const sessions = destination.hits.filter(
        (hit) => hit.method === 'POST' && hit.path.includes('/blobs/uploads/'),
      );
      expect(sessions.length).toBe(image.blobDigests.length - 1 + 1);
      expect((await runTug(['digest', `${open.host}/rebuilt:v1`])).stdout.trim()).toBe(image.rootDigest);
      await skopeo([
        'copy',
        '--src-tls-verify=false',
        `docker://${open.host}/rebuilt:v1`,
        `oci:${await tempDir()}:v1`,
      ]);
    } finally {
      await destination.stop();
    }
  });

  it("opens the destination's upload while the source is slow to answer, and cancels it when the source fails", async () => {
    const source = await startFaultProxy(open.baseUrl);
    const destination = await startFaultProxy(open.baseUrl);
    try {
      const [failing, ...others] = image.blobDigests;
      source.setRules([
        { method: 'GET', path: new RegExp(`/blobs/${failing}$`), stallMs: 1500, status: 404 },
        ...others.map((digest) => ({ method: 'GET', path: new RegExp(`/blobs/${digest}$`), stallMs: 1500 })),
      ]);
      const copy = runTug(['cp', `${source.host}/app:v1`, `${destination.host}/opened-early:v1`]);
      const blobRequested = () =>
        source.hits.some((hit) => hit.method === 'GET' && hit.path.includes('/blobs/'));
      for (let waited = 0; !blobRequested() && waited < 10_000; waited += 20) await sleep(20);
      await sleep(300);
      // Every blob request of the source is held for 1.5 s: uploads opened by now did not wait for it.
      const opened = destination.hits.filter(
        (hit) => hit.method === 'POST' && hit.path.includes('/blobs/uploads/'),
      );
      expect(opened.length).toBeGreaterThan(0);

      const result = await copy;
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(failing);
      const cancelled = destination.hits.filter(
        (hit) => hit.method === 'DELETE' && hit.path.includes('/blobs/uploads/'),
      );
      // The failing blob's session, opened before the source answered, is given up (DELETE).
      expect(cancelled.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([source.stop(), destination.stop()]);
    }
  });

  it('stops on SIGINT mid-blob with exit 130, leaving no partial or temporary file', async () => {
    const layer = image.blobDigests[0] ?? '';
    proxy.setRules([{ method: 'GET', path: new RegExp(`/blobs/${layer}`), pauseAfterBytes: 200_000 }]);
    const layout = await tempDir();
    const result = await runTug(['cp', `${proxy.host}/app:v1`, `oci:${layout}:v1`], {
      signal: { name: 'SIGINT', afterMs: 1500 },
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/interrupted/);
    const blobs = await readdir(join(layout, 'blobs', 'sha256')).catch(() => [] as string[]);
    expect(blobs).not.toContain(layer.slice(7));
    expect(blobs.filter((name) => name.startsWith('.'))).toEqual([]);
  });
});

describe('secrets stay secret', () => {
  it('keeps passwords, Basic credentials and tokens out of the -v trace and errors', async () => {
    const result = await runTug([
      '-v',
      'digest',
      '-u',
      token.username,
      '-p',
      token.password,
      `${token.host}/private/app:v1`,
    ]);
    expect(result.stdout.trim()).toBe(image.rootDigest);
    expect(result.stderr).toContain('"authorization":"***"');
    const basicValue = Buffer.from(`${token.username}:${token.password}`).toString('base64');
    for (const secret of [token.password, basicValue, 'Bearer ey'])
      expect(result.stderr).not.toContain(secret);
    const wrong = await runTug([
      '-v',
      'digest',
      '-u',
      token.username,
      '-p',
      'a-wrong-secret',
      `${token.host}/private/app:v1`,
    ]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).not.toContain('a-wrong-secret');
  });
});
