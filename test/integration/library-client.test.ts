import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, type Descriptor, isTugError } from 'tug';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let work: string;

beforeAll(async () => {
  registry = await startRegistry();
  const image = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64'], tag: '1.0' });
  await seedRegistry(registry, 'a/app', image, '1.0');
  work = await tempDir('tug-library-');
  await writeFile(join(work, 'app.jar'), 'PK fake jar');
  await writeFile(join(work, 'sbom.json'), '{"spdxVersion":"SPDX-2.3"}');
  // The snippet names its files relative to the working directory.
  process.chdir(work);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

describe('Client', () => {
  it('runs the snippet of the library issue as written, against a real registry', async () => {
    const host = registry.host;
    const registryConfig = join(work, 'config.json');
    const snippet = async () => {
      // The snippet, with this test's registry address, config path and the copy's digest.
      await using client = new Client({ registryConfig, plainHttp: [host] });
      const result = await client.copy(`${host}/a/app:1.0`, `${host}/b/app:1.0`, {
        signal: AbortSignal.timeout(60_000),
        platforms: ['linux/amd64'], // optional subset; all when absent
        referrers: true, // optional, like cp -r
        // biome-ignore lint/correctness/noUnusedFunctionParameters: the snippet as the issue writes it
        onProgress: (event) => {}, // the same events as --progress json
      });
      result.digest;
      result.bytes;

      const desc = await client.resolve(`${host}/a/app:1.0`); // { digest, mediaType, size }
      // biome-ignore lint/correctness/noUnusedVariables: the snippet as the issue writes it
      for await (const tag of client.tags(`${host}/a/app`)) {
      }
      const manifest = await client.manifest(`${host}/a/app:1.0`); // exact bytes + parsed
      await client.push(
        `${host}/jars/app:1.0`,
        [{ path: 'app.jar', mediaType: 'application/java-archive' }],
        {
          artifactType: 'application/vnd.example.jar.v1',
          annotations: { k: 'v' },
        },
      );
      await client.pull(`${host}/jars/app:1.0`, { output: 'dir' }); // → file list
      await client.attach(`${host}/a/app:1.0`, [{ path: 'sbom.json', mediaType: 'application/spdx+json' }], {
        artifactType: 'application/spdx+json',
      });
      // biome-ignore lint/correctness/noUnusedVariables: the snippet as the issue writes it
      for await (const referrer of client.referrers(`${host}/a/app:1.0`)) {
      }
      await client.tag(`${host}/a/app:1.0`, ['stable']);
      await client.delete(`${host}/b/app@${result.digest}`);

      try {
        await client.resolve(`${host}/a/missing:1`);
      } catch (error) {
        if (isTugError(error, 'NOT_FOUND')) {
          /* … */
        }
      }
      return { result, desc, manifest };
    };
    const { result, desc, manifest } = await snippet();

    // What the snippet did, seen by a second client.
    await using client = new Client({ plainHttp: [host], credentials: async () => undefined });
    expect(result.digest).toMatch(/^sha256:/);
    expect(result.bytes).toBeGreaterThan(0);
    expect(desc).toMatchObject({ digest: expect.stringMatching(/^sha256:/), size: expect.any(Number) });
    expect(manifest.descriptor).toEqual(desc);
    expect(manifest.bytes.byteLength).toBe(desc.size);
    expect(manifest.manifest.schemaVersion).toBe(2);
    expect(await readFile(join(work, 'dir', 'app.jar'), 'utf8')).toBe('PK fake jar');
    const referrers: Descriptor[] = [];
    for await (const referrer of client.referrers(`${host}/a/app:1.0`)) referrers.push(referrer);
    expect(referrers).toEqual([expect.objectContaining({ artifactType: 'application/spdx+json' })]);
    expect(await client.resolve(`${host}/a/app:stable`)).toEqual(desc);
    const deleted = await client.resolve(`${host}/b/app@${result.digest}`).catch((error: unknown) => error);
    expect(isTugError(deleted, 'NOT_FOUND')).toBe(true);
    const tags: string[] = [];
    for await (const tag of client.tags(`${host}/a/app`)) tags.push(tag);
    expect(tags.sort()).toEqual(['1.0', 'stable', expect.stringMatching(/^sha256-/)].sort());
  });

  it('reports progress as the events of --progress json', async () => {
    await using client = new Client({ plainHttp: [registry.host] });
    const events: Array<{ event: string; digest: string }> = [];
    const result = await client.copy(`${registry.host}/a/app:1.0`, `${registry.host}/e/app:1.0`, {
      onProgress: (event) => events.push(event),
    });
    expect(events).toContainEqual(expect.objectContaining({ event: 'started', digest: result.digest }));
    expect(events).toContainEqual(expect.objectContaining({ event: 'copied', digest: result.digest }));
    expect(events.some((event) => event.event === 'bytes')).toBe(true);
  });

  it('finds the tag given, then the digest removed, and names what is missing', async () => {
    await using client = new Client({ plainHttp: [registry.host] });
    const stable = await client.resolve(`${registry.host}/a/app:stable`);
    expect(stable).toEqual(await client.resolve(`${registry.host}/a/app:1.0`));
    const copied = await client.copy(`${registry.host}/a/app:1.0`, `${registry.host}/c/app:1.0`);
    await client.delete(`${registry.host}/c/app:1.0`);
    const gone = await client
      .resolve(`${registry.host}/c/app@${copied.digest}`)
      .catch((error: unknown) => error);
    expect(isTugError(gone, 'NOT_FOUND')).toBe(true);
  });

  it('copies several platforms as one index; a platform the index lacks is NOT_FOUND before any transfer', async () => {
    await using client = new Client({ plainHttp: [registry.host] });
    const error = await client
      .copy(`${registry.host}/a/app:1.0`, `${registry.host}/d/app:1.0`, {
        platforms: ['linux/amd64', 'linux/s390x'],
      })
      .catch((caught: unknown) => caught);
    expect(isTugError(error, 'NOT_FOUND')).toBe(true);
    const absent = await client.resolve(`${registry.host}/d/app:1.0`).catch((caught: unknown) => caught);
    expect(isTugError(absent, 'NOT_FOUND')).toBe(true);
    const original = await client.resolve(`${registry.host}/a/app:1.0`);
    const both = await client.copy(`${registry.host}/a/app:1.0`, `${registry.host}/d/app:1.0`, {
      platforms: ['linux/arm64', 'linux/amd64'],
    });
    expect(both.digest).toBe(original.digest);
  });

  it('stops with ABORTED when the signal is already aborted, and a copy to an OCI layout works the same', async () => {
    await using client = new Client({ plainHttp: [registry.host] });
    const aborted = await client
      .copy(`${registry.host}/a/app:1.0`, `oci:${join(work, 'layout')}:1.0`, { signal: AbortSignal.abort() })
      .catch((caught: unknown) => caught);
    expect(isTugError(aborted, 'ABORTED')).toBe(true);
    const copied = await client.copy(`${registry.host}/a/app:1.0`, `oci:${join(work, 'layout')}:1.0`);
    expect(await client.resolve(`oci:${join(work, 'layout')}:1.0`)).toMatchObject({ digest: copied.digest });
  });
});
