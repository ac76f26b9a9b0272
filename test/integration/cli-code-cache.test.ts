import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
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
});
