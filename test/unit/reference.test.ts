import { describe, expect, it } from 'vitest';
import { InvalidReferenceError } from '../../src/errors.js';
import {
  formatReference,
  formatRepository,
  isLoopbackHost,
  layoutReadings,
  parseReference,
  parseRegistryHost,
  parseRegistryReference,
  parseRepositoryName,
  parseTagList,
  referenceOf,
  registryApiHost,
} from '../../src/ref/index.js';

const d = `sha256:${'a'.repeat(64)}`;

describe('registry references normalise as docker does', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['library/alpine', 'docker.io/library/alpine:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['index.docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['registry-1.docker.io/library/alpine:edge', 'docker.io/library/alpine:edge'],
    ['user/app', 'docker.io/user/app:latest'],
    ['ghcr.io/org/app', 'ghcr.io/org/app:latest'],
    ['ghcr.io/org/team/app:v1', 'ghcr.io/org/team/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost:5000/a/b/c:t', 'localhost:5000/a/b/c:t'],
    ['docker://localhost:5000/app:1', 'localhost:5000/app:1'],
    ['docker://alpine', 'docker.io/library/alpine:latest'],
    ['127.0.0.1:5000/app:v1', '127.0.0.1:5000/app:v1'],
    ['[::1]:5000/app:v1', '[::1]:5000/app:v1'],
    ['[::1]/app', '[::1]/app:latest'],
    ['[2001:db8::1]:443/x', '[2001:db8::1]:443/x:latest'],
    [`app@${d}`, `docker.io/library/app@${d}`],
    [`ghcr.io/a/b@${d}`, `ghcr.io/a/b@${d}`],
    [`ghcr.io/a/b:v1@${d}`, `ghcr.io/a/b:v1@${d}`],
    [`localhost:5000/a:v1@${d}`, `localhost:5000/a:v1@${d}`],
    [`localhost:5000/a@sha512:${'b'.repeat(128)}`, `localhost:5000/a@sha512:${'b'.repeat(128)}`],
    [
      'my-registry.example.com:8443/a_b/c-d/e.f:1.2.3-rc_1',
      'my-registry.example.com:8443/a_b/c-d/e.f:1.2.3-rc_1',
    ],
    ['a/b__c', 'docker.io/a/b__c:latest'],
    ['a/b---c', 'docker.io/a/b---c:latest'],
    ['example.com/x:V1_TAG', 'example.com/x:V1_TAG'],
    ['example.com/x:_private', 'example.com/x:_private'],
    [`example.com/x:${'t'.repeat(128)}`, `example.com/x:${'t'.repeat(128)}`],
    ['Example.COM/x', 'Example.COM/x:latest'],
    ['sub.domain.example.com/deep/path/to/repo', 'sub.domain.example.com/deep/path/to/repo:latest'],
    ['0.0.0.0:1/a', '0.0.0.0:1/a:latest'],
    ['host-with-dash.io/a', 'host-with-dash.io/a:latest'],
    ['a1/b2/c3', 'docker.io/a1/b2/c3:latest'],
    ['x.io/a.b.c', 'x.io/a.b.c:latest'],
    ['x.io/a:1', 'x.io/a:1'],
    ['localhost:65535/a', 'localhost:65535/a:latest'],
    ['registry.hub.docker.com/x/y:1', 'docker.io/x/y:1'],
    ['docker.io/library/alpine', 'docker.io/library/alpine:latest'],
    ['localhost:5000/app:5000', 'localhost:5000/app:5000'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    ['[fe80::1]:1/x', '[fe80::1]:1/x:latest'],
    ['alpine:3', 'docker.io/library/alpine:3'],
    ['app.io:v1', 'docker.io/library/app.io:v1'],
    [`x.io/${'a'.repeat(250)}`, `x.io/${'a'.repeat(250)}:latest`],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(parseRegistryReference(input))).toBe(expected);
  });

  it('splits registry, repository, tag and digest', () => {
    expect(parseRegistryReference(`localhost:5000/org/app:v1@${d}`)).toEqual({
      kind: 'registry',
      registry: 'localhost:5000',
      repository: 'org/app',
      tag: 'v1',
      digest: d,
    });
  });
});

