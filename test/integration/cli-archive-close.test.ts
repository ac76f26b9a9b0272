import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { buildImageLayout } from '../fixtures/images.js';
import { tempDir } from '../fixtures/temp.js';

let dir: string;
let archive: string;
let archiveBytes: Buffer;
let manifestFile: string;

beforeAll(async () => {
  const image = await buildImageLayout({ tag: 'v1' });
  dir = await tempDir();
  archive = join(dir, 'app.tar');
  const copied = await runTug(['cp', `oci:${image.layoutDir}:v1`, `docker-archive:${archive}:app:v1`]);
  expect(copied.code, copied.stderr).toBe(0);
  archiveBytes = await readFile(archive);
  await writeFile(join(dir, 'notes.txt'), 'notes');
  const manifest = await runTug(['manifest', 'get', `oci:${image.layoutDir}:v1`]);
  expect(manifest.code, manifest.stderr).toBe(0);
  manifestFile = join(dir, 'manifest.json');
  await writeFile(manifestFile, manifest.stdout);
});

/** Each command opens `docker-archive:` to write and then fails: what it started must go. */
const rows = [
  { command: 'push', args: () => ['push', `docker-archive:${join(dir, 'pushed.tar')}:app:v1`, 'notes.txt'] },
  { command: 'tag', args: () => ['tag', `docker-archive:${archive}:app:v1`, 'extra'] },
  {
    command: 'manifest put',
    args: () => ['manifest', 'put', `docker-archive:${join(dir, 'put.tar')}:app:v1`, manifestFile],
  },
  {
    command: 'index create',
    args: () => [
      'index',
      'create',
      `docker-archive:${join(dir, 'index.tar')}:app:v1`,
      `docker-archive:${archive}`,
    ],
  },
  {
    command: 'attach',
    args: () => ['attach', `docker-archive:${archive}:app:v1`, 'notes.txt', '--artifact-type', 'text/plain'],
  },
];

describe('commands that open a docker-archive to write close it', () => {
  it.each(rows)('$command leaves no temporary archive beside the file', async ({ args }) => {
    const result = await runTug(args(), { cwd: dir });
    expect(result.code, result.stderr).not.toBe(0);
    const names = await readdir(dir);
    expect(names.filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(names.filter((name) => name.endsWith('.tar'))).toEqual(['app.tar']);
    expect((await readFile(archive)).equals(archiveBytes)).toBe(true);
  });
});
