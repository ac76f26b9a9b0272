import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DigestMismatchError,
  InvalidContentError,
  InvalidReferenceError,
  NotFoundError,
  SizeLimitError,
  UsageError,
} from '../../src/errors.js';
import { MediaType } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';
import { verifiedFrom } from '../../src/oci/verify-stream.js';
import { openOciLayout } from '../../src/targets/oci-layout.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(scratchDirs.splice(0).map((path) => rm(path, { recursive: true, force: true })));
});

/** A fresh directory removed when this file's tests end. */
async function scratchDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'tug-layout-'));
  scratchDirs.push(path);
  return path;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function blob(
  bytes: Buffer,
  mediaType: string = MediaType.ociLayerGzip,
): { descriptor: Descriptor; bytes: Buffer } {
  return { descriptor: { mediaType, digest: sha256(bytes), size: bytes.byteLength }, bytes };
}

function manifestBlob(label: string): { descriptor: Descriptor; bytes: Buffer } {
  const config = { mediaType: MediaType.ociEmpty, digest: sha256(Buffer.from('{}')), size: 2 };
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config,
      layers: [],
      annotations: { label },
    }),
  );
  return blob(bytes, MediaType.ociManifest);
}

async function newLayout() {
  const root = join(await scratchDir(), 'layout');
  return { root, target: await openOciLayout(root, { create: true }) };
}

async function pushManifest(target: Awaited<ReturnType<typeof openOciLayout>>, label: string) {
  const manifest = manifestBlob(label);
  await target.push(manifest.descriptor, Readable.from([manifest.bytes]));
  return manifest.descriptor;
}

async function indexJson(root: string): Promise<{ manifests: Descriptor[] } & Record<string, unknown>> {
  return JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
}

