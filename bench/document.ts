import { readFile, writeFile } from 'node:fs/promises';

const documentPath = 'docs/benchmark.md';

/**
 * Replaces the part of docs/benchmark.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->`
 * (appended when the markers are absent); the prose around it stays.
 */
export async function writeSection(name: string, text: string): Promise<void> {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const generated = `${begin}\n${text}\n${end}`;
  const document = await readFile(documentPath, 'utf8');
  const from = document.indexOf(begin);
  const to = document.indexOf(end);
  const updated =
    from >= 0 && to > from
      ? `${document.slice(0, from)}${generated}${document.slice(to + end.length)}`
      : `${document.trimEnd()}\n\n${generated}\n`;
  await writeFile(documentPath, updated);
}
