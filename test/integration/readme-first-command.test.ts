import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/temp.js';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');

/** The first `sh` block under "Two commands on a fresh machine": the line a newcomer pastes first. */
async function readmeFirstCommand(): Promise<string> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Two commands'));
  const block = /```sh\n(.+)\n```/.exec(section);
  if (!block?.[1]) throw new Error('README has no first command block');
  return block[1];
}

/** A clone of the working tree as a newcomer has it after `npm ci` (dependencies and build linked in). */
async function scratchClone(): Promise<string> {
  const clone = await tempDir('tug-clone-');
  const { stdout } = await run('git', ['ls-files', '-z'], { cwd: repoRoot });
  for (const file of stdout.split('\0').filter(Boolean)) {
    await mkdir(dirname(join(clone, file)), { recursive: true });
    await copyFile(join(repoRoot, file), join(clone, file));
  }
  await symlink(join(repoRoot, 'node_modules'), join(clone, 'node_modules'));
  await symlink(join(repoRoot, 'dist'), join(clone, 'dist'));
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: clone });
  await git('init', '-q');
  // .gitignore names node_modules/ and dist/ as directories; here they are links to the real ones.
  await writeFile(join(clone, '.git', 'info', 'exclude'), '/node_modules\n/dist\n');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'clone');
  return clone;
}

describe("the README's two commands", () => {
  it('the first leaves the checkout as it found it, and the lint of the second still passes', async () => {
    const line = await readmeFirstCommand();
    // `npm ci` is what the symlinked node_modules stands for: the test sends nothing to a package registry.
    expect(line.startsWith('npm ci && ')).toBe(true);
    const clone = await scratchClone();
    const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' };
    const first = await run('bash', ['-c', line.slice('npm ci && '.length)], { cwd: clone, env });
    expect(first.stdout.trimEnd().endsWith('hello')).toBe(true);
    expect((await run('git', ['status', '--porcelain'], { cwd: clone })).stdout).toBe('');
    // A stray, badly formatted file of the user's own is not the project's to lint.
    await mkdir(join(clone, 'demo'));
    await writeFile(join(clone, 'demo', 'index.json'), '{"a":1,    "b":2}');
    await run('npm', ['run', 'lint'], { cwd: clone, env });
  });
});
