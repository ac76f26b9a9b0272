import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { copyGraph } from '../../src/copy/index.js';
import { InvalidContentError, NotFoundError, UsageError } from '../../src/errors.js';
import { MediaType } from '../../src/oci/index.js';
import { parseReference } from '../../src/ref/index.js';
import type { OciLayoutReference } from '../../src/ref/types.js';
import { settleLayoutReference } from '../../src/targets/layout/readings.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { openOciArchive } from '../../src/targets/oci-archive.js';
import { openOciLayout } from '../../src/targets/oci-layout.js';
import { listOf } from '../fixtures/listing.js';
import { tempDir } from '../fixtures/temp.js';
import { put, putImage, twoPlatformIndex } from './copy-fixtures.js';

async function imageSource(label: string) {
  const source = new MemoryTarget();
  const layer = await put(source, Buffer.from(`layer ${label}`), MediaType.ociLayerGzip);
  const { manifest } = await putImage(source, label, [layer]);
  return { source, manifest, layer };
}

async function writeArchive(file: string, images: Array<{ label: string; tag: string }>) {
  const writer = await openOciArchive(file, 'write');
  const written = [];
  for (const { label, tag } of images) {
    const { source, manifest, layer } = await imageSource(label);
    await copyGraph(source, writer, manifest, { tags: [tag] });
    written.push({ manifest, layer });
  }
  await writer.close();
  return written;
}

describe('oci-archive: a tarred OCI layout', () => {
  it('writes an index with every blob, and reads each back in place, verified', async () => {
    const file = join(await tempDir(), 'two.tar');
    const source = new MemoryTarget();
    const index = await twoPlatformIndex(source);
    const writer = await openOciArchive(file, 'write');
    await copyGraph(source, writer, index.index, { tags: ['localhost:5000/x:tag'] });
    await writer.close();

    const reader = await openOciArchive(file, 'read');
    const root = await reader.resolve('localhost:5000/x:tag');
    expect(root.digest).toBe(index.index.digest);
    expect((await reader.resolve('')).digest).toBe(index.index.digest);
    const copy = new MemoryTarget();
    const result = await copyGraph(reader, copy, root, {});
    expect(result.root.digest).toBe(index.index.digest);
    expect(await buffer(await copy.fetch(index.shared))).toEqual(Buffer.from('shared layer'));
    expect(await listOf(reader.tags())).toEqual(['localhost:5000/x:tag']);
    expect((await readdir(join(file, '..'))).filter((name) => name !== 'two.tar')).toEqual([]);
  });

  it('adds a tag to an existing archive and keeps the images it holds', async () => {
    const file = join(await tempDir(), 'both.tar');
    const [first] = await writeArchive(file, [{ label: 'one', tag: 'v1' }]);
    const [second] = await writeArchive(file, [{ label: 'two', tag: 'v2' }]);
    const reader = await openOciArchive(file, 'read');
    expect((await reader.resolve('v1')).digest).toBe(first?.manifest.digest);
    expect((await reader.resolve('v2')).digest).toBe(second?.manifest.digest);
    await expect(reader.resolve('')).rejects.toThrow(/holds 2 manifests.*name one/);
  });

  it('leaves the file as it was when nothing was written or a push failed', async () => {
    const file = join(await tempDir(), 'kept.tar');
    await writeArchive(file, [{ label: 'one', tag: 'v1' }]);
    const before = await readFile(file);
    await (await openOciArchive(file, 'write')).close();
    const writer = await openOciArchive(file, 'write');
    const { manifest } = await imageSource('two');
    await expect(writer.push(manifest, Readable.from([Buffer.from('not the manifest')]))).rejects.toThrow();
    await writer.close();
    expect(await readFile(file)).toEqual(before);
    expect((await readdir(join(file, '..'))).sort()).toEqual(['kept.tar']);
  });

  it('untags one name and keeps the blobs', async () => {
    const file = join(await tempDir(), 'untag.tar');
    const [image] = await writeArchive(file, [{ label: 'one', tag: 'v1' }]);
    const writer = await openOciArchive(file, 'write');
    await writer.tag(image!.manifest, 'v2');
    expect((await writer.untag('v1')).digest).toBe(image?.manifest.digest);
    await writer.close();
    const reader = await openOciArchive(file, 'read');
    expect(await listOf(reader.tags())).toEqual(['v2']);
    await expect(reader.resolve('v1')).rejects.toThrow(NotFoundError);
  });

  it('refuses a docker save tarball, naming docker-archive:, and does not replace it', async () => {
    const dir = await tempDir();
    const dockerSave = join(dir, 'docker.tar');
    const { pack } = await import('tar-stream');
    const tar = pack();
    tar.entry({ name: 'manifest.json' }, '[]');
    tar.finalize();
    await writeFile(dockerSave, await buffer(tar as unknown as Readable));
    const refused = openOciArchive(dockerSave, 'read');
    await expect(refused).rejects.toThrow(InvalidContentError);
    await expect(openOciArchive(dockerSave, 'read')).rejects.toMatchObject({
      hint: `it is a docker save tarball: read docker-archive:${dockerSave}`,
    });
    await expect(openOciArchive(dockerSave, 'write')).rejects.toThrow(/not a tarred OCI layout/);
    expect((await readdir(dir)).sort()).toEqual(['docker.tar']);
  });

  it('refuses to write over a directory', async () => {
    const dir = await tempDir();
    await expect(openOciArchive(dir, 'write')).rejects.toThrow(UsageError);
  });
});

