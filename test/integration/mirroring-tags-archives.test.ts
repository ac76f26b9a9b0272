import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let image: BuiltImage;
let other: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  image = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64'], tag: 'v1' });
  other = await buildImageLayout({ platforms: ['linux/amd64'], tag: 'v1' });
  await seedRegistry(registry, 'src/app', image, 'v1');
  await seedRegistry(registry, 'src/other', other, 'v1');
});

afterAll(async () => {
  await registry?.stop();
});

const tugOk = async (args: string[]) => {
  const result = await runTug(args);
  expect(result.stderr, `tug ${args.join(' ')}`).not.toMatch(/^error/m);
  expect(result.code).toBe(0);
  return result;
};

async function tagsOf(repository: string): Promise<string[]> {
  return (await tugOk(['tags', repository])).stdout.trim().split('\n').filter(Boolean).sort();
}

/** The digest skopeo sees (the open test registry: plain HTTP on loopback). */
async function skopeoDigest(reference: string): Promise<string> {
  const { stdout } = await skopeo(['inspect', '--tls-verify=false', '--format', '{{.Digest}}', reference]);
  return stdout.trim();
}

describe('cp with several tags and --no-clobber', () => {
  it('writes every tag of DST:a,b,c in one copy', async () => {
    const destination = `${registry.host}/multi/app`;
    const result = await tugOk(['cp', `${registry.host}/src/app:v1`, `${destination}:a,b,c`]);
    expect(result.stdout.trim()).toBe(image.rootDigest);
    expect(await tagsOf(destination)).toEqual(['a', 'b', 'c']);
    expect(await skopeoDigest(`docker://${destination}:c`)).toBe(image.rootDigest);
  });

  it('refuses to move a tag that names another digest, before copying anything, and leaves every tag', async () => {
    const destination = `${registry.host}/clobber/app`;
    await tugOk(['cp', `${registry.host}/src/app:v1`, `${destination}:keep`]);
    const refused = await runTug([
      'cp',
      '--no-clobber',
      `${registry.host}/src/other:v1`,
      `${destination}:new,keep`,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`tag keep exists with digest ${image.rootDigest}`);
    expect(await tagsOf(destination)).toEqual(['keep']);
    // The same digest again, or a tag that is free, is no clobbering.
    await tugOk(['cp', '--no-clobber', `${registry.host}/src/app:v1`, `${destination}:keep,again`]);
    expect(await tagsOf(destination)).toEqual(['again', 'keep']);
    // Without the flag the tag moves.
    await tugOk(['cp', `${registry.host}/src/other:v1`, `${destination}:keep`]);
    expect((await tugOk(['digest', `${destination}:keep`])).stdout.trim()).toBe(other.rootDigest);
  });
});

describe('delete and untag on a registry without tag deletion (distribution 2.8)', () => {
  it('refuses to delete a manifest other tags name, listing them; --force deletes it with them', async () => {
    const repository = `${registry.host}/del/app`;
    await tugOk(['cp', `${registry.host}/src/app:v1`, `${repository}:one,two,three`]);
    const refused = await runTug(['delete', `${repository}:one`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`is also tagged two, three`);
    expect(refused.stderr).toContain(`tug untag ${repository}:one`);
    expect(await tagsOf(repository)).toEqual(['one', 'three', 'two']);
    await tugOk(['delete', '--force', `${repository}:one`]);
    expect((await runTug(['digest', `${repository}:two`])).code).toBe(4);
  });

  it('deletes a manifest only one tag names without --force', async () => {
    const repository = `${registry.host}/del/single`;
    await tugOk(['cp', `${registry.host}/src/other:v1`, `${repository}:only`]);
    await tugOk(['delete', `${repository}:only`]);
    expect((await runTug(['digest', `${repository}:only`])).code).toBe(4);
  });

  it('untags one tag, says which digest it named, and leaves the other tags on that digest', async () => {
    const repository = `${registry.host}/untag/app`;
    await tugOk(['cp', `${registry.host}/src/app:v1`, `${repository}:one,two`]);
    const result = await tugOk(['untag', `${repository}:one`]);
    expect(result.stdout.trim()).toBe(image.rootDigest);
    expect(result.stderr).toContain(`it named ${image.rootDigest}`);
    expect(await tagsOf(repository)).toEqual(['two']);
    expect(await skopeoDigest(`docker://${repository}:two`)).toBe(image.rootDigest);
    expect((await runTug(['digest', `${repository}:one`])).code).toBe(4);
    const again = await runTug(['untag', `${repository}:one`]);
    expect(again.code).toBe(4);
  });
});

describe('untag on layouts and archives', () => {
  it('removes only the ref name from an oci: layout and an oci-archive:', async () => {
    const dir = await tempDir();
    for (const target of [`oci:${join(dir, 'layout')}`, `oci-archive:${join(dir, 'image.tar')}`]) {
      await tugOk(['cp', `${registry.host}/src/app:v1`, `${target}:one,two`]);
      const result = await tugOk(['untag', `${target}:one`]);
      expect(result.stdout.trim()).toBe(image.rootDigest);
      expect((await tugOk(['tags', target])).stdout.trim()).toBe('two');
      expect((await tugOk(['digest', `${target}:two`])).stdout.trim()).toBe(image.rootDigest);
    }
  });
});

describe('oci-archive: with skopeo', () => {
  it('skopeo reads the oci-archive tug writes, index and all', async () => {
    const file = join(await tempDir(), 'tug.tar');
    await tugOk(['cp', `${registry.host}/src/app:v1`, `oci-archive:${file}:v1`]);
    const raw = await skopeo(['inspect', '--raw', `oci-archive:${file}:v1`]);
    const { createHash } = await import('node:crypto');
    expect(`sha256:${createHash('sha256').update(raw.stdoutBytes).digest('hex')}`).toBe(image.rootDigest);
    await skopeo([
      'copy',
      '--all',
      '--preserve-digests',
      ...registryTransportFlags(registry, 'dest'),
      `oci-archive:${file}:v1`,
      `docker://${registry.host}/from-tug-archive/app:v1`,
    ]);
    expect((await tugOk(['digest', `${registry.host}/from-tug-archive/app:v1`])).stdout.trim()).toBe(
      image.rootDigest,
    );
  });

  it('tug reads the oci-archive skopeo writes, with a podman-style ref name holding ":"', async () => {
    const file = join(await tempDir(), 'skopeo.tar');
    const refName = 'localhost:5000/x:tag';
    await skopeo([
      'copy',
      '--all',
      ...registryTransportFlags(registry, 'src'),
      `docker://${registry.host}/src/app:v1`,
      `oci-archive:${file}:${refName}`,
    ]);
    expect((await tugOk(['tags', `oci-archive:${file}`])).stdout.trim()).toBe(refName);
    const copied = await tugOk([
      'cp',
      `oci-archive:${file}:${refName}`,
      `${registry.host}/from-skopeo-archive/app:v1`,
    ]);
    expect(copied.stdout.trim()).toBe(image.rootDigest);
    expect(await skopeoDigest(`docker://${registry.host}/from-skopeo-archive/app:v1`)).toBe(image.rootDigest);
  });

  it('adds a second image to an existing oci-archive and keeps the first', async () => {
    const file = join(await tempDir(), 'two.tar');
    await tugOk(['cp', `${registry.host}/src/app:v1`, `oci-archive:${file}:app`]);
    await tugOk(['cp', `${registry.host}/src/other:v1`, `oci-archive:${file}:other`]);
    expect((await tugOk(['tags', `oci-archive:${file}`])).stdout.trim().split('\n').sort()).toEqual([
      'app',
      'other',
    ]);
    const raw = await skopeo(['inspect', '--raw', `oci-archive:${file}:app`]);
    expect(JSON.parse(raw.stdout).manifests).toHaveLength(2);
  });
});

describe('oci: layouts and tarballs, and ref names holding ":"', () => {
  it('refuses oci:NAME.tar instead of making a directory, pointing at oci-archive:', async () => {
    const dir = await tempDir();
    const result = await runTug(['cp', `${registry.host}/src/app:v1`, `oci:${join(dir, 'image.tar')}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`oci-archive:${join(dir, 'image.tar')}`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('addresses a layout ref name like localhost:5000/x:tag that skopeo wrote, as oci:DIR:REFNAME', async () => {
    const layout = join(await tempDir(), 'podman');
    const refName = 'localhost:5000/x:tag';
    await skopeo([
      'copy',
      ...registryTransportFlags(registry, 'src'),
      `docker://${registry.host}/src/other:v1`,
      `oci:${layout}:${refName}`,
    ]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ annotations: Record<string, string> }>;
    };
    expect(index.manifests[0]?.annotations['org.opencontainers.image.ref.name']).toBe(refName);
    expect((await tugOk(['digest', `oci:${layout}:${refName}`])).stdout.trim()).toBe(other.rootDigest);
    await tugOk(['cp', `${registry.host}/src/app:v1`, `oci:${layout}:localhost:5000/y:v2`]);
    expect((await tugOk(['tags', `oci:${layout}`])).stdout.trim().split('\n').sort()).toEqual([
      refName,
      'localhost:5000/y:v2',
    ]);
  });
});

describe('docker-archive: an existing file', () => {
  it('refuses to write a second image into an existing archive instead of replacing it', async () => {
    const file = join(await tempDir(), 'images.tar');
    await tugOk([
      'cp',
      '--platform',
      'linux/amd64',
      `${registry.host}/src/app:v1`,
      `docker-archive:${file}:example.com/app:v1`,
    ]);
    const before = await readFile(file);
    const refused = await runTug([
      'cp',
      `${registry.host}/src/other:v1`,
      `docker-archive:${file}:example.com/other:v1`,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already holds example.com/app:v1');
    expect((await readFile(file)).equals(before)).toBe(true);
    const listed = await skopeo(['inspect', `docker-archive:${file}:example.com/app:v1`]);
    expect(listed.stdout).toContain('amd64');
  });
});
