import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/temp.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const bundleDir = join(root, 'dist/cli');

/** The code cache the build wrote beside the bundle (built by the Node that runs the tests). */
async function builtCache(): Promise<{ name: string; bytes: Buffer }> {
  const names = (await readdir(bundleDir)).filter((name) => name.endsWith('.cache'));
  expect(names).toHaveLength(1);
  const name = names[0] as string;
  return { name, bytes: await readFile(join(bundleDir, name)) };
}

/**
 * tug installed without the build's code cache, as another Node finds it: the bundle, the
 * launcher and the packages, no cache of this V8's name beside the bundle.
 */
async function installWithoutBuiltCache(): Promise<{ bin: string; base: string }> {
  const install = await tempDir('tug-install-');
  await mkdir(join(install, 'bin'));
  await mkdir(join(install, 'dist/cli'), { recursive: true });
  for (const file of ['package.json', 'bin/package.json', 'bin/tug', 'dist/cli/tug.cjs']) {
    await copyFile(join(root, file), join(install, file));
  }
  await symlink(join(root, 'node_modules'), join(install, 'node_modules'));
  const source = await readFile(join(install, 'dist/cli/tug.cjs'));
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  return { bin: join(install, 'bin/tug'), base: `tug-${digest}-${process.versions.v8}` };
}

/** `tug --help` with its own user cache directory; it must answer whatever the cache held. */
async function help(cacheHome: string, bin?: string): Promise<void> {
  const result = await runTug(['--help'], { env: { XDG_CACHE_HOME: cacheHome }, ...(bin ? { bin } : {}) });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('Usage: tug');
}

/** A push into a layout: a command that copies, as the build's cache was trained on. */
async function pushToLayout(cacheHome: string, bin: string): Promise<void> {
  const work = await tempDir();
  await writeFile(join(work, 'notes.txt'), 'hello');
  const result = await runTug(['push', `oci:${join(work, 'layout')}:v1`, 'notes.txt'], {
    env: { XDG_CACHE_HOME: cacheHome },
    cwd: work,
    bin,
  });
  expect(result.code, result.stderr).toBe(0);
}

async function mtime(file: string): Promise<number> {
  return (await stat(file)).mtimeMs;
}

describe('the bundled CLI', () => {
  it('runs as strict code, as the ES modules it is built from do', async () => {
    const source = await readFile(join(bundleDir, 'tug.cjs'), 'latin1');
    expect(source.trimEnd().endsWith('})')).toBe(true);
    // A `with` statement compiles only in sloppy code: added to the end of the bundle's function,
    // it must be refused.
    const withStatement = `${source.trimEnd().slice(0, -2)};with ({}) {}})`;
    expect(() => new Script(withStatement)).toThrow(/strict mode/i);
  });
});

describe('the CLI is compiled with a V8 code cache', () => {
  it("uses the one built beside the bundle: V8 accepts it, so nothing is written in the user's cache", async () => {
    const { name } = await builtCache();
    expect(name).toContain(process.versions.v8);
    const cacheHome = await tempDir();
    await help(cacheHome);
    expect(await readdir(cacheHome)).toEqual([]);
  });

  it('compiles as usual under other V8 flags, which refuse the built cache, and writes none of its own', async () => {
    const cacheHome = await tempDir();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--no-opt', join(root, 'bin/tug'), '--help'],
      {
        env: { ...process.env, XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' },
      },
    );
    expect(stdout).toContain('Usage: tug');
    expect(await readdir(cacheHome)).toEqual([]);
  });

  it('keeps a cache of its own for a Node without a built one, and the first copy replaces one trained elsewhere', async () => {
    const { bin, base } = await installWithoutBuiltCache();
    const cacheHome = await tempDir();
    const directory = join(cacheHome, 'tug');
    const other = join(directory, `${base}-other.cache`);
    const onCopy = join(directory, `${base}.cache`);

    await help(cacheHome, bin);
    expect(await readdir(directory)).toEqual([`${base}-other.cache`]);
    const written = await mtime(other);
    const { size: trainedByHelp } = await stat(other);
    await help(cacheHome, bin);
    expect(await mtime(other)).toBe(written);

    await pushToLayout(cacheHome, bin);
    expect(await readdir(directory)).toEqual([`${base}.cache`]);
    const trained = await readFile(onCopy);
    // It holds what the copy compiled, beyond what `--help` did.
    expect(trained.length).toBeGreaterThan(trainedByHelp * 1.2);

    // Read first from now on, and accepted: neither command writes again.
    await help(cacheHome, bin);
    await pushToLayout(cacheHome, bin);
    expect(await readdir(directory)).toEqual([`${base}.cache`]);
    expect((await readFile(onCopy)).equals(trained)).toBe(true);
  });

  const refused: Array<[string, (valid: Buffer) => Buffer]> = [
    ['garbage', () => Buffer.from('not a V8 code cache\n'.repeat(100))],
    ['truncated', (valid) => valid.subarray(0, valid.length >> 1)],
    ['made for another source', () => new Script('"another source"').createCachedData()],
  ];
  it.each(refused)(
    'falls back from a %s cache file to a normal compile, then writes one V8 accepts',
    async (_, make) => {
      const { bytes } = await builtCache();
      const { bin, base } = await installWithoutBuiltCache();
      const cacheHome = await tempDir();
      const directory = join(cacheHome, 'tug');
      await mkdir(directory);
      await writeFile(join(directory, `${base}.cache`), make(bytes));

      await help(cacheHome, bin);
      expect(await readdir(directory)).toEqual([`${base}-other.cache`]);

      // Accepted this time: the file is left as it was.
      const file = join(directory, `${base}-other.cache`);
      const [written, content] = [await mtime(file), await readFile(file)];
      await help(cacheHome, bin);
      expect(await mtime(file)).toBe(written);
      expect((await readFile(file)).equals(content)).toBe(true);
    },
  );

  it("removes other builds' caches left for over a week when it writes its own, and nothing else", async () => {
    const { bin, base } = await installWithoutBuiltCache();
    const cacheHome = await tempDir();
    const directory = join(cacheHome, 'tug');
    await mkdir(directory);
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 60 * 60 * 1000);
    const files = {
      staleBuild: 'tug-0123456789abcdef-11.3.244.8-node.38.cache',
      staleNode: `${base.replace(/-[^-]+-node\.\d+$/, '')}-10.2.154.26-node.31-other.cache`,
      recentBuild: 'tug-fedcba9876543210-11.3.244.8-node.38.cache',
      notACache: 'tug-notes.txt',
    };
    for (const file of Object.values(files)) {
      await writeFile(join(directory, file), 'left by another build');
      if (file !== files.recentBuild) await utimes(join(directory, file), eightDaysAgo, eightDaysAgo);
    }

    await help(cacheHome, bin);
    expect((await readdir(directory)).sort()).toEqual(
      [`${base}-other.cache`, files.recentBuild, files.notACache].sort(),
    );
  });
});
