import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout } from '../fixtures/images.js';
import { tempDir } from '../fixtures/temp.js';

let image: BuiltImage;
let work: string;
let manifestFile: string;

beforeAll(async () => {
  image = await buildImageLayout({ tag: 'v1' });
  work = await tempDir();
  await writeFile(join(work, 'notes.txt'), 'notes');
  const manifest = await runTug(['manifest', 'get', `oci:${image.layoutDir}:v1`]);
  expect(manifest.code, manifest.stderr).toBe(0);
  manifestFile = join(work, 'manifest.json');
  await writeFile(manifestFile, manifest.stdout);
});

/** Every command that writes a root names it by one rule: the tag given, else `latest` in a layout. */
const rows = [
  // A source named by digest, so that no source tag is carried over.
  { command: 'cp', args: (to: string) => ['cp', `oci:${image.layoutDir}@${image.rootDigest}`, to] },
  { command: 'push', args: (to: string) => ['push', to, 'notes.txt'] },
  { command: 'manifest put', args: (to: string) => ['manifest', 'put', to, manifestFile] },
  { command: 'index create', args: (to: string) => ['index', 'create', to, `oci:${image.layoutDir}:v1`] },
];

describe('the destination tag of a write to an OCI layout', () => {
  it.each(rows)('$command tags the tag given, and latest when none is given', async ({ args }) => {
    for (const [suffix, expected] of [
      [':v2', 'v2'],
      ['', 'latest'],
    ] as const) {
      const layout = join(await tempDir(), 'layout');
      const written = await runTug(args(`oci:${layout}${suffix}`), { cwd: work });
      expect(written.code, written.stderr).toBe(0);
      const tags = await runTug(['tags', `oci:${layout}`]);
      expect(tags.stdout.trim().split('\n')).toEqual([expected]);
    }
  });
});
