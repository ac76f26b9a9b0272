import { afterAll, describe, expect, it } from 'vitest';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';

const started: RegistryFixture[] = [];
async function registry(options: Parameters<typeof startRegistry>[0]): Promise<RegistryFixture> {
  const fixture = await startRegistry(options);
  started.push(fixture);
  return fixture;
}
afterAll(async () => {
  await Promise.all(started.map((fixture) => fixture.stop()));
});

describe('the test bed runs real registries in every mode', () => {
  it('serves an open registry that skopeo pushes a two-platform index to, digests intact', async () => {
    const open = await registry({});
    expect((await fetch(`${open.baseUrl}/v2/`)).status).toBe(200);
    const image = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64'], tag: 'v1' });
    await seedRegistry(open, 'multi', image);
    const flags = registryTransportFlags(open, 'src').map((flag) => flag.replace('--src-', '--'));
    const raw = await skopeo(['inspect', '--raw', ...flags, `docker://${open.host}/multi:v1`]);
    expect(JSON.parse(raw.stdout).manifests).toHaveLength(2);
    expect(
      `sha256:${(await import('node:crypto')).createHash('sha256').update(raw.stdoutBytes).digest('hex')}`,
    ).toBe(image.rootDigest);
  });

  it('challenges with Basic behind htpasswd and accepts the test user', async () => {
    const basic = await registry({ auth: 'htpasswd' });
    const anonymous = await fetch(`${basic.baseUrl}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    expect((await fetch(`${basic.baseUrl}/v2/`, { headers: { authorization } })).status).toBe(200);
  });

  it('verifies the issuer JWTs: skopeo pushes with the user, reads public/ anonymously, and is denied elsewhere', async () => {
    const token = await registry({ auth: 'token' });
    const challenge = (await fetch(`${token.baseUrl}/v2/`)).headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`realm="${token.issuer?.realm}"`);
    const image = await buildImageLayout({ tag: 'v1' });
    await seedRegistry(token, 'public/hello', image);
    await seedRegistry(token, 'private/hello', image);
    await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${token.host}/public/hello:v1`]);
    await expect(
      skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${token.host}/private/hello:v1`]),
    ).rejects.toThrow();
  });

  it('serves TLS with a generated CA that skopeo trusts through --cert-dir only', async () => {
    const secure = await registry({ tls: true });
    const image = await buildImageLayout({ tag: 'v1' });
    await seedRegistry(secure, 'secure', image);
    await skopeo(['inspect', '--raw', '--cert-dir', secure.caDir ?? '', `docker://${secure.host}/secure:v1`]);
    await expect(skopeo(['inspect', '--raw', `docker://${secure.host}/secure:v1`])).rejects.toThrow(
      /certificate/,
    );
  });
});
