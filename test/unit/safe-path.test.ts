import { describe, expect, it } from 'vitest';
import { linkEscape } from '../../src/artifacts/confined-fs.js';
import { confinedPath, PathTraversalError } from '../../src/artifacts/safe-path.js';

describe('names from untrusted content are confined to the output directory', () => {
  it.each([
    ['file.txt', 'file.txt'],
    ['dir/file.txt', 'dir/file.txt'],
    ['./dir//file.txt', 'dir/file.txt'],
    ['dir/../file.txt', 'file.txt'],
    ['dir/', 'dir'],
    ['ünïcödé/файл.txt', 'ünïcödé/файл.txt'],
  ])('accepts %s as %s', (name, expected) => {
    expect(confinedPath(name)).toBe(expected);
  });

  it.each([
    ['../x', /climbs out/],
    ['../../.bashrc', /climbs out/],
    ['dir/../../x', /climbs out/],
    ['/etc/passwd', /absolute/],
    ['C:\\x', /absolute/],
    ['C:x', /absolute/],
    ['dir\\..\\x', /backslash/],
    ['', /empty/],
    ['.', /output directory itself/],
    ['a\0b', /NUL/],
  ])('refuses %s', (name, reason) => {
    expect(() => confinedPath(name)).toThrow(PathTraversalError);
    expect(() => confinedPath(name)).toThrow(reason);
  });
});

describe('links must point inside', () => {
  const nothingOnDisk = async () => undefined;

  it.each([
    ['a/link', 'target', true],
    ['a/link', '../b', true],
    ['a/link', '../../b', false],
    ['link', '/etc', false],
    ['link', '..', false],
    ['a/b/link', '../../c', true],
    ['link', 'C:\\Windows', false],
  ])('%s -> %s stays inside: %s', async (entry, target, inside) => {
    expect((await linkEscape(entry, target, nothingOnDisk)) === undefined).toBe(inside);
  });

  it('follows the links on the way, as the kernel does', async () => {
    const disk = new Map([
      ['a/b/c/z', '../../..'],
      ['up', '/'],
      ['loop', 'loop'],
    ]);
    const read = async (components: readonly string[]) => disk.get(components.join('/'));
    expect(await linkEscape('w', 'a/b/c/z/../../outside', read)).toBe(
      'it leads outside the output directory',
    );
    expect(await linkEscape('w', 'a/b/c/z/a/b', read)).toBeUndefined();
    expect(await linkEscape('w', 'up/etc', read)).toBe('it leads outside the output directory');
    expect(await linkEscape('w', 'loop', read)).toBe('it goes through too many links');
  });
});
