import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Annotation } from '../../src/artifacts/annotations.js';
import { FileTarget, refuseOverlappingTitles } from '../../src/artifacts/file-target.js';
import { PathTraversalError } from '../../src/artifacts/safe-path.js';
import type { Descriptor } from '../../src/oci/types.js';
import { linksLeadingOutside } from '../fixtures/links.js';
import { type TarEntry, tarOf } from '../fixtures/tar.js';
import { tempDir } from '../fixtures/temp.js';

interface Layer {
  descriptor: Descriptor;
  bytes: Buffer;
}

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function fileLayer(title: string, content: string): Layer {
  const bytes = Buffer.from(content);
  return {
    bytes,
    descriptor: {
      mediaType: 'application/octet-stream',
      digest: digestOf(bytes),
      size: bytes.byteLength,
      annotations: { [Annotation.title]: title },
    },
  };
}

async function directoryLayer(title: string, entries: TarEntry[]): Promise<Layer> {
  const bytes = gzipSync(await tarOf(entries));
  return {
    bytes,
    descriptor: {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: digestOf(bytes),
      size: bytes.byteLength,
      annotations: { [Annotation.title]: title, [Annotation.unpack]: 'true' },
    },
  };
}

const push = (target: FileTarget, { descriptor, bytes }: Layer) =>
  target.push(descriptor, Readable.from([bytes]));

/** An output directory two levels down, so a link climbing two levels above it stays in a test directory. */
async function nestedOutput(): Promise<{ base: string; out: string }> {
  const base = await tempDir();
  const out = join(base, 'p', 'out');
  await mkdir(out, { recursive: true });
  return { base, out };
}

async function expectNothingOutside(base: string, out: string): Promise<void> {
  expect(await readdir(base)).toEqual(['p']);
  expect(await readdir(join(base, 'p'))).toEqual(['out']);
  expect(await linksLeadingOutside(out)).toEqual([]);
}

const permutations = <T>(items: T[]): T[][] =>
  items.length <= 1
    ? [items]
    : items.flatMap((item, i) =>
        permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
      );

describe('a pull never writes through a link, whatever earlier layers planted', () => {
  it('does not trust a directory an earlier layer made once a later layer replaced it with a link chain', async () => {
    const { base, out } = await nestedOutput();
    const target = new FileTarget(out);
    await push(target, fileLayer('w/first.txt', 'first'));
    const planted = push(
      target,
      await directoryLayer('x', [
        { name: 'x/', type: 'directory' },
        { name: 'a/b/c/z', type: 'symlink', linkname: '../../..' },
        { name: 'w', type: 'symlink', linkname: 'a/b/c/z/../../outside' },
      ]),
    );
    await expect(planted).rejects.toThrow(PathTraversalError);
    await push(target, fileLayer('w/pwned.txt', 'pwned')).catch(() => undefined);
    await expectNothingOutside(base, out);
  });

  it('refuses the link chain spread over layers in every order, one at a time and all at once', async () => {
    const fileOnTop = fileLayer('d/w/pwned.txt', 'pwned');
    const layers = [
      await directoryLayer('a', [{ name: 'a/b/c/z', type: 'symlink', linkname: '../../..' }]),
      await directoryLayer('d', [{ name: 'd/w', type: 'symlink', linkname: '../a/b/c/z/../../outside' }]),
      fileOnTop,
    ];
    for (const order of [...permutations(layers), ...permutations(layers.slice(0, 2))]) {
      const { base, out } = await nestedOutput();
      const target = new FileTarget(out);
      const results = [];
      for (const layer of order)
        results.push(
          await push(target, layer).then(
            () => 'ok',
            (e: Error) => e,
          ),
        );
      expect(results.some((result) => result instanceof Error)).toBe(true);
      if (!order.includes(fileOnTop)) {
        expect(results.some((result) => result instanceof PathTraversalError)).toBe(true);
      }
      await expectNothingOutside(base, out);
    }
    const { base, out } = await nestedOutput();
    const target = new FileTarget(out);
    const together = await Promise.allSettled(layers.map((layer) => push(target, layer)));
    expect(together.some((result) => result.status === 'rejected')).toBe(true);
    await expectNothingOutside(base, out);
  });

  it('names the link and where it leads in the message', async () => {
    const { out } = await nestedOutput();
    const target = new FileTarget(out);
    await push(target, await directoryLayer('a', [{ name: 'a/up', type: 'symlink', linkname: '..' }]));
    await expect(
      push(target, await directoryLayer('d', [{ name: 'd/w', type: 'symlink', linkname: '../a/up/..' }])),
    ).rejects.toThrow('refusing the link d/w -> ../a/up/..: it leads outside the output directory');
    await symlink('../..', join(out, 'l'));
    await expect(push(target, fileLayer('l/pwned.txt', 'x'))).rejects.toThrow(
      'refusing to write l/pwned.txt: l is a symbolic link that leads outside the output directory',
    );
  });
});

