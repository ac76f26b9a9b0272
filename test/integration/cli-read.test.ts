import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let registry: RegistryFixture;
let multi: BuiltImage;
let single: BuiltImage;

async function skopeoRaw(reference: string, ...extra: string[]): Promise<Buffer> {
  const flags = registryTransportFlags(registry, 'src').map((flag) => flag.replace('--src-', '--'));
  const { stdoutBytes } = await skopeo(['inspect', ...extra, '--raw', ...flags, `docker://${reference}`]);
  return stdoutBytes;
}

/** Tags one manifest many times straight through the registry API (what a busy CI repository looks like). */
async function tagManyTimes(
  repository: string,
  manifest: Buffer,
  mediaType: string,
  count: number,
): Promise<string[]> {
  const tags = Array.from({ length: count }, (_, index) => `build-${String(index).padStart(3, '0')}`);
  for (const tag of tags) {
    const response = await fetch(`${registry.baseUrl}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: manifest,
    });
    expect(response.status).toBe(201);
  }
  return tags;
}

beforeAll(async () => {
  registry = await startRegistry();
  multi = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64'], tag: 'v1' });
  single = await buildImageLayout({ layers: 2, tag: 'v1' });
  await seedRegistry(registry, 'team/multi', multi, 'v1');
  await seedRegistry(registry, 'single', single, 'v1');
});

afterAll(async () => {
  await registry?.stop();
});

describe('read commands agree with skopeo on a real registry', () => {
  it('prints the digest of a two-platform index as skopeo sees it', async () => {
    const raw = await skopeoRaw(`${registry.host}/team/multi:v1`);
    const result = await runTug(['digest', `${registry.host}/team/multi:v1`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${sha256(raw)}\n`);
    expect(result.stdout.trim()).toBe(multi.rootDigest);
  });

  it('prints the digest of one platform of an index', async () => {
    const index = JSON.parse((await skopeoRaw(`${registry.host}/team/multi:v1`)).toString()) as {
      manifests: Array<{ digest: string; platform: { architecture: string } }>;
    };
    const arm = index.manifests.find((entry) => entry.platform.architecture === 'arm64');
    const result = await runTug(['digest', '--platform', 'linux/arm64', `${registry.host}/team/multi:v1`]);
    expect(result.stdout.trim()).toBe(arm?.digest);
  });

  it('gets the exact manifest bytes of an index and of one platform', async () => {
    const indexBytes = await skopeoRaw(`${registry.host}/team/multi:v1`);
    const index = await runTug(['manifest', 'get', `${registry.host}/team/multi:v1`]);
    expect(index.stdoutBytes.equals(indexBytes)).toBe(true);

    const armDigest = (
      await runTug(['digest', '--platform', 'linux/arm64', `${registry.host}/team/multi:v1`])
    ).stdout.trim();
    const armBytes = await skopeoRaw(`${registry.host}/team/multi@${armDigest}`);
    const arm = await runTug([
      'manifest',
      'get',
      '--platform',
      'linux/arm64',
      `${registry.host}/team/multi:v1`,
    ]);
    expect(arm.stdoutBytes.equals(armBytes)).toBe(true);
    expect(sha256(arm.stdoutBytes)).toBe(armDigest);
  });

  it('prints the descriptor of a manifest', async () => {
    const result = await runTug(['manifest', 'get', '--descriptor', `${registry.host}/single:v1`]);
    const descriptor = JSON.parse(result.stdout) as { digest: string; size: number; mediaType: string };
    const raw = await skopeoRaw(`${registry.host}/single:v1`);
    expect(descriptor).toMatchObject({
      digest: sha256(raw),
      size: raw.byteLength,
      mediaType: single.rootMediaType,
    });
  });

  it('prints the image config as skopeo reads it, ending with a newline', async () => {
    const config = await skopeoRaw(`${registry.host}/single:v1`, '--config');
    const result = await runTug(['config', `${registry.host}/single:v1`]);
    expect(result.code).toBe(0);
    const ending = config.at(-1) === 0x0a ? '' : '\n';
    expect(result.stdoutBytes.equals(Buffer.concat([config, Buffer.from(ending)]))).toBe(true);
    expect(result.stdout.endsWith('\n')).toBe(true);
  });

  it('reads the config of an index for the requested platform', async () => {
    const result = await runTug(['config', '--platform', 'linux/arm64', `${registry.host}/team/multi:v1`]);
    expect(JSON.parse(result.stdout)).toMatchObject({ os: 'linux', architecture: 'arm64' });
  });

  it('inspects an index with one line per platform', async () => {
    const result = await runTug(['inspect', `${registry.host}/team/multi:v1`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(multi.rootDigest);
    expect(result.stdout).toMatch(/linux\/amd64\s+sha256:[0-9a-f]{64}/);
    expect(result.stdout).toMatch(/linux\/arm64\s+sha256:[0-9a-f]{64}/);
  });

  it('inspects an image as JSON with its config and layers', async () => {
    const result = await runTug(['--json', 'inspect', `${registry.host}/single:v1`]);
    const summary = JSON.parse(result.stdout) as {
      digest: string;
      layers: unknown[];
      config: { digest: string };
    };
    expect(summary.digest).toBe(single.rootDigest);
    expect(summary.layers).toHaveLength(2);
    expect(single.blobDigests).toContain(summary.config.digest);
  });

  it('lists more than 100 tags, following pagination to the end, as skopeo does', async () => {
    const manifest = await skopeoRaw(`${registry.host}/single:v1`);
    await seedRegistry(registry, 'busy', single, 'build-000');
    const tags = await tagManyTimes('busy', manifest, single.rootMediaType, 130);
    const flags = registryTransportFlags(registry, 'src').map((flag) => flag.replace('--src-', '--'));
    const listed = JSON.parse(
      (await skopeo(['list-tags', ...flags, `docker://${registry.host}/busy`])).stdout,
    ) as {
      Tags: string[];
    };
    const result = await runTug(['tags', `${registry.host}/busy`]);
    expect(result.code).toBe(0);
    const printed = result.stdout.trim().split('\n');
    expect(printed).toHaveLength(130);
    expect([...printed].sort()).toEqual([...listed.Tags].sort());
    expect([...printed].sort()).toEqual(tags);
    const json = await runTug(['ls', '--json', `${registry.host}/busy`]);
    expect(JSON.parse(json.stdout)).toHaveLength(130);
  });

  it('lists the repositories of the registry', async () => {
    const result = await runTug(['catalog', registry.host]);
    expect(result.stdout.split('\n')).toEqual(expect.arrayContaining(['single', 'team/multi']));
  });

  it('downloads a blob verified to a file and to stdout', async () => {
    const configDigest = (
      JSON.parse((await runTug(['manifest', 'get', `${registry.host}/single:v1`])).stdout) as {
        config: { digest: string };
      }
    ).config.digest;
    const directory = await tempDir();
    const file = join(directory, 'config.json');
    const toFile = await runTug(['blob', 'get', `${registry.host}/single@${configDigest}`, '-o', file]);
    expect(toFile.code).toBe(0);
    expect(sha256(await readFile(file))).toBe(configDigest);
    const toStdout = await runTug(['blob', 'get', `${registry.host}/single@${configDigest}`]);
    expect(sha256(toStdout.stdoutBytes)).toBe(configDigest);
  });

  it('deletes a manifest by tag, after which it is not found (exit 4)', async () => {
    const doomed = await buildImageLayout({ layers: 1, tag: 'v1' });
    await seedRegistry(registry, 'doomed', doomed, 'v1');
    const deleted = await runTug(['manifest', 'delete', `${registry.host}/doomed:v1`]);
    expect(deleted.code).toBe(0);
    const after = await runTug(['digest', `${registry.host}/doomed@${doomed.rootDigest}`]);
    expect(after.code).toBe(4);
  });
});
