import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;

beforeAll(async () => {
  registry = await startRegistry({ tls: true });
  await seedRegistry(registry, 'secure/app', await buildImageLayout({ layers: 1, tag: 'v1' }), 'v1');
});

afterAll(async () => {
  await registry?.stop();
});

describe('hints that fit the cause', () => {
  it('says a private key given as --ca-file is not a certificate', async () => {
    const keyFile = join(await tempDir(), 'registry.key');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const result = await runTug(['digest', '--ca-file', keyFile, `${registry.host}/secure/app:v1`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the CA file ${keyFile} holds a private key, not a certificate`);
  });

  it('suggests dropping --plain-http when the registry speaks TLS', async () => {
    const result = await runTug(['digest', '--plain-http', `${registry.host}/secure/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('drop --plain-http');
  });
});
