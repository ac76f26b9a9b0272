import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { linksLeadingOutside } from '../fixtures/links.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { type TarEntry, tarOf } from '../fixtures/tar.js';
import { tempDir } from '../fixtures/temp.js';

const run = promisify(execFile);

let registry: RegistryFixture;

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
});

/** A layer as a hostile registry would serve it: any bytes, any title, packed or not. */
interface CraftedLayer {
  title: string;
  content: Buffer | string;
  /** A gzipped tar to be unpacked on pull. */
  unpack?: boolean;
}

const crafted = async (title: string, entries: TarEntry[]): Promise<CraftedLayer> => ({
  title,
  content: gzipSync(await tarOf(entries)),
  unpack: true,
});

/** Pushes the layers in order with tug itself, their titles and unpack marks set by an annotation file. */
async function pushCrafted(repository: string, layers: CraftedLayer[]): Promise<string> {
  const work = await tempDir();
  const annotations: Record<string, Record<string, string>> = {};
  const files: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const file = `layer${i}`;
    await writeFile(join(work, file), layer.content);
    annotations[file] = {
      'org.opencontainers.image.title': layer.title,
      ...(layer.unpack ? { 'io.deis.oras.content.unpack': 'true' } : {}),
    };
    files.push(layer.unpack ? `${file}:application/vnd.oci.image.layer.v1.tar+gzip` : file);
  }
  await writeFile(join(work, 'annotations.json'), JSON.stringify(annotations));
  const tag = createHash('sha256').update(JSON.stringify(annotations)).digest('hex').slice(0, 12);
  const reference = `${registry.host}/${repository}:${tag}`;
  const pushed = await runTug(['push', '--annotation-file', 'annotations.json', reference, ...files], {
    cwd: work,
  });
  expect(pushed.code).toBe(0);
  return reference;
}

describe('pull never creates, follows or replaces anything outside -o', () => {
  it.each(['1', '4'])(
    'refuses a link chain planted between two layers that write under it (-j %s), and writes nothing outside',
    async (jobs) => {
      const reference = await pushCrafted('hostile/chain', [
        { title: 'w/first.txt', content: 'first' },
        await crafted('x', [
          { name: 'x/', type: 'directory' },
          { name: 'a/b/c/z', type: 'symlink', linkname: '../../..' },
          { name: 'w', type: 'symlink', linkname: 'a/b/c/z/../../outside' },
        ]),
        { title: 'w/pwned.txt', content: 'pwned' },
      ]);
      const base = await tempDir();
      const out = join(base, 'p', 'out');
      await mkdir(join(base, 'outside'));
      await mkdir(out, { recursive: true });
      const result = await runTug(['pull', '-j', jobs, reference, '-o', out]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('refusing');
      expect(await readdir(join(base, 'outside'))).toEqual([]);
      expect((await readdir(base)).sort()).toEqual(['outside', 'p']);
      expect(await readdir(join(base, 'p'))).toEqual(['out']);
      expect(await linksLeadingOutside(out)).toEqual([]);
    },
  );

  it('refuses a link that leads outside through a link of an earlier layer, and leaves no such link', async () => {
    const reference = await pushCrafted('hostile/chain', [
      await crafted('a', [{ name: 'a/b/c/z', type: 'symlink', linkname: '../../..' }]),
      await crafted('d', [{ name: 'd/w', type: 'symlink', linkname: '../a/b/c/z/../../outside' }]),
    ]);
    const out = join(await tempDir(), 'p', 'out');
    const result = await runTug(['pull', reference, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'refusing the link d/w -> ../a/b/c/z/../../outside: it leads outside the output directory',
    );
    expect(await linksLeadingOutside(out)).toEqual([]);
  });

  it('unpacks a layer titled docs only under docs/: it cannot replace .git', async () => {
    const reference = await pushCrafted('hostile/sibling', [
      await crafted('docs', [
        { name: 'docs/readme', content: 'read me' },
        { name: '.git/config', content: '[core]\n\thooksPath = /tmp/evil\n' },
      ]),
    ]);
    const out = await tempDir();
    await mkdir(join(out, '.git'));
    await writeFile(join(out, '.git', 'config'), 'mine');
    const result = await runTug(['pull', reference, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refusing to unpack .git/config: it lies outside docs/');
    expect(await readFile(join(out, '.git', 'config'), 'utf8')).toBe('mine');
    expect(await readdir(out)).toEqual(['.git']);
  });

  it('refuses two layers with the same title before writing anything', async () => {
    const reference = await pushCrafted('hostile/twice', [
      { title: 'same.txt', content: 'first' },
      { title: 'same.txt', content: 'second' },
    ]);
    const out = join(await tempDir(), 'out');
    const result = await runTug(['pull', reference, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('two layers are titled same.txt');
    expect(await readdir(out).catch(() => 'not created')).toBe('not created');
  });

  it('pulls every title of a blob that two layers share', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'a.txt'), 'same');
    await writeFile(join(work, 'b.txt'), 'same');
    expect(
      (await runTug(['push', `${registry.host}/same/files:1`, 'a.txt', 'b.txt'], { cwd: work })).code,
    ).toBe(0);
    const out = await tempDir();
    const result = await runTug(['pull', `${registry.host}/same/files:1`, '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').sort()).toEqual(['a.txt', 'b.txt']);
    expect((await readdir(out)).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('accepts the ./ entry of an archive made with tar -C DIR .', async () => {
    const work = await tempDir();
    await mkdir(join(work, 'docs'));
    await writeFile(join(work, 'docs', 'readme'), 'read me');
    const archive = join(await tempDir(), 'docs.tgz');
    await run('tar', ['-czf', archive, '-C', work, '.']);
    const reference = await pushCrafted('plain/tar', [
      { title: 'docs', content: await readFile(archive), unpack: true },
    ]);
    const out = await tempDir();
    const result = await runTug(['pull', reference, '-o', out]);
    expect(result.stderr).not.toContain('refusing');
    expect(result.code).toBe(0);
    expect(await readFile(join(out, 'docs', 'readme'), 'utf8')).toBe('read me');
  });

  it('keeps file modes through push and pull: a 0600 key stays 0600, an executable stays executable', async () => {
    const work = await tempDir();
    await mkdir(join(work, 'keys'));
    await writeFile(join(work, 'keys', 'id_ed25519'), 'secret');
    await writeFile(join(work, 'keys', 'run'), '#!/bin/sh\n');
    await chmod(join(work, 'keys', 'id_ed25519'), 0o600);
    await chmod(join(work, 'keys', 'run'), 0o700);
    expect((await runTug(['push', `${registry.host}/modes/keys:1`, 'keys'], { cwd: work })).code).toBe(0);
    const out = await tempDir();
    expect((await runTug(['pull', `${registry.host}/modes/keys:1`, '-o', out])).code).toBe(0);
    expect((await stat(join(out, 'keys', 'id_ed25519'))).mode & 0o7777).toBe(0o600);
    expect((await stat(join(out, 'keys', 'run'))).mode & 0o7777).toBe(0o700);
  });
});
