import { lstat, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { LayoutDirectories } from '../../src/targets/layout/blob-files.js';
import { tempDir } from '../fixtures/temp.js';

let root = '';
beforeEach(async () => {
  root = await tempDir('tug-layout-directories-');
});

describe('LayoutDirectories', () => {
  it('creates blobs/ and blobs/<algorithm>/ for a blob, one level at a time', async () => {
    const directories = new LayoutDirectories(root);
    await directories.ensureBlobDirectory(join(root, 'blobs', 'sha256', 'ab'.repeat(32)));
    expect((await lstat(join(root, 'blobs', 'sha256'))).isDirectory()).toBe(true);
  });

  it('looks at a directory once per target: a later swap for a symlink is for the next target to see', async () => {
    const directories = new LayoutDirectories(root);
    const ingest = join(root, '.tug-ingest');
    await Promise.all([directories.ensure(ingest), directories.ensure(ingest)]);
    await rm(ingest, { recursive: true });
    await symlink(tmpdir(), ingest);
    await expect(directories.ensure(ingest)).resolves.toBeUndefined();
    await expect(new LayoutDirectories(root).ensure(ingest)).rejects.toThrow(
      /symbolic link or not a directory/,
    );
  });

  it('does not remember a refusal: once the symlink is gone, the directory is made', async () => {
    const directories = new LayoutDirectories(root);
    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(root, 'blobs'));
    const blob = join(root, 'blobs', 'sha256', 'cd'.repeat(32));
    await expect(directories.ensureBlobDirectory(blob)).rejects.toThrow(/symbolic link or not a directory/);
    await rm(join(root, 'blobs'));
    await directories.ensureBlobDirectory(blob);
    expect((await lstat(join(root, 'blobs'))).isDirectory()).toBe(true);
    expect((await lstat(join(root, 'blobs', 'sha256'))).isDirectory()).toBe(true);
  });
});