describe('invalid references say what is wrong', () => {
  it.each([
    ['', /empty reference/],
    ['Alpine', /lowercase/],
    ['localhost:5000/App', /lowercase/],
    ['app:', /tag "" is invalid/],
    ['app:-x', /tag "-x" is invalid/],
    ['app:.x', /tag ".x" is invalid/],
    [`app:${'t'.repeat(129)}`, /is invalid/],
    ['app@sha256:abc', /digest/],
    [`app@md5:${'a'.repeat(32)}`, /unsupported algorithm/],
    [`app@sha256:${'A'.repeat(64)}`, /lowercase hex/],
    ['app@sha256', /algorithm:hex/],
    ['a//b', /empty path component/],
    ['/a', /empty path component/],
    ['a/', /empty path component/],
    ['localhost:5000/', /missing repository/],
    ['-a/b', /invalid repository path component/],
    ['a/b-', /invalid repository path component/],
    ['a/b..c', /invalid repository path component/],
    ['https://ghcr.io/a', /no scheme/],
    ['a b', /whitespace/],
    [`x.io/${'a'.repeat(256)}`, /longer than 255/],
    ['host:port:x/a', /invalid registry host/],
    ['::1:5000/a', /invalid registry host/],
    ['localhost:5000', /missing repository/],
    ['registry.example.com:443', /missing repository/],
    ['[::1]:5000', /missing repository/],
    ['[::1]', /missing repository/],
    ['localhost:99999/a', /invalid registry host/],
    ['a@', /algorithm:hex/],
    ['a:t@', /algorithm:hex/],
    ['http://localhost:5000/a', /no scheme/],
    ['a\tb', /whitespace/],
    [' alpine', /whitespace/],
    ['org/App', /lowercase/],
    ['a/_b', /invalid repository path component/],
    ['a/b.', /invalid repository path component/],
    ['a-/b', /invalid repository path component/],
    ['host_x.io/a', /invalid registry host/],
  ])('refuses %j', (input, reason) => {
    expect(() => parseRegistryReference(input)).toThrow(InvalidReferenceError);
    expect(() => parseRegistryReference(input)).toThrow(reason);
  });
});

