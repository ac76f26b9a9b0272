import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let image: BuiltImage;
let files: string;

beforeAll(async () => {
  registry = await startRegistry();
  image = await buildImageLayout({ tag: 'v1' });
  await seedRegistry(registry, 'app', image);
  await seedRegistry(registry, 'mirror', image);
  files = await tempDir();
  await writeFile(join(files, 'sbom.json'), '{"spdxVersion":"SPDX-2.3"}');
});

afterAll(async () => {
  await registry?.stop();
});

async function referrersOf(reference: string): Promise<string[]> {
  const found = await runTug(['discover', reference, '--format', 'json']);
  expect(found.code, found.stderr).toBe(0);
  return (JSON.parse(found.stdout) as { referrers: Array<{ digest: string }> }).referrers.map(
    (referrer) => referrer.digest,
  );
}

describe('a manifest with a subject pushed to a registry without the referrers API', () => {
  it('is discoverable after a plain tug cp of the referrer alone (the sha256-HEX tag is kept by the push)', async () => {
    const attached = await runTug(
      ['attach', `${registry.host}/app:v1`, 'sbom.json', '--artifact-type', 'application/spdx+json'],
      { cwd: files },
    );
    expect(attached.code, attached.stderr).toBe(0);
    const referrer = attached.stdout.trim();
    expect(await referrersOf(`${registry.host}/app:v1`)).toEqual([referrer]);
    expect(await referrersOf(`${registry.host}/mirror:v1`)).toEqual([]);

    const copied = await runTug([
      'cp',
      `${registry.host}/app@${referrer}`,
      `${registry.host}/mirror@${referrer}`,
    ]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(await referrersOf(`${registry.host}/mirror:v1`)).toEqual([referrer]);
  });
});
