import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract as createExtract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidContentError, NotFoundError, UsageError } from '../../src/errors.js';
import { DOCKER_LAYER_TAR } from '../../src/targets/archive/reader.js';
import { openDockerArchive } from '../../src/targets/docker-archive.js';
import { type TarEntry, tarOf } from '../fixtures/tar.js';
import { tempDir } from '../fixtures/temp.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const hexOf = (bytes: Uint8Array) => sha256(bytes).slice('sha256:'.length);

type Entry = TarEntry;

async function writeArchive(entries: Entry[]): Promise<string> {
  const path = join(await tempDir(), 'image.tar');
  await writeFile(path, await tarOf(entries));
  return path;
}

/** A layer: a tar of one file with `text` in it. */
const layerTar = (text: string) => tarOf([{ name: 'hello.txt', content: text }]);

const configOf = (layers: Buffer[]) =>
  Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
    }),
  );

/** Every entry of a tar file, name to bytes. */
async function readTar(path: string): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const extract = createExtract();
  createReadStream(path).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.set(entry.header.name, Buffer.concat(chunks));
  }
  return entries;
}

async function readTarLinks(path: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const extract = createExtract();
  createReadStream(path).pipe(extract);
  for await (const entry of extract) {
    if (entry.header.type === 'symlink') links.set(entry.header.name, entry.header.linkname ?? '');
    entry.resume();
  }
  return links;
}

async function streamBytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface ManifestJson {
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
}

