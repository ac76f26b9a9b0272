import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

const bundleDir = resolve(fileURLToPath(import.meta.url), '../../../dist/cli');

/** The code cache the build wrote beside the bundle (built by the Node that runs the tests). */
async function builtCache(): Promise<{ name: string; bytes: Buffer }> {
  const names = (await readdir(bundleDir)).filter((name) => name.endsWith('.cache'));
  expect(names).toHaveLength(1);
  const name = names[0] as string;
  return { name, bytes: await readFile(join(bundleDir, name)) };
}

/** `tug --help` with its own user cache directory; it must answer whatever the cache held. */
async function help(cacheHome: string): Promise<void> {
  const result = await runTug(['--help'], { env: { XDG_CACHE_HOME: cacheHome } });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('Usage: tug');
}

describe('the CLI is compiled with a V8 code cache', () => {
  it("uses the one built beside the bundle: V8 accepts it, so nothing is written in the user's cache", async () => {
    const { name } = await builtCache();
    expect(name).toContain(process.versions.v8);
    const cacheHome = await tempDir();
    await help(cacheHome);
    expect(await readdir(cacheHome)).toEqual([]);
  });

  const refused: Array<[string, (valid: Buffer) => Buffer]> = [
    ['garbage', () => Buffer.from('not a V8 code cache\n'.repeat(100))],
    ['truncated', (valid) => valid.subarray(0, valid.length >> 1)],
    ['made for another source', () => new Script('"another source"').createCachedData()],
  ];
  it.each(refused)(
    'falls back from a %s cache file to a normal compile, then writes one V8 accepts',
    async (_, make) => {
      const { name, bytes } = await builtCache();
      const cacheHome = await tempDir();
      const file = join(cacheHome, 'tug', name);
      await mkdir(join(cacheHome, 'tug'));
      const bad = make(bytes);
      await writeFile(file, bad);

      await help(cacheHome);
      const rewritten = await readFile(file);
      expect(rewritten.equals(bad)).toBe(false);
      expect(await readdir(join(cacheHome, 'tug'))).toEqual([name]);

      // Accepted this time: the file is left as it was.
      const { mtimeMs } = await stat(file);
      await help(cacheHome);
      expect((await stat(file)).mtimeMs).toBe(mtimeMs);
      expect((await readFile(file)).equals(rewritten)).toBe(true);
    },
  );

  it("removes other builds' caches left for over a week when it writes its own, and nothing else", async () => {
    const { name } = await builtCache();
    const cacheHome = await tempDir();
    const directory = join(cacheHome, 'tug');
    await mkdir(directory);
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);
    const files = {
      staleBuild: 'tug-0123456789abcdef-11.3.244.8-node.38.cache',
      staleNode: name.replace(/-[^-]+-node\.\d+\.cache$/, '-10.2.154.26-node.31.cache'),
      recentBuild: 'tug-fedcba9876543210-11.3.244.8-node.38.cache',
      notACache: 'tug-notes.txt',
    };
    for (const file of Object.values(files)) {
      await writeFile(join(directory, file), 'left by another build');
      if (file !== files.recentBuild) await utimes(join(directory, file), eightDaysAgo, eightDaysAgo);
    }

    // The build's cache is accepted: nothing is written, and nothing removed.
    await help(cacheHome);
    expect((await readdir(directory)).sort()).toEqual(Object.values(files).sort());

    // Its own cache refused, it writes one, and the old caches of other builds go.
    await writeFile(join(directory, name), 'not a V8 code cache');
    await help(cacheHome);
    expect((await readdir(directory)).sort()).toEqual([name, files.recentBuild, files.notACache].sort());
  });
});