describe('layout and archive references', () => {
  it.each([
    ['oci:dir', { kind: 'oci', path: 'dir' }],
    ['oci:dir:v1', { kind: 'oci', path: 'dir', tag: 'v1' }],
    ['oci:/abs/path/dir:v1', { kind: 'oci', path: '/abs/path/dir', tag: 'v1' }],
    [`oci:dir@${d}`, { kind: 'oci', path: 'dir', digest: d }],
    ['oci:C:', { kind: 'oci', path: 'C:' }],
    ['oci:a:v1', { kind: 'oci', path: 'a', tag: 'v1' }],
    ['oci:C:/images/app:v1', { kind: 'oci', path: 'C:/images/app', tag: 'v1' }],
    ['docker-archive:img.tar', { kind: 'docker-archive', path: 'img.tar' }],
    [
      'docker-archive:img.tar:alpine:3.20',
      { kind: 'docker-archive', path: 'img.tar', imageName: 'docker.io/library/alpine:3.20' },
    ],
    [
      'docker-archive:img.tar:localhost:5000/a:v1',
      { kind: 'docker-archive', path: 'img.tar', imageName: 'localhost:5000/a:v1' },
    ],
    ['oci:C:\\images\\app:v1', { kind: 'oci', path: 'C:\\images\\app', tag: 'v1' }],
    ['oci:/tmp/a:b/c', { kind: 'oci', path: '/tmp/a:b/c' }],
    ['oci:/tmp/a:b/c:v2', { kind: 'oci', path: '/tmp/a:b/c', tag: 'v2' }],
    ['oci:dir@notadigest', { kind: 'oci', path: 'dir@notadigest' }],
    ['oci:dir:v1+build.2', { kind: 'oci', path: 'dir', tag: 'v1+build.2' }],
    ['oci-archive:img.tar', { kind: 'oci-archive', path: 'img.tar' }],
    ['oci-archive:img.tar:v1', { kind: 'oci-archive', path: 'img.tar', tag: 'v1' }],
    [
      'oci-archive:img.tar:localhost:5000/x:tag',
      { kind: 'oci-archive', path: 'img.tar', tag: 'localhost:5000/x:tag' },
    ],
    [`oci-archive:/abs/img.tar@${d}`, { kind: 'oci-archive', path: '/abs/img.tar', digest: d }],
    ['oci-archive:C:\\images\\x.tar:v1', { kind: 'oci-archive', path: 'C:\\images\\x.tar', tag: 'v1' }],
    [
      'docker-archive:img.tar:alpine',
      { kind: 'docker-archive', path: 'img.tar', imageName: 'docker.io/library/alpine:latest' },
    ],
  ])('%s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it('parses what is neither oci: nor docker-archive: as a registry reference', () => {
    expect(parseReference('ghcr.io/a/b:v1')).toEqual(parseRegistryReference('ghcr.io/a/b:v1'));
  });

  it.each([
    ['oci:', /missing layout path/],
    ['oci::v1', /missing layout path/],
    ['oci:dir:', /tag "" is invalid/],
    ['oci:dir:bad tag', /tag "bad tag" is invalid/],
    ['oci:dir@sha256:short', /digest/],
    [`oci:dir:v1@${d}`, /a tag or a digest, not both/],
    ['oci:dir:_private', /tag "_private" is invalid/],
    ['oci-archive:', /missing archive file/],
    ['oci-archive::v1', /missing archive file/],
    ['oci-archive:x.tar:', /tag "" is invalid/],
    ['oci-archive:x.tar:a b', /tag "a b" is invalid/],
    [`oci-archive:x.tar:v1@${d}`, /a tag or a digest, not both/],
    ['oci-archive:x.tar@sha256:short', /digest/],
    ['docker-archive:', /missing archive file/],
    ['docker-archive:f.tar:', /empty reference/],
    ['docker-archive:f.tar:Alpine:1', /lowercase/],
    [`docker-archive:f.tar:a@${d}`, /not by digest/],
  ])('refuses %s', (input, reason) => {
    expect(() => parseReference(input)).toThrow(InvalidReferenceError);
    expect(() => parseReference(input)).toThrow(reason);
  });

  it.each([
    'oci:dir',
    'oci:dir:v1',
    `oci:dir@${d}`,
    'docker-archive:img.tar',
    'docker-archive:img.tar:docker.io/library/alpine:3.20',
    'oci-archive:img.tar',
    'oci-archive:img.tar:localhost:5000/x:tag',
    `oci-archive:img.tar@${d}`,
  ])('formats %s back to itself', (input) => {
    expect(formatReference(parseReference(input))).toBe(input);
  });
});

describe('a destination with several tags (oras form NAME:a,b,c)', () => {
  it.each([
    [
      'localhost:5000/x:a,b,c',
      { kind: 'registry', registry: 'localhost:5000', repository: 'x', tag: 'a' },
      ['a', 'b', 'c'],
    ],
    ['oci:dir:v1,v2', { kind: 'oci', path: 'dir', tag: 'v1' }, ['v1', 'v2']],
    ['oci-archive:x.tar:v1,v1,v2', { kind: 'oci-archive', path: 'x.tar', tag: 'v1' }, ['v1', 'v2']],
    ['localhost:5000/x:a', { kind: 'registry', registry: 'localhost:5000', repository: 'x', tag: 'a' }, []],
    ['oci:/tmp/a,b/c', { kind: 'oci', path: '/tmp/a,b/c' }, []],
  ])('%s', (input, ref, tags) => {
    expect(parseTagList(input)).toEqual({ ref, tags });
  });

  it.each([
    ['localhost:5000/x:a,,b', /tag "" is invalid/],
    ['localhost:5000/x:a,B!', /tag "B!" is invalid/],
  ])('refuses %s', (input, reason) => {
    expect(() => parseTagList(input)).toThrow(reason);
  });
});

