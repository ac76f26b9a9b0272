import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';

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