describe('docker-archive reader', () => {
  it('synthesises a schema2 manifest of a plain-layer docker save archive and serves its blobs', async () => {
    const layer = await layerTar('plain');
    const config = configOf([layer]);
    const path = await writeArchive([
      { name: `${hexOf(config)}.json`, content: config },
      { name: 'abc123/', type: 'directory' },
      { name: 'abc123/layer.tar', content: layer },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          { Config: `${hexOf(config)}.json`, RepoTags: ['alpine:3.20'], Layers: ['abc123/layer.tar'] },
        ]),
      },
      { name: 'repositories', content: JSON.stringify({ alpine: { '3.20': 'abc123' } }) },
    ]);
    const archive = await openDockerArchive(path, 'read');
    const root = await archive.resolve('');
    expect(root.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const bytes = await archive.fetchBytes(root);
    expect(sha256(bytes)).toBe(root.digest);
    const manifest = JSON.parse(Buffer.from(bytes).toString()) as ManifestJson;
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.docker.container.image.v1+json',
      digest: sha256(config),
      size: config.byteLength,
    });
    expect(manifest.layers).toEqual([
      { mediaType: DOCKER_LAYER_TAR, digest: sha256(layer), size: layer.byteLength },
    ]);
    const [layerDescriptor] = manifest.layers;
    expect(await streamBytes(await archive.fetch(manifest.config))).toEqual(config);
    expect(await streamBytes(await archive.fetch(layerDescriptor!))).toEqual(layer);
    expect(await archive.resolve('docker.io/library/alpine:3.20')).toEqual(root);
    expect(await archive.resolve(root.digest)).toEqual(root);
    expect(await archive.exists(layerDescriptor!)).toBe(true);
  });

  it('labels a gzip layer tar.gzip with the digest and size of the stored bytes', async () => {
    const layer = await layerTar('compressed');
    const gzipped = gzipSync(layer);
    const config = configOf([layer]);
    const path = await writeArchive([
      { name: 'config.json', content: config },
      { name: 'layer.tar.gz', content: gzipped },
      {
        name: 'manifest.json',
        content: JSON.stringify([{ Config: 'config.json', RepoTags: null, Layers: ['layer.tar.gz'] }]),
      },
    ]);
    const archive = await openDockerArchive(path, 'read');
    const manifest = JSON.parse(
      Buffer.from(await archive.fetchBytes(await archive.resolve(''))).toString(),
    ) as ManifestJson;
    expect(manifest.layers).toEqual([
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        digest: sha256(gzipped),
        size: gzipped.byteLength,
      },
    ]);
    expect(await streamBytes(await archive.fetch(manifest.layers[0]!))).toEqual(gzipped);
  });

  it('follows the symlink docker save writes for a layer shared by two layer directories', async () => {
    const layer = await layerTar('shared');
    const config = configOf([layer, layer]);
    const path = await writeArchive([
      { name: 'config.json', content: config },
      { name: 'first/layer.tar', content: layer },
      { name: 'second/layer.tar', type: 'symlink', linkname: '../first/layer.tar' },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          { Config: 'config.json', RepoTags: [], Layers: ['first/layer.tar', 'second/layer.tar'] },
        ]),
      },
    ]);
    const archive = await openDockerArchive(path, 'read');
    const manifest = JSON.parse(
      Buffer.from(await archive.fetchBytes(await archive.resolve(''))).toString(),
    ) as ManifestJson;
    expect(manifest.layers.map((entry) => entry.digest)).toEqual([sha256(layer), sha256(layer)]);
  });

  it('finds layers stored behind long-name (pax) headers and larger than one read chunk', async () => {
    const layer = await tarOf([{ name: 'big.bin', content: randomBytes(3 * 1024 * 1024 + 7) }]);
    const config = configOf([layer]);
    const directory = `${'d'.repeat(200)}/blobs/sha256`;
    const path = await writeArchive([
      { name: `${directory}/${hexOf(config)}`, content: config },
      { name: `${directory}/${hexOf(layer)}`, content: layer },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          { Config: `${directory}/${hexOf(config)}`, RepoTags: [], Layers: [`${directory}/${hexOf(layer)}`] },
        ]),
      },
    ]);
    const archive = await openDockerArchive(path, 'read');
    const manifest = JSON.parse(
      Buffer.from(await archive.fetchBytes(await archive.resolve(''))).toString(),
    ) as ManifestJson;
    expect(manifest.layers[0]?.digest).toBe(sha256(layer));
    expect(sha256(await streamBytes(await archive.fetch(manifest.layers[0]!)))).toBe(sha256(layer));
  });

  it('needs a name to pick one of several images, and picks by normalised RepoTag', async () => {
    const first = await layerTar('first');
    const second = await layerTar('second');
    const path = await writeArchive([
      { name: 'one.json', content: configOf([first]) },
      { name: 'two.json', content: configOf([second]) },
      { name: 'one.tar', content: first },
      { name: 'two.tar', content: second },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          { Config: 'one.json', RepoTags: ['busybox:latest'], Layers: ['one.tar'] },
          { Config: 'two.json', RepoTags: ['localhost:5000/team/app:v2'], Layers: ['two.tar'] },
        ]),
      },
    ]);
    const unnamed = await openDockerArchive(path, 'read');
    const refusal = await unnamed.resolve('').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UsageError);
    expect((refusal as UsageError).hint).toContain('docker.io/library/busybox:latest');
    expect((refusal as UsageError).hint).toContain('localhost:5000/team/app:v2');

    const named = await openDockerArchive(path, 'read', { imageName: 'localhost:5000/team/app:v2' });
    const manifest = JSON.parse(
      Buffer.from(await named.fetchBytes(await named.resolve(''))).toString(),
    ) as ManifestJson;
    expect(manifest.layers[0]?.digest).toBe(sha256(second));
    const busybox = await unnamed.resolve('busybox');
    const busyboxManifest = JSON.parse(
      Buffer.from(await unnamed.fetchBytes(busybox)).toString(),
    ) as ManifestJson;
    expect(busyboxManifest.layers[0]?.digest).toBe(sha256(first));

    await expect(openDockerArchive(path, 'read', { imageName: 'nginx:1' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it.each([
    [
      'a manifest.json path that climbs out with ..',
      [{ name: 'manifest.json', content: JSON.stringify([{ Config: '../x.json', Layers: [] }]) }],
    ],
    [
      'an absolute layer path',
      [
        { name: 'c.json', content: '{}' },
        { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: ['/etc/passwd'] }]) },
      ],
    ],
    [
      'an entry named outside the archive',
      [
        { name: '../evil', content: 'x' },
        { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: [] }]) },
      ],
    ],
    [
      'a layer linked outside the archive',
      [
        { name: 'c.json', content: '{}' },
        { name: 'layer.tar', type: 'symlink', linkname: '../../etc/passwd' },
        { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: ['layer.tar'] }]) },
      ],
    ],
    [
      'a manifest.json naming a missing entry',
      [{ name: 'manifest.json', content: JSON.stringify([{ Config: 'missing.json', Layers: [] }]) }],
    ],
    ['an archive without manifest.json', [{ name: 'index.json', content: '{}' }]],
  ] as [string, Entry[]][])('refuses %s as invalid content', async (_case, entries) => {
    const path = await writeArchive(entries);
    await expect(openDockerArchive(path, 'read')).rejects.toBeInstanceOf(InvalidContentError);
  });

  it('refuses a file that is not a tar and reports a missing file as not found', async () => {
    const directory = await tempDir();
    await writeFile(join(directory, 'garbage.tar'), 'x'.repeat(2048));
    await expect(openDockerArchive(join(directory, 'garbage.tar'), 'read')).rejects.toBeInstanceOf(
      InvalidContentError,
    );
    await expect(openDockerArchive(join(directory, 'absent.tar'), 'read')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

/** An image as the copy engine would push it: config, layers, then an OCI manifest. */
async function sampleImage() {
  const layers = [gzipSync(await layerTar('one')), await layerTar('two')];
  const config = configOf(layers);
  const configDescriptor = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: sha256(config),
    size: config.byteLength,
  };
  const layerDescriptors = layers.map((bytes) => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    digest: sha256(bytes),
    size: bytes.byteLength,
  }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDescriptor,
      layers: layerDescriptors,
    }),
  );
  const manifestDescriptor = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256(manifest),
    size: manifest.byteLength,
  };
  return { config, layers, manifest, configDescriptor, layerDescriptors, manifestDescriptor };
}

