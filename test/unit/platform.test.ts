import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { Descriptor, ImageIndex, Platform } from '../../src/oci/index.js';
import { formatPlatform, parsePlatform, platformMatches, selectManifests } from '../../src/oci/index.js';

describe('parsing platforms', () => {
  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/s390x', { os: 'linux', architecture: 's390x' }],
    [
      'windows/amd64:10.0.17763.1234',
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234' },
    ],
  ])('parses %s and formats it back', (input, expected) => {
    expect(parsePlatform(input)).toEqual(expected);
    expect(formatPlatform(parsePlatform(input))).toBe(input);
  });

  it.each([
    ['Linux/AMD64', { os: 'linux', architecture: 'amd64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/i386', { os: 'linux', architecture: '386' }],
  ])('normalises %s to the OCI names', (input, expected) => {
    expect(parsePlatform(input)).toEqual(expected);
  });

  it.each([
    'linux',
    '',
    'linux/',
    '/amd64',
    'a/b/c/d',
    'linux/amd 64',
    'linux/amd64:',
    'linux/amd64:1:2',
    'linux//v8',
  ])('refuses %j as a usage error', (input) => {
    expect(() => parsePlatform(input)).toThrow(UsageError);
    expect(() => parsePlatform(input)).toThrow(`invalid platform "${input}"`);
  });
});

describe('matching platforms', () => {
  const linux = (architecture: string, variant?: string): Platform =>
    variant ? { os: 'linux', architecture, variant } : { os: 'linux', architecture };

  it.each([
    ['linux/arm64', linux('arm64', 'v8'), true],
    ['linux/arm64/v8', linux('arm64'), true],
    ['linux/arm64/v8', linux('arm64', '8'), true],
    ['linux/arm/v7', linux('arm'), true],
    ['linux/arm/v6', linux('arm', 'v7'), false],
    ['linux/arm/v6', linux('arm'), false],
    ['linux/arm', linux('arm', 'v6'), true],
    ['linux/amd64/v1', linux('amd64'), true],
    ['linux/amd64/v3', linux('amd64'), false],
    ['linux/amd64', linux('amd64', 'v3'), true],
    ['linux/amd64', linux('arm64'), false],
    ['linux/amd64', { os: 'windows', architecture: 'amd64' }, false],
    ['windows/amd64:10.0.1', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.1' }, true],
    ['windows/amd64:10.0.1', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.2' }, false],
    ['windows/amd64', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.2' }, true],
  ])('%s against %j → %s', (wanted, candidate, expected) => {
    expect(platformMatches(parsePlatform(wanted), candidate)).toBe(expected);
  });
});

describe('selecting manifests from an index', () => {
  const entry = (digestChar: string, platform?: Platform): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${digestChar.repeat(64)}`,
    size: 100,
    ...(platform ? { platform } : {}),
  });
  const amd64 = entry('a', { os: 'linux', architecture: 'amd64' });
  const arm64 = entry('b', { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const armv7 = entry('c', { os: 'linux', architecture: 'arm', variant: 'v7' });
  const attestation = entry('d');
  const index: ImageIndex = { schemaVersion: 2, manifests: [amd64, arm64, armv7, attestation] };

  it('keeps the entries for the wanted platforms in index order', () => {
    expect(selectManifests(index, [parsePlatform('linux/arm/v7'), parsePlatform('linux/amd64')])).toEqual([
      amd64,
      armv7,
    ]);
  });

  it('skips entries without a platform and returns nothing when no platform matches', () => {
    expect(selectManifests(index, [parsePlatform('linux/arm64')])).toEqual([arm64]);
    expect(selectManifests(index, [parsePlatform('linux/ppc64le')])).toEqual([]);
    expect(selectManifests(index, [])).toEqual([]);
  });
});