describe('a directory layer unpacks only under its title', () => {
  it('refuses a layer titled docs that carries .git/config, and leaves .git alone', async () => {
    const { out } = await nestedOutput();
    await mkdir(join(out, '.git'));
    await writeFile(join(out, '.git', 'config'), 'mine');
    const target = new FileTarget(out);
    const layer = await directoryLayer('docs', [
      { name: 'docs/readme', content: 'read me' },
      { name: '.git/config', content: 'theirs' },
    ]);
    await expect(push(target, layer)).rejects.toThrow(
      'refusing to unpack .git/config: it lies outside docs/',
    );
    expect(await readFile(join(out, '.git', 'config'), 'utf8')).toBe('mine');
    expect((await readdir(out)).sort()).toEqual(['.git']);
  });

  it('accepts the ./ entry that tar -C DIR . writes, and ./docs/ names', async () => {
    const { out } = await nestedOutput();
    const target = new FileTarget(out);
    await push(
      target,
      await directoryLayer('docs', [
        { name: './', type: 'directory' },
        { name: './docs/', type: 'directory' },
        { name: './docs/readme', content: 'read me' },
      ]),
    );
    expect(await readFile(join(out, 'docs', 'readme'), 'utf8')).toBe('read me');
    expect(await readdir(out)).toEqual(['docs']);
  });

  it('keeps links that lead to a sibling of the layer inside the output', async () => {
    const { out } = await nestedOutput();
    const target = new FileTarget(out);
    await push(target, fileLayer('README', 'hello'));
    await push(
      target,
      await directoryLayer('docs', [{ name: 'docs/readme', type: 'symlink', linkname: '../README' }]),
    );
    expect(await readlink(join(out, 'docs', 'readme'))).toBe('../README');
    expect(await readFile(join(out, 'docs', 'readme'), 'utf8')).toBe('hello');
  });
});

describe('file modes', () => {
  it('keeps a packed file 0600 and an executable 0755, drops setuid, setgid and sticky bits', async () => {
    const { out } = await nestedOutput();
    const target = new FileTarget(out);
    await push(
      target,
      await directoryLayer('keys', [
        { name: 'keys/', type: 'directory', mode: 0o700 },
        { name: 'keys/id_ed25519', content: 'secret', mode: 0o600 },
        { name: 'keys/run', content: '#!/bin/sh', mode: 0o4755 },
        { name: 'keys/shared/', type: 'directory', mode: 0o3755 },
      ]),
    );
    const mode = async (name: string) => (await stat(join(out, 'keys', name))).mode & 0o7777;
    expect(await mode('id_ed25519')).toBe(0o600);
    expect(await mode('run')).toBe(0o755);
    expect(await mode('shared')).toBe(0o755);
    expect((await stat(join(out, 'keys'))).mode & 0o7777).toBe(0o700);
  });
});

describe('titles', () => {
  it.each([
    [['a.txt', 'a.txt'], 'two layers are titled a.txt'],
    [['docs', 'docs/a.txt'], 'the layer titled docs/a.txt lies inside the layer titled docs'],
    [['docs/', 'docs/a/../b'], 'the layer titled docs/b lies inside the layer titled docs'],
  ])('refuses %j before anything is written', (titles, message) => {
    expect(() => refuseOverlappingTitles(titles)).toThrow(message);
  });

  it('accepts distinct titles that share a directory', () => {
    expect(() => refuseOverlappingTitles(['docs/a', 'docs/b', 'docs2', 'c'])).not.toThrow();
  });

  it('refuses a second layer with a title already pulled', async () => {
    const { out } = await nestedOutput();
    const target = new FileTarget(out);
    await push(target, fileLayer('a.txt', 'first'));
    await expect(push(target, fileLayer('a.txt', 'second'))).rejects.toThrow('two layers are titled a.txt');
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('first');
  });
});

describe('what is already in the output directory', () => {
  it('replaces a link at a title with the file, never writing through it', async () => {
    const { base, out } = await nestedOutput();
    await writeFile(join(base, 'p', 'victim'), 'untouched');
    await symlink('../victim', join(out, 'a.txt'));
    await push(new FileTarget(out), fileLayer('a.txt', 'pulled'));
    expect((await lstat(join(out, 'a.txt'))).isFile()).toBe(true);
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('pulled');
    expect(await readFile(join(base, 'p', 'victim'), 'utf8')).toBe('untouched');
  });
});

describe('--allow-path-traversal', () => {
  it('writes a title that climbs out only when asked, file and directory alike', async () => {
    const { base, out } = await nestedOutput();
    await expect(push(new FileTarget(out), fileLayer('../shared.txt', 'x'))).rejects.toThrow(/climbs out/);
    const trusting = new FileTarget(out, { allowPathTraversal: true });
    await push(trusting, fileLayer('../shared.txt', 'shared'));
    await push(trusting, await directoryLayer('../site', [{ name: '../site/index.html', content: 'hi' }]));
    expect(await readFile(join(base, 'p', 'shared.txt'), 'utf8')).toBe('shared');
    expect(await readFile(join(base, 'p', 'site', 'index.html'), 'utf8')).toBe('hi');
    expect((await readdir(join(base, 'p'))).sort()).toEqual(['out', 'shared.txt', 'site']);
  });
});

describe('one blob under several titles', () => {
  it('writes a blob that two layers share under both titles', async () => {
    const { out } = await nestedOutput();
    const a = fileLayer('a.txt', 'same');
    const b = fileLayer('docs/b.txt', 'same');
    const target = new FileTarget(out, { layers: [a.descriptor, b.descriptor] });
    await push(target, a);
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('same');
    expect(await readFile(join(out, 'docs', 'b.txt'), 'utf8')).toBe('same');
    expect(target.pulled.map((file) => file.path).sort()).toEqual(['a.txt', 'docs/b.txt']);
  });
});
