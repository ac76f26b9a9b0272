import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let image: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry({ tls: true });
  image = await buildImageLayout({ layers: 1, tag: 'v1' });
  await seedRegistry(registry, 'secure/app', image, 'v1');
});

afterAll(async () => {
  await registry?.stop();
});

describe('TLS with a private CA', () => {
  it('refuses an untrusted certificate and names --ca-file and certs.d', async () => {
    const result = await runTug(['digest', `${registry.host}/secure/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--ca-file');
    expect(result.stderr).toContain('certs.d');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('trusts the CA given with --ca-file', async () => {
    const result = await runTug([
      'digest',
      '--ca-file',
      registry.caFile ?? '',
      `${registry.host}/secure/app:v1`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });

  it('skips verification with --insecure', async () => {
    const result = await runTug(['digest', '--insecure', `${registry.host}/secure/app:v1`]);
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });

  it('never falls back to plain HTTP for a server that speaks TLS', async () => {
    const result = await runTug(['-v', 'digest', `${registry.host}/secure/app:v1`]);
    expect(result.stderr).not.toContain(`http://${registry.host}`);
  });
});

describe('mutual TLS through certs.d directories', () => {
  let mtls: RegistryFixture;
  beforeAll(async () => {
    mtls = await startRegistry({ mtls: true });
    await seedRegistry(mtls, 'secure/app', image, 'v1');
  });
  afterAll(async () => {
    await mtls?.stop();
  });

  /** A certs.d root with HOST/ca.crt and, when given, a client pair under NAME.cert / NAME.key. */
  async function certsD(root: string, pair?: { name: string; withKey?: boolean }): Promise<string> {
    const hostDir = join(root, mtls.host);
    await mkdir(hostDir, { recursive: true });
    await copyFile(mtls.caFile ?? '', join(hostDir, 'ca.crt'));
    if (pair) {
      await copyFile(mtls.client?.certificate ?? '', join(hostDir, `${pair.name}.cert`));
      if (pair.withKey !== false) await copyFile(mtls.client?.key ?? '', join(hostDir, `${pair.name}.key`));
    }
    return root;
  }

  it('presents any NAME.cert / NAME.key pair found under --certs-dir, and is refused without one', async () => {
    const withPair = await certsD(await tempDir(), { name: 'ci-robot' });
    const result = await runTug(['--certs-dir', withPair, 'digest', `${mtls.host}/secure/app:v1`]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(image.rootDigest);
    const caOnly = await certsD(await tempDir());
    const refused = await runTug(['--certs-dir', caOnly, 'digest', `${mtls.host}/secure/app:v1`]);
    expect(refused.code).not.toBe(0);
  });

  it('reads ~/.config/containers/certs.d as podman does', async () => {
    const home = await tempDir();
    await certsD(join(home, '.config', 'containers', 'certs.d'), { name: 'client' });
    const result = await runTug(['digest', `${mtls.host}/secure/app:v1`], { env: { HOME: home } });
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });

  it('names a certificate without its key as a usage error', async () => {
    const root = await certsD(await tempDir(), { name: 'half', withKey: false });
    const result = await runTug(['--certs-dir', root, 'digest', `${mtls.host}/secure/app:v1`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('half.cert has no half.key');
  });
});