describe('docker-archive writer', () => {
  it('writes a tar whose manifest.json and repositories name the pushed image and whose entries verify', async () => {
    const image = await sampleImage();
    const path = join(await tempDir(), 'out.tar');
    const archive = await openDockerArchive(path, 'write');
    await Promise.all([
      archive.push(image.configDescriptor, Readable.from([image.config])),
      ...image.layers.map((bytes, i) => archive.push(image.layerDescriptors[i]!, Readable.from([bytes]))),
    ]);
    expect(await archive.exists(image.layerDescriptors[0]!)).toBe(true);
    await archive.push(image.manifestDescriptor, Readable.from([image.manifest]));
    await archive.tag(image.manifestDescriptor, 'example.com/team/app:v1');
    await archive.close();

    const entries = await readTar(path);
    const links = await readTarLinks(path);
    const configName = `${hexOf(image.config)}.json`;
    const layerNames = image.layers.map((bytes) => `${hexOf(bytes)}.tar`);
    expect(JSON.parse(entries.get('manifest.json')!.toString())).toEqual([
      { Config: configName, RepoTags: ['example.com/team/app:v1'], Layers: layerNames },
    ]);
    expect(JSON.parse(entries.get('repositories')!.toString())).toEqual({
      'example.com/team/app': { v1: hexOf(image.layers[1]!) },
    });
    // The layer `repositories` names exists, as docker save's legacy layer directory.
    const top = hexOf(image.layers[1]!);
    expect(entries.get(`${top}/VERSION`)?.toString()).toBe('1.0');
    expect(JSON.parse(entries.get(`${top}/json`)!.toString())).toEqual({ id: top });
    expect(links.get(`${top}/layer.tar`)).toBe(`../${top}.tar`);
    for (const name of [configName, ...layerNames])
      expect(hexOf(entries.get(name)!)).toBe(name.split('.')[0]);

    const reread = await openDockerArchive(path, 'read', { imageName: 'example.com/team/app:v1' });
    const manifest = JSON.parse(
      Buffer.from(await reread.fetchBytes(await reread.resolve(''))).toString(),
    ) as ManifestJson;
    expect(manifest.config.digest).toBe(image.configDescriptor.digest);
    expect(manifest.layers.map((layer) => [layer.digest, layer.mediaType])).toEqual([
      [image.layerDescriptors[0]!.digest, 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
      [image.layerDescriptors[1]!.digest, DOCKER_LAYER_TAR],
    ]);
  });

  it('is written at the end of an await using block, and leaves nothing when the block throws first', async () => {
    const image = await sampleImage();
    const directory = await tempDir();
    const written = join(directory, 'written.tar');
    {
      await using archive = await openDockerArchive(written, 'write', { imageName: 'app:v1' });
      await archive.push(image.configDescriptor, Readable.from([image.config]));
      for (const [i, bytes] of image.layers.entries()) {
        await archive.push(image.layerDescriptors[i]!, Readable.from([bytes]));
      }
      await archive.push(image.manifestDescriptor, Readable.from([image.manifest]));
    }
    const abandoned = async () => {
      await using archive = await openDockerArchive(join(directory, 'abandoned.tar'), 'write');
      await archive.resolve('app:v1');
    };
    await expect(abandoned()).rejects.toBeInstanceOf(NotFoundError);
    expect(await readdir(directory)).toEqual(['written.tar']);
    expect(JSON.parse((await readTar(written)).get('manifest.json')!.toString())[0].RepoTags).toEqual([
      'docker.io/library/app:v1',
    ]);
  });

  it('joins a bare tag to the repository of the archive name, and names an untagged copy with it', async () => {
    const image = await sampleImage();
    for (const [tag, expected] of [
      ['v9', 'docker.io/library/app:v9'],
      [undefined, 'docker.io/library/app:latest'],
    ] as const) {
      const path = join(await tempDir(), 'named.tar');
      const archive = await openDockerArchive(path, 'write', { imageName: 'app' });
      await archive.push(image.configDescriptor, Readable.from([image.config]));
      for (const [i, bytes] of image.layers.entries())
        await archive.push(image.layerDescriptors[i]!, Readable.from([bytes]));
      await archive.push(image.manifestDescriptor, Readable.from([image.manifest]));
      if (tag) await archive.tag(image.manifestDescriptor, tag);
      await archive.close();
      const [entry] = JSON.parse((await readTar(path)).get('manifest.json')!.toString()) as {
        RepoTags: string[];
      }[];
      expect(entry?.RepoTags).toEqual([expected]);
    }
  });

  it('leaves neither FILE nor a temporary file when a pushed blob does not match its digest', async () => {
    const image = await sampleImage();
    const directory = await tempDir();
    const path = join(directory, 'broken.tar');
    const archive = await openDockerArchive(path, 'write');
    await archive.push(image.configDescriptor, Readable.from([image.config]));
    const tampered = Buffer.from(image.layers[1]!);
    tampered[0] = tampered[0]! ^ 0xff;
    await expect(archive.push(image.layerDescriptors[1]!, Readable.from([tampered]))).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    await expect(archive.push(image.layerDescriptors[0]!, Readable.from([image.layers[0]!]))).rejects.toThrow(
      /earlier push failed/,
    );
    await archive.close();
    expect(await readdir(directory)).toEqual([]);
  });

  it('refuses an index with a hint to pick a platform, and then writes nothing', async () => {
    const image = await sampleImage();
    const directory = await tempDir();
    const archive = await openDockerArchive(join(directory, 'multi.tar'), 'write');
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ ...image.manifestDescriptor, platform: { os: 'linux', architecture: 'amd64' } }],
      }),
    );
    const pushing = archive.push(
      { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(index), size: index.byteLength },
      Readable.from([index]),
    );
    await expect(pushing).rejects.toMatchObject({
      code: 'USAGE',
      option: 'platforms',
      message: expect.stringMatching(/one platform/),
    });
    await archive.close();
    expect(await readdir(directory)).toEqual([]);
  });

  it('refuses a manifest whose layers were not pushed first', async () => {
    const image = await sampleImage();
    const archive = await openDockerArchive(join(await tempDir(), 'partial.tar'), 'write');
    await archive.push(image.configDescriptor, Readable.from([image.config]));
    await expect(
      archive.push(image.manifestDescriptor, Readable.from([image.manifest])),
    ).rejects.toBeInstanceOf(NotFoundError);
    await archive.close();
  });
});

