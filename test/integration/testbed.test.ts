import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const started: RegistryFixture[] = [];
async function registry(options: Parameters<typeof startRegistry>[0]): Promise<RegistryFixture> {
  const fixture = await startRegistry(options);
  started.push(fixture);
  return fixture;
}
afterAll(async () => {
  await Promise.all(started.map((fixture) => fixture.stop()));
});

/** skopeo's flags for reading a fixture without naming a side (inspect). */
const readFlags = (fixture: RegistryFixture) =>
  registryTransportFlags(fixture, 'src').map((flag) => flag.replace('--src-', '--'));

const basicAuth = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

interface Claims {
  iss: string;
  aud: string;
  sub: string;
  access: Array<{ type: string; name: string; actions: string[] }>;
}
const claimsOf = (jwt: string): Claims =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Claims;

describe('the test bed runs real registries in every mode', () => {
  it('serves an open registry that skopeo pushes a two-platform index to, digests intact', async () => {
    const open = await registry({});
    expect((await fetch(`${open.baseUrl}/v2/`)).status).toBe(200);
    const image = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64'], tag: 'v1' });
    await seedRegistry(open, 'multi', image);
    const raw = await skopeo(['inspect', '--raw', ...readFlags(open), `docker://${open.host}/multi:v1`]);
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: Array<{ digest: string }> };
    expect(sha256(raw.stdoutBytes)).toBe(image.rootDigest);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((manifest) => manifest.digest)).toEqual(image.manifestDigests);
  });

  it('builds Docker schema2 images whose manifest list keeps its digest through a push', async () => {
    const open = await registry({});
    const image = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm/v7'], docker: true });
    await seedRegistry(open, 'docker-shaped', image);
    const raw = await skopeo([
      'inspect',
      '--raw',
      ...readFlags(open),
      `docker://${open.host}/docker-shaped:latest`,
    ]);
    expect(sha256(raw.stdoutBytes)).toBe(image.rootDigest);
    expect(JSON.parse(raw.stdout).mediaType).toBe(
      'application/vnd.docker.distribution.manifest.list.v2+json',
    );
    const config = await skopeo([
      'inspect',
      '--config',
      '--raw',
      ...readFlags(open),
      `docker://${open.host}/docker-shaped@${image.manifestDigests[1]}`,
    ]);
    expect(JSON.parse(config.stdout)).toMatchObject({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  it('challenges with Basic behind htpasswd and accepts the test user only', async () => {
    const basic = await registry({ auth: 'htpasswd' });
    const anonymous = await fetch(`${basic.baseUrl}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const good = basicAuth(basic.username, basic.password);
    expect((await fetch(`${basic.baseUrl}/v2/`, { headers: { authorization: good } })).status).toBe(200);
    const bad = basicAuth(basic.username, 'wrong');
    expect((await fetch(`${basic.baseUrl}/v2/`, { headers: { authorization: bad } })).status).toBe(401);
  });

  it('serves TLS with a generated CA that skopeo trusts through --cert-dir only', async () => {
    const secure = await registry({ tls: true });
    expect(secure.baseUrl).toMatch(/^https:/);
    const image = await buildImageLayout({ tag: 'v1' });
    await seedRegistry(secure, 'secure', image);
    await skopeo(['inspect', '--raw', '--cert-dir', secure.caDir ?? '', `docker://${secure.host}/secure:v1`]);
    await expect(skopeo(['inspect', '--raw', `docker://${secure.host}/secure:v1`])).rejects.toThrow(
      /certificate/,
    );
  });
});

describe('the token issuer and a registry that trusts it', () => {
  let token: RegistryFixture;
  beforeAll(async () => {
    token = await registry({ auth: 'token' });
  });
  const issuerUrl = (scopes: string[]) => {
    const url = new URL(token.issuer?.realm ?? '');
    url.searchParams.set('service', token.issuer?.service ?? '');
    for (const scope of scopes) url.searchParams.append('scope', scope);
    return url;
  };

  it('challenges with Bearer naming the issuer realm and service', async () => {
    const challenge = (await fetch(`${token.baseUrl}/v2/`)).headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`realm="${token.issuer?.realm}"`);
    expect(challenge).toContain(`service="${token.issuer?.service}"`);
  });

  it("issues the user a JWT the registry accepts, and records the user's credentials", async () => {
    const authorization = basicAuth(token.username, token.password);
    const reply = await fetch(issuerUrl(['registry:catalog:*']), { headers: { authorization } });
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as { token: string; access_token: string; expires_in: number };
    expect(body.access_token).toBe(body.token);
    expect(claimsOf(body.token)).toMatchObject({
      sub: token.username,
      aud: token.issuer?.service,
      access: [{ type: 'registry', name: 'catalog', actions: ['*'] }],
    });
    const bearer = { authorization: `Bearer ${body.token}` };
    expect((await fetch(`${token.baseUrl}/v2/`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${token.baseUrl}/v2/_catalog`, { headers: bearer })).status).toBe(200);
    expect(token.issuer?.requests.at(-1)?.authorization).toBe(authorization);
  });

  it('refuses a wrong password with 401 and a registry-style error body', async () => {
    const reply = await fetch(issuerUrl(['repository:any/thing:pull']), {
      headers: { authorization: basicAuth(token.username, 'wrong') },
    });
    expect(reply.status).toBe(401);
    expect(((await reply.json()) as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
  });

  it('grants anonymous clients pull on public/ only, dropping push and other namespaces', async () => {
    const reply = await fetch(issuerUrl(['repository:public/app:pull,push', 'repository:private/app:pull']));
    const { token: jwt } = (await reply.json()) as { token: string };
    expect(claimsOf(jwt).access).toEqual([
      { type: 'repository', name: 'public/app', actions: ['pull'] },
      { type: 'repository', name: 'private/app', actions: [] },
    ]);
  });

  it('speaks the OAuth2 password and refresh_token grants', async () => {
    const form = (fields: Record<string, string>) =>
      fetch(token.issuer?.realm ?? '', { method: 'POST', body: new URLSearchParams(fields) });
    const first = await form({
      grant_type: 'password',
      username: token.username,
      password: token.password,
      service: token.issuer?.service ?? '',
      scope: 'repository:team/app:pull,push',
      client_id: 'tug-test',
      access_type: 'offline',
    });
    const issued = (await first.json()) as { access_token: string; refresh_token?: string };
    expect(claimsOf(issued.access_token).access).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    ]);
    expect(issued.refresh_token).toBeTruthy();
    const refreshed = await form({
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token ?? '',
      service: token.issuer?.service ?? '',
      scope: 'repository:team/app:pull',
    });
    const renewed = (await refreshed.json()) as { access_token: string };
    expect(claimsOf(renewed.access_token).sub).toBe(token.username);
    expect(token.issuer?.requests.at(-1)?.form?.grant_type).toBe('refresh_token');
    const wrong = await form({ grant_type: 'password', username: token.username, password: 'nope' });
    expect(wrong.status).toBe(401);
  });

  it('lets skopeo push with the user through the challenge, pull public/ anonymously, and denies the rest', async () => {
    const before = token.issuer?.requests.length ?? 0;
    const image = await buildImageLayout({ tag: 'v1' });
    await seedRegistry(token, 'public/hello', image);
    await seedRegistry(token, 'private/hello', image);
    const pushes = token.issuer?.requests
      .slice(before)
      .filter((request) => request.scopes.some((scope) => scope.endsWith('push')));
    expect(pushes?.length).toBeGreaterThan(0);
    expect(
      pushes?.every((request) => request.authorization === basicAuth(token.username, token.password)),
    ).toBe(true);
    const anonymous = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${token.host}/public/hello:v1`,
    ]);
    expect(sha256(anonymous.stdoutBytes)).toBe(image.rootDigest);
    await expect(
      skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${token.host}/private/hello:v1`]),
    ).rejects.toThrow(/unauthorized|authentication required|denied/i);
  });
});

describe('the fault proxy', () => {
  let open: RegistryFixture;
  let proxy: FaultProxy;
  const blob = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
  const digest = sha256(blob);
  const blobPath = new RegExp(`/blobs/${digest}$`);
  const blobUrl = () => `${proxy.baseUrl}/v2/faults/blobs/${digest}`;

  beforeAll(async () => {
    open = await registry({});
    proxy = await startFaultProxy(open.baseUrl);
    const upload = await fetch(`${proxy.baseUrl}/v2/faults/blobs/uploads/`, { method: 'POST' });
    const location = new URL(upload.headers.get('location') ?? '', proxy.baseUrl);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, { method: 'PUT', body: blob });
    expect(put.status).toBe(201);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('forwards uploads through the Location it rewrote to itself, counting bytes each way', async () => {
    expect(proxy.bytesFromClients()).toBeGreaterThanOrEqual(blob.byteLength);
    proxy.setRules([]);
    const before = proxy.bytesToClients();
    expect(Buffer.from(await (await fetch(blobUrl())).arrayBuffer())).toEqual(blob);
    expect(proxy.bytesToClients() - before).toBe(blob.byteLength);
  });

  it('answers a status with Retry-After for the first K matching requests, then forwards', async () => {
    proxy.setRules([
      { method: 'GET', path: blobPath, status: 429, times: 2, headers: { 'retry-after': '3' } },
    ]);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const reply = await fetch(blobUrl());
      await reply.arrayBuffer();
      statuses.push([reply.status, reply.headers.get('retry-after')]);
    }
    expect(statuses).toEqual([
      [429, '3'],
      [429, '3'],
      [200, null],
    ]);
  });

  it('cuts the connection after N body bytes', async () => {
    proxy.setRules([{ method: 'GET', path: blobPath, cutAfterBytes: 1000 }]);
    const reply = await fetch(blobUrl());
    await expect(reply.arrayBuffer()).rejects.toThrow();
  });

  it('stalls before answering', async () => {
    proxy.setRules([{ method: 'GET', path: blobPath, stallMs: 400 }]);
    const start = Date.now();
    await (await fetch(blobUrl())).arrayBuffer();
    expect(Date.now() - start).toBeGreaterThanOrEqual(390);
  });

  it('redirects with 307 to the given URL', async () => {
    proxy.setRules([
      { method: 'GET', path: blobPath, redirectTo: `${open.baseUrl}/v2/faults/blobs/${digest}` },
    ]);
    const reply = await fetch(blobUrl(), { redirect: 'manual' });
    expect(reply.status).toBe(307);
    expect(reply.headers.get('location')).toBe(`${open.baseUrl}/v2/faults/blobs/${digest}`);
    proxy.setRules([]);
  });

  it('truncates a body to a complete, shorter response', async () => {
    proxy.setRules([{ method: 'GET', path: blobPath, truncateTo: 100 }]);
    const reply = await fetch(blobUrl());
    expect(reply.headers.get('content-length')).toBe('100');
    expect(Buffer.from(await reply.arrayBuffer())).toEqual(blob.subarray(0, 100));
  });

  it('flips the one body byte at the given offset', async () => {
    proxy.setRules([{ method: 'GET', path: blobPath, corruptAt: 2000 }]);
    const served = Buffer.from(await (await fetch(blobUrl())).arrayBuffer());
    const differing = [...served].flatMap((byte, offset) => (byte === blob[offset] ? [] : [offset]));
    expect(differing).toEqual([2000]);
  });

  it('drops the Range header when told to ignore Range, and records it in hits', async () => {
    proxy.setRules([]);
    const honoured = await fetch(blobUrl(), { headers: { range: 'bytes=4000-' } });
    expect([honoured.status, (await honoured.arrayBuffer()).byteLength]).toEqual([206, 96]);
    proxy.setRules([{ method: 'GET', path: blobPath, ignoreRange: true }]);
    const ignored = await fetch(blobUrl(), { headers: { range: 'bytes=4000-' } });
    expect([ignored.status, (await ignored.arrayBuffer()).byteLength]).toEqual([200, blob.byteLength]);
    expect(proxy.hits.at(-1)?.range).toBe('bytes=4000-');
  });
});

describe('the summary reporter', () => {
  it('ends a run with the passed, failed and skipped counts, a file that fails to load counted as failed', async () => {
    const project = await tempDir('tug-reporter-');
    await writeFile(
      join(project, 'counts.test.ts'),
      "test('a', () => {}); test('b', () => {}); test('c', () => { throw new Error('no'); }); test.skip('d', () => {});\n",
    );
    await writeFile(join(project, 'broken.test.ts'), "throw new Error('cannot load');\n");
    const vitest = join(repoRoot, 'node_modules', '.bin', 'vitest');
    const reporter = join(repoRoot, 'test', 'fixtures', 'summary-reporter.ts');
    const output = await new Promise<{ code: number | null; stdout: string }>((done, fail) => {
      const child = spawn(
        vitest,
        ['run', '--root', project, '--globals', '--reporter', 'default', '--reporter', reporter],
        { cwd: project, env: { ...process.env, NO_COLOR: '1', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const chunks: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', fail);
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ code, stdout: Buffer.concat(chunks).toString() });
      });
    });
    expect(output.code).toBe(1);
    expect(output.stdout.trimEnd().split('\n').at(-1)).toBe('2 passed, 2 failed, 1 skipped');
  });
});
