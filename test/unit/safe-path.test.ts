import { describe, expect, it } from 'vitest';
import { confinedPath, linkStaysInside, PathTraversalError } from '../../src/artifacts/safe-path.js';

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
  it.each([
    ['a/link', 'target', true],
    ['a/link', '../b', true],
    ['a/link', '../../b', false],
    ['link', '/etc', false],
    ['link', '..', false],
    ['a/b/link', '../../c', true],
    ['link', 'C:\\Windows', false],
  ])('%s -> %s stays inside: %s', (entry, target, inside) => {
    expect(linkStaysInside(entry, target)).toBe(inside);
  });
});