describe('docker-archive writer and an existing file', () => {
  async function writeImage(path: string, options: { imageName?: string; tag?: string }) {
    const image = await sampleImage();
    const archive = await openDockerArchive(path, 'write', { imageName: options.imageName });
    await archive.push(image.configDescriptor, Readable.from([image.config]));
    for (const [i, bytes] of image.layers.entries())
      await archive.push(image.layerDescriptors[i]!, Readable.from([bytes]));
    await archive.push(image.manifestDescriptor, Readable.from([image.manifest]));
    if (options.tag) await archive.tag(image.manifestDescriptor, options.tag);
    await archive.close();
  }

  it('refuses a second image instead of replacing the first, before and after the copy, and leaves the file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'held.tar');
    await writeImage(path, { imageName: 'example.com/a:v1' });
    const before = await readFile(path);
    await expect(writeImage(path, { imageName: 'example.com/b:v2' })).rejects.toThrow(
      `docker-archive ${path} already holds example.com/a:v1: writing would replace it`,
    );
    await expect(writeImage(path, { tag: 'example.com/b:v2' })).rejects.toThrow(
      /already holds example.com\/a:v1/,
    );
    expect(await readFile(path)).toEqual(before);
    expect(await readdir(dir)).toEqual(['held.tar']);
  });

  it('replaces an archive when the copy writes the same image names again (a re-run)', async () => {
    const path = join(await tempDir(), 'rerun.tar');
    await writeImage(path, { imageName: 'example.com/a:v1' });
    await writeImage(path, { imageName: 'example.com/a:v1' });
    await writeImage(path, { tag: 'example.com/a:v1' });
    const unnamed = join(await tempDir(), 'unnamed.tar');
    await writeImage(unnamed, {});
    await writeImage(unnamed, {});
    const entries = JSON.parse((await readTar(unnamed)).get('manifest.json')!.toString()) as unknown[];
    expect(entries).toHaveLength(1);
  });

  it('refuses to replace a file that is not a docker-archive, and accepts an empty one', async () => {
    const dir = await tempDir();
    const other = join(dir, 'notes.tar');
    await writeFile(other, 'not a tar at all, and precious');
    await expect(writeImage(other, { imageName: 'example.com/a:v1' })).rejects.toThrow(
      /exists and is not a docker-archive/,
    );
    expect(await readFile(other, 'utf8')).toBe('not a tar at all, and precious');
    const empty = join(dir, 'empty.tar');
    await writeFile(empty, '');
    await writeImage(empty, { imageName: 'example.com/a:v1' });
    expect((await readFile(empty)).byteLength).toBeGreaterThan(0);
  });
});
