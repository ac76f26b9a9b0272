import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(import.meta.url), '../../..');

describe('the CLI tests run the current source', () => {
  it('has built every module of src/ into dist/ since it last changed', async () => {
    const sources = (await readdir(join(root, 'src'), { recursive: true }))
      .map(String)
      // A declaration file (.d.ts) compiles to nothing.
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'));
    const stale: string[] = [];
    for (const source of sources) {
      const built = join(root, 'dist', source.replace(/\.ts$/, '.js'));
      const [written, compiled] = await Promise.all([
        stat(join(root, 'src', source)),
        stat(built).catch(() => undefined),
      ]);
      if (!compiled || compiled.mtimeMs < written.mtimeMs) stale.push(source);
    }
    expect(stale).toEqual([]);
  });

  it('has bundled the CLI since any module of src/ last changed', async () => {
    const sources = (await readdir(join(root, 'src'), { recursive: true })).map(String);
    const bundle = await stat(join(root, 'dist', 'cli', 'tug.cjs'));
    const newer: string[] = [];
    for (const source of sources.filter((name) => name.endsWith('.ts'))) {
      if ((await stat(join(root, 'src', source))).mtimeMs > bundle.mtimeMs) newer.push(source);
    }
    expect(newer).toEqual([]);
  });
});