describe('oci: and tarballs', () => {
  it('refuses oci:NAME.tar that would create a directory, pointing at oci-archive:', async () => {
    const file = join(await tempDir(), 'image.tar');
    await expect(openOciLayout(file, { create: true })).rejects.toMatchObject({
      hint: `a tarred OCI layout is written with oci-archive:${file}`,
    });
    await writeArchive(file, [{ label: 'one', tag: 'v1' }]);
    await expect(openOciLayout(file)).rejects.toMatchObject({
      hint: `a tarred OCI layout is read with oci-archive:${file}`,
    });
  });

  it('still opens an existing layout directory whose name ends in .tar', async () => {
    const dir = join(await tempDir(), 'odd.tar');
    await mkdir(dir);
    await expect(openOciLayout(dir, { create: true })).resolves.toBeDefined();
  });
});

describe('settling an oci: reference against the filesystem', () => {
  const settle = (input: string) => settleLayoutReference(parseReference(input) as OciLayoutReference);

  it('addresses a podman ref name holding ":" in an existing layout', async () => {
    const dir = await tempDir();
    expect(settle(`oci:${dir}:localhost:5000/x:tag`)).toEqual({
      kind: 'oci',
      path: dir,
      tag: 'localhost:5000/x:tag',
    });
    expect(settle(`oci:${dir}:v1`)).toEqual({ kind: 'oci', path: dir, tag: 'v1' });
  });

  it('prefers the longest existing path, so a directory with ":" in its name still works', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'a:b'));
    expect(settle(`oci:${dir}/a:b:v1`)).toEqual({ kind: 'oci', path: `${dir}/a:b`, tag: 'v1' });
    expect(settle(`oci:${dir}/a:b`)).toEqual({ kind: 'oci', path: `${dir}/a:b` });
  });

  it('keeps the parsed reading when no path exists yet', async () => {
    const dir = await tempDir();
    expect(settle(`oci:${dir}/new:localhost:5000/x:tag`)).toEqual({
      kind: 'oci',
      path: `${dir}/new:localhost:5000/x`,
      tag: 'tag',
    });
  });
});

describe("containers/image's oci: transport cases (oci/layout/oci_transport_test.go) on existing directories", () => {
  // skopeo splits at the first ":"; tug settles every split against the filesystem, so on an
  // existing directory both read DIR and the rest as the ref name. `DIR:` (an empty ref name) is
  // refused by tug as a malformed tag, and a directory that does not exist keeps the last-":" reading.
  it.each([
    ['PEER:notlatest:image', 'PEER', 'notlatest:image'],
    ['PEER:latestimage', 'PEER', 'latestimage'],
    ['PEER', 'PEER', undefined],
    ['PEER/dir1:notlatest:notlatest', 'PEER/dir1', 'notlatest:notlatest'],
    ['/etc:notlatest:image', '/etc', 'notlatest:image'],
    ['/:latestimage', '/', 'latestimage'],
  ])('%s', async (input, path, tag) => {
    const dir = await tempDir();
    await mkdir(join(dir, 'dir1'));
    const settled = settleLayoutReference(
      parseReference(`oci:${input.replaceAll('PEER', dir)}`) as OciLayoutReference,
    );
    expect(settled).toEqual({ kind: 'oci', path: path.replaceAll('PEER', dir), ...(tag ? { tag } : {}) });
  });
});
