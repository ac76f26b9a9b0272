import { access, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(import.meta.url), '../../..');

async function sourceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? sourceFiles(join(directory, entry.name)) : [join(directory, entry.name)],
    ),
  );
  return nested.flat().filter((path) => path.endsWith('.ts'));
}

describe('source comments', () => {
  it('cite only documents that are in the repository', async () => {
    const missing: string[] = [];
    for (const file of await sourceFiles(join(root, 'src'))) {
      for (const [name] of (await readFile(file, 'utf8')).matchAll(/[\w./-]+\.md\b/g)) {
        const exists = await access(join(root, name)).then(
          () => true,
          () => false,
        );
        if (!exists) missing.push(`${file.slice(root.length + 1)}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('leave CLI flags out of library messages and hints: the CLI names its own flags', async () => {
    const flagged: string[] = [];
    for (const file of await sourceFiles(join(root, 'src'))) {
      const relative = file.slice(root.length + 1);
      if (relative.startsWith('src/cli/')) continue;
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        const code = line.trim();
        if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/**')) continue;
        // A string literal holding " --flag" or starting with "--flag".
        if (/['"`](?:[^'"`]*\s)?--[a-z][a-z-]+/.test(code)) flagged.push(`${relative}: ${code}`);
      }
    }
    expect(flagged).toEqual([]);
  });
});
