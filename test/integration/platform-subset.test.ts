import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let multi: BuiltImage;

interface Index {
  mediaType: string;
  manifests: Array<{ digest: string; platform: { architecture: string } }>;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const inspectFlags = () =>
  registryTransportFlags(registry, 'src').map((flag) => flag.replace('--src-', '--'));

beforeAll(async () => {
  registry = await startRegistry();
  multi = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'], tag: 'v1' });
  await seedRegistry(registry, 'src/multi', multi, 'v1');
  const digestTag = `sha256-${'c'.repeat(64)}`;
  for (const tag of ['1.0', '1.10', '1.9', 'latest', 'v2.0.0', `${digestTag}.sig`, digestTag]) {
    await seedRegistry(registry, 'src/tagged', multi, tag);
  }
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

describe('cp with several --platform', () => {
  it('writes an index of only those platforms, entries unchanged, that skopeo reads back', async () => {
    const result = await runTug([
      'cp',
      '--json',
      '--platform',
      'linux/arm64',
      '--platform',
      'linux/s390x',
      `${registry.host}/src/multi:v1`,
      `${registry.host}/dst/multi:two`,
    ]);
    expect(result.code).toBe(0);
    const copied = JSON.parse(result.stdout) as {
      digest: string;
      filtered: { from: string; platforms: string[] };
    };
    expect(copied.filtered).toEqual({ from: multi.rootDigest, platforms: ['linux/arm64', 'linux/s390x'] });
    const raw = await skopeo([
      'inspect',
      '--raw',
      ...inspectFlags(),
      `docker://${registry.host}/dst/multi:two`,
    ]);
    expect(sha256(raw.stdoutBytes)).toBe(copied.digest);
    const index = JSON.parse(raw.stdout) as Index;
    const original = JSON.parse(
      (await skopeo(['inspect', '--raw', ...inspectFlags(), `docker://${registry.host}/src/multi:v1`]))
        .stdout,
    ) as Index;
    expect(index.mediaType).toBe(original.mediaType);
    expect(index.manifests).toEqual(original.manifests.slice(1));
    await skopeo([
      'copy',
      '--all',
      ...registryTransportFlags(registry, 'src'),
      `docker://${registry.host}/dst/multi:two`,
      `oci:${await tempDir()}:x`,
    ]);
  });

  it('keeps the single-manifest copy for one --platform', async () => {
    const result = await runTug([
      'cp',
      '--platform',
      'linux/arm64',
      `${registry.host}/src/multi:v1`,
      `${registry.host}/dst/multi:one`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(multi.manifestDigests[1]);
  });

  it('refuses a platform the index lacks, listing those it has', async () => {
    const result = await runTug([
      'cp',
      '--platform',
      'linux/amd64',
      '--platform',
      'linux/riscv64',
      `${registry.host}/src/multi:v1`,
      `${registry.host}/dst/multi:none`,
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('linux/riscv64');
    expect(result.stderr).toContain('the index has: linux/amd64, linux/arm64, linux/s390x');
  });
});

describe('tags with filters', () => {
  const tags = async (...flags: string[]) => {
    const result = await runTug(['tags', `${registry.host}/src/tagged`, ...flags]);
    expect(result.code).toBe(0);
    return result.stdout.trim().split('\n');
  };

  it('leaves out digest tags, filters by a regular expression, and sorts by semver newest last', async () => {
    expect((await tags('--exclude-digest-tags')).sort()).toEqual(['1.0', '1.10', '1.9', 'latest', 'v2.0.0']);
    expect((await tags('--filter', '^1\\.')).sort()).toEqual(['1.0', '1.10', '1.9']);
    expect(await tags('--semver')).toEqual(['1.0', '1.9', '1.10', 'v2.0.0']);
    expect(await tags('--semver', '--filter', '^1')).toEqual(['1.0', '1.9', '1.10']);
  });
});
