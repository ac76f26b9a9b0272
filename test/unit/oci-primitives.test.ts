import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidContentError, SizeLimitError, UsageError } from '../../src/errors.js';
import {
  createVerifier,
  digestOf,
  formatPlatform,
  isIndex,
  parseDigest,
  parseManifest,
  parsePlatform,
  platformMatches,
  readVerified,
  selectManifests,
  successors,
  validateDescriptor,
} from '../../src/oci/index.js';

const emptyDigest = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const hello = Buffer.from('hello world');
const helloDigest = digestOf(hello);

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('digests', () => {
  it('hashes known values', () => {
    expect(digestOf(Buffer.alloc(0))).toBe(emptyDigest);
    expect(digestOf(Buffer.from('{}'))).toBe(
      'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
  });

  it.each([
    'sha256:../../etc/passwd',
    'sha256',
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'a'.repeat(63)}`,
    `sha256:${'a'.repeat(65)}`,
    `md5:${'a'.repeat(32)}`,
    `sha512:${'a'.repeat(64)}`,
    '',
  ])('refuses %j before it can become a path', (digest) => {
    expect(() => parseDigest(digest)).toThrow(InvalidContentError);
  });

  it('validates descriptors from untrusted JSON', () => {
    expect(validateDescriptor({ mediaType: 'x', digest: emptyDigest, size: 0 })).toEqual({
      mediaType: 'x',
      digest: emptyDigest,
      size: 0,
    });
    for (const bad of [
      { mediaType: 'x', digest: emptyDigest, size: -1 },
      { mediaType: 'x', digest: emptyDigest, size: 2 ** 62 },
      { mediaType: 'x', digest: emptyDigest, size: 1.5 },
      { mediaType: 'x', digest: 'sha256:../x', size: 1 },
      { digest: emptyDigest, size: 1 },
      { mediaType: 'x', digest: emptyDigest, size: 1, annotations: { a: 1 } },
      null,
      [],
    ]) {
      expect(() => validateDescriptor(bad)).toThrow(InvalidContentError);
    }
  });
});

describe('streaming verification', () => {
  it('passes matching content through', async () => {
    const out = await drain(
      Readable.from([hello]).pipe(createVerifier({ digest: helloDigest, size: hello.byteLength })),
    );
    expect(out).toEqual(hello);
  });

  it('refuses same-length content with another digest', async () => {
    const other = Buffer.from('hello wurld');
    const stream = Readable.from([other]).pipe(
      createVerifier({ digest: helloDigest, size: hello.byteLength }),
    );
    await expect(drain(stream)).rejects.toThrow(DigestMismatchError);
  });

  it('stops at one byte past the declared size', async () => {
    const endless = Readable.from(
      (function* () {
        for (;;) yield Buffer.alloc(1000);
      })(),
    );
    const verifier = createVerifier({ digest: helloDigest, size: 4096 });
    await expect(drain(endless.pipe(verifier))).rejects.toThrow(/size exceeds descriptor/);
    expect(verifier.received).toBeLessThanOrEqual(5000);
  });

  it('reports a short read', async () => {
    const stream = Readable.from([hello.subarray(0, 5)]).pipe(
      createVerifier({ digest: helloDigest, size: hello.byteLength }),
    );
    await expect(drain(stream)).rejects.toThrow(/short read/);
  });

  it('checks the digest as soon as the declared size is reached, for a reader that stops early', async () => {
    const verifier = createVerifier({ digest: helloDigest, size: hello.byteLength });
    const errors: Error[] = [];
    verifier.on('error', (error) => errors.push(error));
    verifier.write(Buffer.from('hello wurld'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors[0]).toBeInstanceOf(DigestMismatchError);
  });

  it('collects a small document under a cap, refusing a larger declared size without reading', async () => {
    expect(
      await readVerified(Readable.from([hello]), { digest: helloDigest, size: hello.byteLength }),
    ).toEqual(hello);
    await expect(
      readVerified(Readable.from([hello]), { digest: helloDigest, size: 5 * 1024 * 1024 }, 4 * 1024 * 1024),
    ).rejects.toThrow(SizeLimitError);
  });
});

describe('platforms', () => {
  it.each([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    [
      'windows/amd64:10.0.17763.1234',
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234' },
    ],
  ])('parses %s', (input, expected) => {
    expect(parsePlatform(input)).toEqual(expected);
    expect(formatPlatform(parsePlatform(input))).toBe(input);
  });

  it.each(['linux', '', 'linux/', 'a/b/c/d', 'linux/amd 64'])('refuses %j', (input) => {
    expect(() => parsePlatform(input)).toThrow(UsageError);
  });

  it('matches variants as containerd normalises them', () => {
    expect(
      platformMatches(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    ).toBe(true);
    expect(platformMatches(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' })).toBe(
      true,
    );
    expect(
      platformMatches(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v7' }),
    ).toBe(false);
    expect(platformMatches(parsePlatform('linux/amd64'), { os: 'windows', architecture: 'amd64' })).toBe(
      false,
    );
  });
});

describe('manifests', () => {
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: emptyDigest, size: 0 };
  const image = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: [config],
  };
  const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('parses an image and lists its config and layers as successors', () => {
    const { mediaType, manifest } = parseManifest(bytes(image));
    expect(mediaType).toBe(image.mediaType);
    expect(isIndex(manifest)).toBe(false);
    expect(successors(manifest)).toEqual([config, config]);
  });

  it('parses an index and picks platforms', () => {
    const entry = {
      mediaType: image.mediaType,
      digest: emptyDigest,
      size: 1,
      platform: { os: 'linux', architecture: 'arm64' },
    };
    const { manifest } = parseManifest(
      bytes({ schemaVersion: 2, manifests: [entry] }),
      'application/vnd.oci.image.index.v1+json',
    );
    expect(isIndex(manifest) && selectManifests(manifest, [parsePlatform('linux/arm64')])).toEqual([entry]);
  });

  it.each([
    ['not JSON', Buffer.from('{'), undefined, /not valid JSON/],
    ['schema 1', bytes({ schemaVersion: 1 }), undefined, /schema 1/],
    ['both manifests and layers', bytes({ schemaVersion: 2, manifests: [], layers: [] }), undefined, /both/],
    [
      'a media type that disagrees with Content-Type',
      bytes(image),
      'application/vnd.docker.distribution.manifest.v2+json',
      /does not match/,
    ],
    [
      'a bad layer digest',
      bytes({ ...image, layers: [{ ...config, digest: 'sha256:x' }] }),
      undefined,
      /invalid digest/,
    ],
  ])('refuses %s', (_name, content, header, reason) => {
    expect(() => parseManifest(content, header)).toThrow(reason);
  });
});
