import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let registry: RegistryFixture;
let amd: BuiltImage;
let arm: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  amd = await buildImageLayout({ platforms: ['linux/amd64'], tag: 'v1' });
  arm = await buildImageLayout({ platforms: ['linux/arm64/v8'], tag: 'v1' });
  await seedRegistry(registry, 'app', amd, 'amd64');
  await seedRegistry(registry, 'other', arm, 'arm64');
});

afterAll(async () => {
  await registry?.stop();
});

describe('commands that write to a registry', () => {
  it('tags a manifest with several new tags without moving a layer', async () => {
    const result = await runTug(['tag', `${registry.host}/app:amd64`, 'stable', 'latest']);
    expect(result.code).toBe(0);
    for (const tag of ['stable', 'latest']) {
      expect((await runTug(['digest', `${registry.host}/app:${tag}`])).stdout.trim()).toBe(amd.rootDigest);
    }
  });

  it('puts a manifest from stdin and from a file, keeping its exact bytes', async () => {
    const bytes = (await runTug(['manifest', 'get', `${registry.host}/app:amd64`])).stdoutBytes;
    const fromStdin = await runTug(['manifest', 'put', `${registry.host}/app:from-stdin`, '-'], {
      input: bytes,
    });
    expect(fromStdin.stdout.trim()).toBe(sha256(bytes));
    const file = join(await tempDir(), 'manifest.json');
    await writeFile(file, bytes);
    const fromFile = await runTug(['manifest', 'put', `${registry.host}/app:from-file`, file]);
    expect(fromFile.stdout.trim()).toBe(sha256(bytes));
    expect(
      (await runTug(['manifest', 'get', `${registry.host}/app:from-file`])).stdoutBytes.equals(bytes),
    ).toBe(true);
  });

  it('puts, gets and deletes a blob', async () => {
    const content = Buffer.from('a blob of bytes, streamed from stdin');
    const put = await runTug(['blob', 'put', `${registry.host}/blobs`, '-'], { input: content });
    expect(put.stdout.trim()).toBe(sha256(content));
    const got = await runTug(['blob', 'get', `${registry.host}/blobs@${sha256(content)}`]);
    expect(got.stdoutBytes.equals(content)).toBe(true);
    expect((await runTug(['blob', 'delete', `${registry.host}/blobs@${sha256(content)}`])).code).toBe(0);
    expect((await runTug(['blob', 'get', `${registry.host}/blobs@${sha256(content)}`])).code).toBe(4);
  });

  it('builds a two-platform index from images in two repositories, readable by skopeo', async () => {
    const result = await runTug([
      'index',
      'create',
      `${registry.host}/multi:v1`,
      `${registry.host}/app:amd64`,
      `${registry.host}/other:arm64`,
    ]);
    expect(result.code).toBe(0);
    const raw = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/multi:v1`,
    ]);
    expect(sha256(raw.stdoutBytes)).toBe(result.stdout.trim());
    const index = JSON.parse(raw.stdout) as {
      manifests: Array<{ digest: string; platform: Record<string, string> }>;
    };
    expect(index.manifests.map((entry) => entry.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    expect(
      (await runTug(['digest', '--platform', 'linux/arm64', `${registry.host}/multi:v1`])).stdout.trim(),
    ).toBe(arm.rootDigest);
    await skopeo([
      'copy',
      '--all',
      ...registryTransportFlags(registry, 'src'),
      `docker://${registry.host}/multi:v1`,
      `oci:${await tempDir()}:x`,
    ]);
  });

  it('deletes an image by tag, after which its digest is not found', async () => {
    await runTug(['tag', `${registry.host}/app:amd64`, 'doomed']);
    const doomed = await buildImageLayout({ tag: 'v1' });
    await seedRegistry(registry, 'doomed', doomed, 'v1');
    expect((await runTug(['delete', `${registry.host}/doomed:v1`])).code).toBe(0);
    expect((await runTug(['manifest', 'get', `${registry.host}/doomed@${doomed.rootDigest}`])).code).toBe(4);
  });
});
