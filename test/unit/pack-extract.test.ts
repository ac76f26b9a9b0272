import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractTarGzip } from '../../src/artifacts/extract.js';
import { packDirectory } from '../../src/artifacts/pack.js';
import { PathTraversalError } from '../../src/artifacts/safe-path.js';
import { SizeLimitError } from '../../src/errors.js';
import { type TarEntry, tarOf } from '../fixtures/tar.js';
import { tempDir } from '../fixtures/temp.js';

type Entry = TarEntry;

const tarGzip = async (entries: Entry[]) => gzipSync(await tarOf(entries));

async function listTree(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, prefix))).sort()) {
    const relative = join(prefix, name);
    const stats = await lstat(join(root, relative));
    if (stats.isDirectory()) out.push(`${relative}/`, ...(await listTree(root, relative)));
    else if (stats.isSymbolicLink()) out.push(`${relative} -> ${await readlink(join(root, relative))}`);
    else out.push(`${relative} = ${await readFile(join(root, relative), 'utf8')}`);
  }
  return out;
}

async function sampleTree(): Promise<string> {
  const root = await tempDir();
  const tree = join(root, 'site');
  await mkdir(join(tree, 'nested', 'deeper'), { recursive: true });
  await writeFile(join(tree, 'index.html'), '<h1>hi</h1>');
  await writeFile(join(tree, 'empty'), '');
  await writeFile(join(tree, 'nested', 'deeper', 'ünïcödé файл.txt'), 'unicode');
  await symlink('index.html', join(tree, 'home.html'));
  return tree;
}

describe('directories pack reproducibly and unpack byte for byte', () => {
  it('packs the same directory to the same digest, whatever the file times', async () => {
    const tree = await sampleTree();
    const first = await packDirectory(tree, 'site');
    await utimes(join(tree, 'index.html'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = await packDirectory(tree, 'site');
    expect(second.descriptor.digest).toBe(first.descriptor.digest);
    expect(first.descriptor.annotations).toMatchObject({
      'org.opencontainers.image.title': 'site',
      'io.deis.oras.content.unpack': 'true',
    });
    expect(first.descriptor.annotations?.['io.deis.oras.content.digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    await Promise.all([first.remove(), second.remove()]);
  });

  it('unpacks what it packed: nested directories, empty files, unicode names, inner links', async () => {
    const tree = await sampleTree();
    const packed = await packDirectory(tree, 'site');
    const out = await tempDir();
    await extractTarGzip(createReadStream(packed.path), out);
    expect(await listTree(join(out, 'site'))).toEqual(await listTree(tree));
    await packed.remove();
  });
});

describe('extraction refuses what would escape the output directory', () => {
  it.each<[string, Entry[]]>([
    ['a ../ entry', [{ name: '../evil', content: 'x' }]],
    ['an absolute entry', [{ name: '/etc/evil', content: 'x' }]],
    [
      'a symlink to /etc',
      [
        { name: 'a', type: 'symlink', linkname: '/etc' },
        { name: 'a/passwd', content: 'x' },
      ],
    ],
    ['a symlink that climbs out', [{ name: 'a', type: 'symlink', linkname: '../../outside' }]],
    ['a hard link to the working directory', [{ name: 'h', type: 'link', linkname: 'secret' }]],
    ['a hard link that climbs out', [{ name: 'h', type: 'link', linkname: '../../x' }]],
  ])('refuses %s and writes nothing outside', async (_name, entries) => {
    const parent = await tempDir();
    const out = join(parent, 'out');
    await mkdir(out);
    await expect(extractTarGzip(Readable.from([await tarGzip(entries)]), out)).rejects.toThrow(
      PathTraversalError,
    );
    expect(await readdir(parent)).toEqual(['out']);
  });

  it('refuses to write through a symlink the archive planted, even one pointing inside', async () => {
    const out = await tempDir();
    const entries: Entry[] = [
      { name: 'dir', type: 'directory' },
      { name: 'link', type: 'symlink', linkname: 'dir' },
      { name: 'link/file', content: 'x' },
    ];
    await expect(extractTarGzip(Readable.from([await tarGzip(entries)]), out)).rejects.toThrow(
      /symbolic link/,
    );
  });

  it('skips device files and duplicate names with a warning', async () => {
    const out = await tempDir();
    const warnings: string[] = [];
    const entries: Entry[] = [
      { name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'twice', content: 'first' },
      { name: 'twice', content: 'second' },
    ];
    await extractTarGzip(Readable.from([await tarGzip(entries)]), out, { warn: (m) => warnings.push(m) });
    expect(await readdir(out)).toEqual(['twice']);
    expect(await readFile(join(out, 'twice'), 'utf8')).toBe('first');
    expect(warnings).toHaveLength(2);
  });

  it('stops a decompression bomb at the ratio cap', async () => {
    const out = await tempDir();
    const bomb = await tarGzip([{ name: 'zeros', content: '\0'.repeat(8 * 1024 * 1024) }]);
    const limits = { maxRatio: 50, ratioFloor: 1024 * 1024 };
    await expect(extractTarGzip(Readable.from([bomb]), out, { limits })).rejects.toThrow(SizeLimitError);
    await expect(extractTarGzip(Readable.from([bomb]), await tempDir(), { limits })).rejects.toThrow(
      /uncompressed size limit exceeded/,
    );
  });

  it('stops at the total size cap', async () => {
    const archive = await tarGzip([{ name: 'big', content: 'x'.repeat(200_000) }]);
    await expect(
      extractTarGzip(Readable.from([archive]), await tempDir(), { limits: { maxBytes: 100_000 } }),
    ).rejects.toThrow(/uncompressed size limit exceeded/);
  });
});
