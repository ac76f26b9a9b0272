import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let source: RegistryFixture;
let destination: RegistryFixture;
let image: BuiltImage;

beforeAll(async () => {
  [source, destination] = await Promise.all([startRegistry(), startRegistry()]);
  image = await buildImageLayout({ layers: 24, layerSize: 4096, tag: 'v1' });
  await seedRegistry(source, 'many/layers', image);
});

afterAll(async () => {
  await Promise.all([source?.stop(), destination?.stop()]);
});

// Every blob in flight listens to the run's abort signal, and so does each of its requests: more
// than the 10 listeners after which Node prints a leak warning, which a user must never see.
describe('a transfer of many blobs at high concurrency', () => {
  it('prints no Node warning between two registries, into a layout, or from one', async () => {
    const layout = await tempDir('tug-many-');
    const runs = [
      ['-j', '16', 'cp', `${source.host}/many/layers:v1`, `${destination.host}/many/copied:v1`],
      ['-j', '16', 'cp', `${source.host}/many/layers:v1`, `oci:${layout}:v1`],
      ['-j', '16', 'cp', `oci:${image.layoutDir}:v1`, `${destination.host}/many/pushed:v1`],
    ];
    for (const args of runs) {
      const result = await runTug(['--no-progress', ...args]);
      expect(result.stderr).not.toMatch(/Warning/);
      expect(result.code, result.stderr).toBe(0);
    }
  });
});