describe('opening a layout', () => {
  it('reports a missing directory as not found when not asked to create it', async () => {
    const missing = join(await scratchDir(), 'nothing-here');
    await expect(openOciLayout(missing)).rejects.toThrow(NotFoundError);
    await expect(openOciLayout(missing)).rejects.toThrow(`no OCI layout at ${missing}`);
  });

  it('refuses a directory without an oci-layout file', async () => {
    const directory = await scratchDir();
    await writeFile(join(directory, 'unrelated.txt'), 'x');
    await expect(openOciLayout(directory)).rejects.toThrow(InvalidContentError);
    await expect(openOciLayout(directory, { create: true })).rejects.toThrow(InvalidContentError);
  });

  it('refuses an oci-layout file with an unsupported version', async () => {
    const directory = await scratchDir();
    await writeFile(join(directory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '2.0.0' }));
    await expect(openOciLayout(directory)).rejects.toThrow(/unsupported imageLayoutVersion/);
  });

  it('writes oci-layout and index.json into an empty directory on the first push', async () => {
    const root = await scratchDir();
    const target = await openOciLayout(root, { create: true });
    expect(await readdir(root)).toEqual([]);
    const layer = blob(randomBytes(100));
    await target.push(layer.descriptor, Readable.from([layer.bytes]));
    expect(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    expect(await indexJson(root)).toEqual({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
  });
});

describe('blobs', () => {
  it('stores a pushed blob under blobs/sha256/HEX and streams it back verified', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(300_000));
    await target.push(
      layer.descriptor,
      Readable.from([layer.bytes.subarray(0, 1000), layer.bytes.subarray(1000)]),
    );
    const path = join(root, 'blobs', 'sha256', layer.descriptor.digest.slice('sha256:'.length));
    expect(sha256(await readFile(path))).toBe(layer.descriptor.digest);
    expect((await stat(path)).mode & 0o777).toBe(0o644 & ~process.umask());
    expect(await target.exists(layer.descriptor)).toBe(true);
    expect(sha256(await buffer(await target.fetch(layer.descriptor)))).toBe(layer.descriptor.digest);
    expect(sha256(await target.fetchBytes(layer.descriptor))).toBe(layer.descriptor.digest);
  });

  it('says a blob that was never pushed does not exist, and fetching it is not found', async () => {
    const { target } = await newLayout();
    const layer = blob(randomBytes(10));
    expect(await target.exists(layer.descriptor)).toBe(false);
    await expect(target.fetch(layer.descriptor)).rejects.toThrow(NotFoundError);
  });

  it('leaves neither the blob nor a temporary file when the pushed bytes do not match the digest', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(5000));
    const impostor = randomBytes(5000);
    await expect(target.push(layer.descriptor, Readable.from([impostor]))).rejects.toThrow(
      DigestMismatchError,
    );
    expect(await readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
    expect(await target.exists(layer.descriptor)).toBe(false);
  });

  it('stops a push at the first byte past the declared size and leaves nothing behind', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(1000));
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 1000;
        this.push(produced === 1000 ? layer.bytes : randomBytes(1000));
      },
    });
    await expect(target.push(layer.descriptor, endless)).rejects.toThrow(SizeLimitError);
    expect(produced).toBeLessThan(100_000);
    expect(await readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('leaves nothing behind when the source ends short of the declared size', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(1000));
    await expect(
      target.push(layer.descriptor, Readable.from([layer.bytes.subarray(0, 999)])),
    ).rejects.toThrow(/short read/);
    expect(await readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('refuses a verified stream that someone else had already read, writing no empty blob', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(1000));
    const read = verifiedFrom(Readable.from([layer.bytes]), layer.descriptor);
    await buffer(read);
    await expect(target.push(layer.descriptor, read)).rejects.toThrow(/short read: got 0 of 1000 bytes/);
    expect(await readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('fails a fetch of a blob whose bytes on disk were altered', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(2000));
    await target.push(layer.descriptor, Readable.from([layer.bytes]));
    await writeFile(join(root, 'blobs', 'sha256', layer.descriptor.digest.slice(7)), randomBytes(2000));
    await expect(buffer(await target.fetch(layer.descriptor))).rejects.toThrow(DigestMismatchError);
  });

  it('refuses to read or write a blob that is a symbolic link', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(64));
    const other = blob(randomBytes(64));
    await target.push(other.descriptor, Readable.from([other.bytes]));
    const outside = join(await scratchDir(), 'outside');
    await writeFile(outside, layer.bytes);
    const linkPath = join(root, 'blobs', 'sha256', layer.descriptor.digest.slice(7));
    await symlink(outside, linkPath);
    await expect(target.fetch(layer.descriptor)).rejects.toThrow(InvalidContentError);
    await expect(target.fetchBytes(layer.descriptor)).rejects.toThrow(InvalidContentError);
    expect(await target.exists(layer.descriptor)).toBe(false);
    await expect(target.push(layer.descriptor, Readable.from([layer.bytes]))).rejects.toThrow(
      InvalidContentError,
    );
    expect(await readFile(outside)).toEqual(layer.bytes);
  });

  it('refuses to write through a blobs directory that is a symbolic link, creating nothing through it', async () => {
    const root = await scratchDir();
    const outside = await scratchDir();
    await writeFile(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    await symlink(outside, join(root, 'blobs'));
    const target = await openOciLayout(root, { create: true });
    const layer = blob(randomBytes(64));
    await expect(target.push(layer.descriptor, Readable.from([layer.bytes]))).rejects.toThrow(
      InvalidContentError,
    );
    expect(await readdir(outside)).toEqual([]);
  });

  it('keeps a blob already stored and consumes the new content without rewriting it', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(100));
    await target.push(layer.descriptor, Readable.from([layer.bytes]));
    const path = join(root, 'blobs', 'sha256', layer.descriptor.digest.slice(7));
    const before = await stat(path);
    const again = Readable.from([layer.bytes]);
    await target.push(layer.descriptor, again);
    expect(again.readableEnded).toBe(true);
    expect((await stat(path)).ino).toBe(before.ino);
  });

  it('writes a blob pushed twice at once a single time', async () => {
    const { root, target } = await newLayout();
    const layer = blob(randomBytes(200_000));
    const sources = [0, 1, 2].map(() => Readable.from([layer.bytes]));
    await Promise.all(sources.map((source) => target.push(layer.descriptor, source)));
    expect(sources.every((source) => source.readableEnded)).toBe(true);
    expect(await readdir(join(root, 'blobs', 'sha256'))).toEqual([layer.descriptor.digest.slice(7)]);
    expect(sha256(await readFile(join(root, 'blobs', 'sha256', layer.descriptor.digest.slice(7))))).toBe(
      layer.descriptor.digest,
    );
  });

  it('refuses a manifest read over the size cap before reading it', async () => {
    const root = join(await scratchDir(), 'layout');
    const target = await openOciLayout(root, { create: true, maxManifestBytes: 100 });
    const big = blob(randomBytes(101), MediaType.ociManifest);
    await target.push(big.descriptor, Readable.from([big.bytes]));
    await expect(target.fetchBytes(big.descriptor)).rejects.toThrow(SizeLimitError);
  });

  it.each([
    'sha256:../../secret',
    'sha256:../../etc/passwd',
    'sha256',
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'a'.repeat(63)}`,
    `md5:${'a'.repeat(32)}`,
  ])('refuses the digest %s before touching the filesystem', async (digest) => {
    const parent = await scratchDir();
    const root = join(parent, 'layout');
    const target = await openOciLayout(root, { create: true });
    const descriptor = { mediaType: MediaType.ociLayer, digest, size: 6 };
    await expect(target.push(descriptor, Readable.from([Buffer.from('secret')]))).rejects.toThrow(
      InvalidContentError,
    );
    await expect(target.tag(descriptor, 'v1')).rejects.toThrow(InvalidContentError);
    // Nothing was created: the layout directory would exist had any write started.
    expect(await readdir(parent)).toEqual([]);
    // A file where the traversal would land is never read.
    await mkdir(root);
    await writeFile(join(root, 'secret'), 'secret');
    await expect(target.fetch(descriptor)).rejects.toThrow(InvalidContentError);
    await expect(target.fetchBytes(descriptor)).rejects.toThrow(InvalidContentError);
    await expect(target.exists(descriptor)).rejects.toThrow(InvalidContentError);
  });

  it.each([-1, 2 ** 62, 1.5])('refuses the size %s before touching the filesystem', async (size) => {
    const parent = await scratchDir();
    const target = await openOciLayout(join(parent, 'layout'), { create: true });
    const descriptor = { mediaType: MediaType.ociLayer, digest: sha256(Buffer.from('x')), size };
    await expect(target.push(descriptor, Readable.from([Buffer.from('x')]))).rejects.toThrow(
      InvalidContentError,
    );
    await expect(target.fetchBytes(descriptor)).rejects.toThrow(InvalidContentError);
    expect(await readdir(parent)).toEqual([]);
  });
});

describe('tags and resolve', () => {
  it('resolves a tag to the manifest descriptor it was given, without the layout name annotation', async () => {
    const { root, target } = await newLayout();
    const manifest = await pushManifest(target, 'one');
    const tagged = {
      ...manifest,
      platform: { os: 'linux', architecture: 'arm64' },
      annotations: { keep: 'me' },
    };
    await target.tag(tagged, 'v1');
    expect(await target.resolve('v1')).toEqual(tagged);
    expect((await indexJson(root)).manifests).toEqual([
      { ...tagged, annotations: { keep: 'me', [REF_NAME]: 'v1' } },
    ]);
  });

  it('resolves a digest listed in index.json, and one only present as a blob by parsing it', async () => {
    const { target } = await newLayout();
    const listed = await pushManifest(target, 'listed');
    const unlisted = await pushManifest(target, 'unlisted');
    await target.tag(listed, 'v1');
    expect(await target.resolve(listed.digest)).toEqual(listed);
    expect(await target.resolve(unlisted.digest)).toEqual(unlisted);
  });

  it('resolves an empty reference to the only manifest, and asks for a tag when there are several', async () => {
    const { target } = await newLayout();
    const first = await pushManifest(target, 'first');
    await target.tag(first, 'a');
    expect(await target.resolve('')).toEqual(first);
    await target.tag(await pushManifest(target, 'second'), 'b');
    await expect(target.resolve('')).rejects.toThrow(UsageError);
    await expect(target.resolve('')).rejects.toThrow(/2 manifests/);
  });

  it('reports unknown tags and digests and an empty layout as not found', async () => {
    const { target } = await newLayout();
    await expect(target.resolve('')).rejects.toThrow(NotFoundError);
    await target.tag(await pushManifest(target, 'x'), 'v1');
    await expect(target.resolve('v2')).rejects.toThrow(NotFoundError);
    await expect(target.resolve(sha256(Buffer.from('absent')))).rejects.toThrow(NotFoundError);
  });

  it('refuses to tag a manifest the layout does not hold', async () => {
    const { target } = await newLayout();
    await expect(target.tag(manifestBlob('absent').descriptor, 'v1')).rejects.toThrow(NotFoundError);
  });

  it('refuses a tag outside the ref.name grammar', async () => {
    const { target } = await newLayout();
    const manifest = await pushManifest(target, 'x');
    for (const bad of ['', '../x', 'a b', '/abs', 'v1/']) {
      await expect(target.tag(manifest, bad)).rejects.toThrow(InvalidReferenceError);
    }
  });

  it('moves a tag to a new manifest and keeps every other entry of index.json as it was', async () => {
    const { root, target } = await newLayout();
    const foreign = {
      mediaType: MediaType.ociManifest,
      digest: sha256(Buffer.from('foreign')),
      size: 7,
      annotations: { [REF_NAME]: 'theirs', 'vendor.note': 'x' },
      'x-unknown-field': [1, 2],
    };
    const first = await pushManifest(target, 'first');
    await target.tag(first, 'v1');
    const index = await indexJson(root);
    await writeFile(
      join(root, 'index.json'),
      JSON.stringify({ ...index, annotations: { top: 'level' }, manifests: [foreign, ...index.manifests] }),
    );
    const second = await pushManifest(target, 'second');
    await target.tag(second, 'v1');
    const after = await indexJson(root);
    expect(after.annotations).toEqual({ top: 'level' });
    expect(after.manifests).toEqual([foreign, { ...second, annotations: { [REF_NAME]: 'v1' } }]);
    expect(await target.resolve('v1')).toEqual(second);
  });

  it('keeps index.json valid and complete when many tags are written at once', async () => {
    const { root, target } = await newLayout();
    const manifests = await Promise.all(Array.from({ length: 5 }, (_, i) => pushManifest(target, `m${i}`)));
    const names = Array.from({ length: 30 }, (_, i) => `tag-${i}`);
    await Promise.all(names.map((name, i) => target.tag(manifests[i % manifests.length]!, name)));
    const index = await indexJson(root);
    expect(index.manifests.map((entry) => entry.annotations?.[REF_NAME]).sort()).toEqual([...names].sort());
    const listed: string[] = [];
    for await (const name of target.tags()) listed.push(name);
    expect(listed.sort()).toEqual([...names].sort());
    expect((await readdir(root)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('lists each tag once', async () => {
    const { root, target } = await newLayout();
    const manifest = await pushManifest(target, 'dup');
    await target.tag(manifest, 'v1');
    const index = await indexJson(root);
    await writeFile(
      join(root, 'index.json'),
      JSON.stringify({ ...index, manifests: [...index.manifests, ...index.manifests] }),
    );
    const listed: string[] = [];
    for await (const name of target.tags()) listed.push(name);
    expect(listed).toEqual(['v1']);
  });

  it('refuses an index.json that lists an invalid descriptor', async () => {
    const { root, target } = await newLayout();
    await target.tag(await pushManifest(target, 'x'), 'v1');
    await writeFile(
      join(root, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: MediaType.ociManifest, digest: 'sha256:../../x', size: 1 }],
      }),
    );
    await expect(target.resolve('v1')).rejects.toThrow(InvalidContentError);
  });
});
