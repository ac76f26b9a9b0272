import { createReadStream } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
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

describe('modes survive a push and a pull', () => {
  it('packs the real mode of each file and directory, and unpacks it', async () => {
    const tree = join(await tempDir(), 'keys');
    await mkdir(join(tree, 'private'), { recursive: true });
    await writeFile(join(tree, 'private', 'id_ed25519'), 'secret');
    await writeFile(join(tree, 'run'), '#!/bin/sh');
    await chmod(join(tree, 'private', 'id_ed25519'), 0o600);
    await chmod(join(tree, 'run'), 0o750);
    await chmod(join(tree, 'private'), 0o700);
    const packed = await packDirectory(tree, 'keys');
    const out = await tempDir();
    await extractTarGzip(createReadStream(packed.path), out);
    const mode = async (name: string) => (await stat(join(out, 'keys', name))).mode & 0o7777;
    expect(await mode('private/id_ed25519')).toBe(0o600);
    expect(await mode('run')).toBe(0o750);
    expect(await mode('private')).toBe(0o700);
    await packed.remove();
  });

  it('packs no setuid, setgid or sticky bit and no owner', async () => {
    const tree = join(await tempDir(), 'bits');
    await mkdir(tree);
    await writeFile(join(tree, 'tool'), 'x');
    await chmod(join(tree, 'tool'), 0o6755);
    const packed = await packDirectory(tree, 'bits');
    const headers: Array<{ name: string; mode: number; uid: number }> = [];
    const extract = (await import('tar-stream')).extract();
    const reading = (async () => {
      for await (const entry of extract) {
        headers.push({ name: entry.header.name, mode: entry.header.mode ?? 0, uid: entry.header.uid ?? 0 });
        entry.resume();
      }
    })();
    extract.end(gunzipSync(await readFile(packed.path)));
    await reading;
    expect(headers.find((h) => h.name === 'bits/tool')).toEqual({ name: 'bits/tool', mode: 0o755, uid: 0 });
    await packed.remove();
  });

  it('unpacks a 0600 file as 0600 and drops setuid, setgid and sticky bits', async () => {
    const out = await tempDir();
    const entries: Entry[] = [
      { name: 'key', content: 'secret', mode: 0o600 },
      { name: 'tool', content: 'x', mode: 0o6755 },
      { name: 'tmp/', type: 'directory', mode: 0o1755 },
    ];
    await extractTarGzip(Readable.from([await tarGzip(entries)]), out);
    expect((await stat(join(out, 'key'))).mode & 0o7777).toBe(0o600);
    expect((await stat(join(out, 'tool'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(out, 'tmp'))).mode & 0o7777).toBe(0o755);
  });
});

describe('archives written by tar -C DIR .', () => {
  it('accepts the ./ entry and ./ names', async () => {
    const out = await tempDir();
    const entries: Entry[] = [
      { name: './', type: 'directory' },
      { name: './a', content: 'a' },
      { name: './sub/', type: 'directory' },
      { name: './sub/b', content: 'b' },
    ];
    await extractTarGzip(Readable.from([await tarGzip(entries)]), out);
    expect(await listTree(out)).toEqual(['a = a', 'sub/', 'sub/b = b']);
  });
});

describe('links are checked against what is on disk, not only as text', () => {
  const chain: Entry[] = [
    { name: 'a/b/c/z', type: 'symlink', linkname: '../../..' },
    { name: 'w', type: 'symlink', linkname: 'a/b/c/z/../../outside' },
  ];

  it.each([
    ['planted first', chain],
    ['planted last', [...chain].reverse()],
  ])('refuses a link that leads outside through another link (%s)', async (_order, entries) => {
    const base = await tempDir();
    const out = join(base, 'p', 'out');
    await mkdir(out, { recursive: true });
    await expect(extractTarGzip(Readable.from([await tarGzip(entries)]), out)).rejects.toThrow(
      'refusing the link w -> a/b/c/z/../../outside: it leads outside the output directory',
    );
    expect(await lstat(join(out, 'w')).catch(() => undefined)).toBeUndefined();
    expect(await readdir(base)).toEqual(['p']);
  });

  it('refuses a hard link to a link that stays inside, and creates no link two levels above', async () => {
    const out = await tempDir();
    const entries: Entry[] = [
      { name: 'a/b/s', type: 'symlink', linkname: '../../x' },
      { name: 'h', type: 'link', linkname: 'a/b/s' },
    ];
    await expect(extractTarGzip(Readable.from([await tarGzip(entries)]), out)).rejects.toThrow(
      'refusing the hard link h -> a/b/s: a/b/s is not a file of this archive',
    );
    expect(await lstat(join(out, 'h')).catch(() => undefined)).toBeUndefined();
  });

  it.each<[string, Entry[]]>([
    [
      'a directory',
      [
        { name: 'd/', type: 'directory' },
        { name: 'h', type: 'link', linkname: 'd' },
      ],
    ],
    [
      'a file that comes later',
      [
        { name: 'h', type: 'link', linkname: 'f' },
        { name: 'f', content: 'x' },
      ],
    ],
    ['itself', [{ name: 'h', type: 'link', linkname: 'h' }]],
  ])('refuses a hard link to %s', async (_what, entries) => {
    const out = await tempDir();
    await expect(extractTarGzip(Readable.from([await tarGzip(entries)]), out)).rejects.toThrow(
      /refusing the hard link h -> .*: .* is not a file of this archive/,
    );
    expect(await lstat(join(out, 'h')).catch(() => undefined)).toBeUndefined();
  });

  it('refuses a hard link whose target sits behind a link the archive planted', async () => {
    const out = await tempDir();
    const entries: Entry[] = [
      { name: 'd/f', content: 'inside' },
      { name: 'e', type: 'symlink', linkname: 'd' },
      { name: 'h', type: 'link', linkname: 'e/f' },
    ];
    await expect(extractTarGzip(Readable.from([await tarGzip(entries)]), out)).rejects.toThrow(
      PathTraversalError,
    );
    expect(await lstat(join(out, 'h')).catch(() => undefined)).toBeUndefined();
  });

  it('still unpacks a hard link to a file of the archive', async () => {
    const out = await tempDir();
    const entries: Entry[] = [
      { name: 'd/f', content: 'shared' },
      { name: 'h', type: 'link', linkname: 'd/f' },
    ];
    await extractTarGzip(Readable.from([await tarGzip(entries)]), out);
    expect((await stat(join(out, 'h'))).ino).toBe((await stat(join(out, 'd', 'f'))).ino);
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