describe('readings of an oci: reference whose text holds several ":"', () => {
  it('lists every split whose remainder is a layout ref name, longest path first', () => {
    const parsed = parseReference('oci:/tmp/x:localhost:5000/x:tag');
    expect(parsed).toEqual({ kind: 'oci', path: '/tmp/x:localhost:5000/x', tag: 'tag' });
    const readings = layoutReadings({ kind: 'oci', path: '/tmp/x:localhost:5000/x', tag: 'tag' });
    expect(readings).toEqual([
      { kind: 'oci', path: '/tmp/x:localhost:5000/x:tag' },
      { kind: 'oci', path: '/tmp/x:localhost:5000/x', tag: 'tag' },
      { kind: 'oci', path: '/tmp/x:localhost', tag: '5000/x:tag' },
      { kind: 'oci', path: '/tmp/x', tag: 'localhost:5000/x:tag' },
    ]);
  });

  it('keeps a digest reference and a path without ":" as parsed, and never splits a drive, only a one-letter directory', () => {
    expect(layoutReadings({ kind: 'oci', path: 'dir', digest: d })).toEqual([
      { kind: 'oci', path: 'dir', digest: d },
    ]);
    expect(layoutReadings({ kind: 'oci', path: 'dir' })).toEqual([{ kind: 'oci', path: 'dir' }]);
    expect(layoutReadings({ kind: 'oci', path: 'C:\\images', tag: 'v1' })).toEqual([
      { kind: 'oci', path: 'C:\\images:v1' },
      { kind: 'oci', path: 'C:\\images', tag: 'v1' },
    ]);
    expect(layoutReadings({ kind: 'oci', path: 'a', tag: 'v1' })).toEqual([
      { kind: 'oci', path: 'a:v1' },
      { kind: 'oci', path: 'a', tag: 'v1' },
    ]);
  });
});

describe('repository names and manifest references', () => {
  it('accepts and ignores a tag or digest on a repository', () => {
    expect(parseRepositoryName('alpine:3.20')).toEqual({
      registry: 'docker.io',
      repository: 'library/alpine',
    });
    expect(parseRepositoryName(`localhost:5000/a/b@${d}`)).toEqual({
      registry: 'localhost:5000',
      repository: 'a/b',
    });
    expect(formatRepository(parseRepositoryName('ghcr.io/org/app'))).toBe('ghcr.io/org/app');
  });

  it('refuses an invalid repository', () => {
    expect(() => parseRepositoryName('Org/App')).toThrow(/lowercase/);
  });

  it('asks for the digest when there is one, else the tag', () => {
    expect(referenceOf(parseRegistryReference(`a:v1@${d}`))).toBe(d);
    expect(referenceOf(parseRegistryReference('a:v1'))).toBe('v1');
    expect(referenceOf(parseRegistryReference('a'))).toBe('latest');
    expect(referenceOf({ kind: 'oci', path: 'dir', tag: 'v2' })).toBe('v2');
  });
});

describe('registry hosts', () => {
  it.each([
    ['localhost:5000', 'localhost:5000'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['GHCR.io', 'ghcr.io'],
    ['http://127.0.0.1:5000/', '127.0.0.1:5000'],
    ['docker.io', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['[::1]:5000', '[::1]:5000'],
    [' ghcr.io ', 'ghcr.io'],
  ])('%s → %s', (input, expected) => {
    expect(parseRegistryHost(input)).toBe(expected);
  });

  it.each(['', 'https://', 'bad_host', 'a:b:c', '::1', 'localhost:70000'])(
    'refuses registry host %j',
    (input) => {
      expect(() => parseRegistryHost(input)).toThrow(InvalidReferenceError);
    },
  );

  it('knows Docker Hub API host and loopback hosts', () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io');
    expect(
      ['localhost', 'localhost:5000', 'LOCALHOST', '127.0.0.1:1', '127.8.9.10', '[::1]', '[::1]:5000'].every(
        isLoopbackHost,
      ),
    ).toBe(true);
    expect(
      [
        'ghcr.io',
        '10.0.0.1:5000',
        '128.0.0.1',
        'localhost.example.com',
        '[::2]:5000',
        '127.0.0.1.nip.io',
      ].some(isLoopbackHost),
    ).toBe(false);
  });
});
