import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidContentError, SizeLimitError } from '../../src/errors.js';
import {
  createVerifier,
  digestOf,
  ensureVerified,
  isValidDigest,
  isVerified,
  parseDigest,
  readVerified,
  validateDescriptor,
} from '../../src/oci/index.js';

const emptyDigest = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const hello = Buffer.from('hello world');
const helloDigest = digestOf(hello);
const helloExpected = { digest: helloDigest, size: hello.byteLength };

/** A source that never ends, counting how many bytes were pulled from it. */
function endlessSource(chunkSize: number): { stream: Readable; pulled: () => number } {
  let pulled = 0;
  const stream = new Readable({
    read() {
      pulled += chunkSize;
      this.push(Buffer.alloc(chunkSize, 1));
    },
  });
  return { stream, pulled: () => pulled };
}

describe('digests', () => {
  it('hashes the empty string and the empty JSON object to their known sha256', () => {
    expect(digestOf(Buffer.alloc(0))).toBe(emptyDigest);
    expect(digestOf(Buffer.from('{}'))).toBe(
      'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
  });

  it('hashes with sha512 when asked', () => {
    const expected = `sha512:${createHash('sha512').update(hello).digest('hex')}`;
    expect(digestOf(hello, 'sha512')).toBe(expected);
    expect(parseDigest(expected)).toEqual({ algorithm: 'sha512', hex: expected.slice(7) });
  });

  it('splits a valid digest into algorithm and hex', () => {
    expect(parseDigest(emptyDigest)).toEqual({ algorithm: 'sha256', hex: emptyDigest.slice(7) });
    expect(isValidDigest(emptyDigest)).toBe(true);
  });

  it.each([
    ['sha256:../../etc/passwd', /64 lowercase hex/],
    ['sha256', /algorithm:hex/],
    [`sha256:${'A'.repeat(64)}`, /lowercase hex/],
    [`sha256:${'a'.repeat(63)}`, /64 lowercase hex/],
    [`sha256:${'a'.repeat(65)}`, /64 lowercase hex/],
    [`md5:${'a'.repeat(32)}`, /unsupported algorithm "md5"/],
    [`SHA256:${'a'.repeat(64)}`, /unsupported algorithm/],
    [`sha512:${'a'.repeat(64)}`, /128 lowercase hex/],
    [`sha256:${'g'.repeat(64)}`, /lowercase hex/],
    [`sha256:${'a'.repeat(62)}/x`, /lowercase hex/],
    [`sha256: ${'a'.repeat(63)}`, /lowercase hex/],
    ['', /algorithm:hex/],
    [':', /unsupported algorithm/],
  ])('refuses %j, naming it, before it can become a path', (digest, reason) => {
    expect(() => parseDigest(digest)).toThrow(InvalidContentError);
    expect(() => parseDigest(digest)).toThrow(reason);
    expect(() => parseDigest(digest)).toThrow(`"${digest}"`);
    expect(isValidDigest(digest)).toBe(false);
  });
});

describe('descriptors from untrusted JSON', () => {
  const valid = { mediaType: 'application/octet-stream', digest: emptyDigest, size: 0 };

  it('returns a valid descriptor with its optional fields', () => {
    const full = {
      ...valid,
      size: Number.MAX_SAFE_INTEGER,
      urls: ['https://example.com/x'],
      annotations: { 'org.opencontainers.image.title': 'x' },
      data: '',
      artifactType: 'application/x',
      platform: { os: 'linux', architecture: 'amd64' },
    };
    expect(validateDescriptor(valid)).toEqual(valid);
    expect(validateDescriptor(full)).toEqual(full);
  });

  it.each([
    ['a negative size', { ...valid, size: -1 }, /non-negative integer/],
    ['a size of 2^62', { ...valid, size: 2 ** 62 }, /non-negative integer/],
    ['a fractional size', { ...valid, size: 1.5 }, /non-negative integer/],
    ['a size given as a string', { ...valid, size: '1' }, /non-negative integer/],
    ['a missing size', { mediaType: 'x', digest: emptyDigest }, /non-negative integer/],
    ['a path as digest', { ...valid, digest: 'sha256:../x' }, /invalid digest/],
    ['a missing digest', { mediaType: 'x', size: 1 }, /missing digest/],
    ['a missing media type', { digest: emptyDigest, size: 1 }, /missing mediaType/],
    ['an empty media type', { ...valid, mediaType: '' }, /missing mediaType/],
    ['a numeric annotation', { ...valid, annotations: { a: 1 } }, /annotations must be strings/],
    ['urls that are not strings', { ...valid, urls: [1] }, /urls must be strings/],
    ['a non-string artifactType', { ...valid, artifactType: 3 }, /artifactType/],
    ['non-string data', { ...valid, data: 5 }, /data must be/],
    ['a platform without os', { ...valid, platform: { architecture: 'amd64' } }, /platform/],
    ['null', null, /not an object/],
    ['an array', [], /not an object/],
    ['a string', 'sha256:x', /not an object/],
  ])('refuses %s', (_name, value, reason) => {
    expect(() => validateDescriptor(value)).toThrow(InvalidContentError);
    expect(() => validateDescriptor(value)).toThrow(reason);
  });
});

describe('streaming verification', () => {
  it('passes matching content through unchanged', async () => {
    const out = await buffer(
      Readable.from([hello.subarray(0, 3), hello.subarray(3)]).pipe(createVerifier(helloExpected)),
    );
    expect(out).toEqual(hello);
  });

  it('accepts the empty blob', async () => {
    const out = await buffer(Readable.from([]).pipe(createVerifier({ digest: emptyDigest, size: 0 })));
    expect(out.byteLength).toBe(0);
  });

  it('refuses same-length content with another digest, naming both digests', async () => {
    const other = Buffer.from('hello wurld');
    const failure = buffer(Readable.from([other]).pipe(createVerifier(helloExpected)));
    await expect(failure).rejects.toThrow(DigestMismatchError);
    await expect(failure).rejects.toThrow(`expected ${helloDigest}, got ${digestOf(other)}`);
  });

  it('stops an endless body at one byte past the declared size', async () => {
    const { stream, pulled } = endlessSource(1000);
    const verifier = createVerifier({ digest: helloDigest, size: 4096 });
    await expect(buffer(stream.pipe(verifier))).rejects.toThrow(SizeLimitError);
    expect(verifier.received).toBe(5000);
    expect(pulled()).toBeLessThan(100_000);
  });

  it('refuses a body one byte longer than its descriptor', async () => {
    const longer = Buffer.concat([hello, Buffer.from('!')]);
    const failure = buffer(Readable.from([longer]).pipe(createVerifier(helloExpected)));
    await expect(failure).rejects.toThrow(`size exceeds descriptor: expected ${hello.byteLength} bytes`);
  });

  it('reports a short read with how many bytes came', async () => {
    const failure = buffer(Readable.from([hello.subarray(0, 5)]).pipe(createVerifier(helloExpected)));
    await expect(failure).rejects.toThrow(SizeLimitError);
    await expect(failure).rejects.toThrow(`short read: got 5 of ${hello.byteLength} bytes`);
  });

  it('checks the digest as soon as the declared size is reached, for a reader that stops early', async () => {
    const verifier = createVerifier(helloExpected);
    const failure = new Promise<Error>((resolve) => verifier.on('error', resolve));
    verifier.write(Buffer.from('hello wurld'));
    expect(await failure).toBeInstanceOf(DigestMismatchError);
  });

  it('lets a reader that stops early keep correct content without an error', async () => {
    const verifier = createVerifier(helloExpected);
    const errors: Error[] = [];
    verifier.on('error', (error) => errors.push(error));
    verifier.write(hello);
    const first = await new Promise<Buffer>((resolve) => verifier.once('data', resolve));
    expect(first).toEqual(hello);
    expect(errors).toEqual([]);
  });

  it('refuses to verify against an invalid digest', () => {
    expect(() => createVerifier({ digest: 'sha256:../x', size: 1 })).toThrow(InvalidContentError);
  });
});

describe('small verified documents', () => {
  it('collects and returns matching content', async () => {
    expect(await readVerified(Readable.from([hello]), helloExpected, 1024)).toEqual(hello);
  });

  it('refuses a declared size over the cap without reading, and releases the source', async () => {
    const { stream, pulled } = endlessSource(1024);
    const failure = readVerified(stream, { digest: helloDigest, size: 5 * 1024 * 1024 }, 4 * 1024 * 1024);
    await expect(failure).rejects.toThrow(SizeLimitError);
    await expect(failure).rejects.toThrow(/over the 4194304-byte limit/);
    expect(pulled()).toBe(0);
    expect(stream.destroyed).toBe(true);
  });

  it('stops a body longer than declared and destroys the source', async () => {
    const { stream, pulled } = endlessSource(1000);
    await expect(readVerified(stream, { digest: helloDigest, size: 2048 }, 4096)).rejects.toThrow(
      /size exceeds descriptor/,
    );
    expect(stream.destroyed).toBe(true);
    expect(pulled()).toBeLessThan(100_000);
  });

  it('refuses a document whose bytes do not match its digest', async () => {
    await expect(readVerified(Readable.from([Buffer.from('hello wurld')]), helloExpected)).rejects.toThrow(
      DigestMismatchError,
    );
  });

  it('refuses an empty stream declared as size 0 with the digest of other content', async () => {
    const x = { digest: digestOf(Buffer.from('x')), size: 0 };
    await expect(readVerified(Readable.from([]), x)).rejects.toThrow(DigestMismatchError);
  });

  it('refuses an empty stream of size 0 through every verifying path, not only readVerified', async () => {
    const x = { digest: digestOf(Buffer.from('x')), size: 0 };
    const _drain = async (stream: Readable) => {
      for await (const _ of stream);
    };
    await expect(buffer(ensureVerified(Readable.from([]), x))).rejects.toThrow(DigestMismatchError);
    const verifier = createVerifier(x);
    verifier.end();
    await expect(buffer(verifier)).rejects.toThrow(DigestMismatchError);
  });

  it('accepts an empty stream of size 0 with the empty digest', async () => {
    expect(await readVerified(Readable.from([]), { digest: emptyDigest, size: 0 })).toEqual(Buffer.alloc(0));
  });

  it('passes a source error through', async () => {
    const source = new PassThrough();
    const failure = readVerified(source, helloExpected);
    source.destroy(new Error('connection reset'));
    await expect(failure).rejects.toThrow('connection reset');
  });
});

describe('streams already verified', () => {
  it('marks a verifier as verified for its own descriptor only', () => {
    const verifier = createVerifier(helloExpected);
    expect(isVerified(verifier, helloExpected)).toBe(true);
    expect(isVerified(verifier, { digest: emptyDigest, size: 0 })).toBe(false);
    expect(isVerified(verifier, { digest: helloDigest, size: 1 })).toBe(false);
  });

  it('returns a verified stream as it is', () => {
    const verifier = createVerifier(helloExpected);
    expect(ensureVerified(verifier, helloExpected)).toBe(verifier);
  });

  it('wraps any other stream in a verifier that releases the source when it fails', async () => {
    const { stream } = endlessSource(1000);
    const wrapped = ensureVerified(stream, { digest: helloDigest, size: 2048 });
    expect(wrapped).not.toBe(stream);
    await expect(buffer(wrapped)).rejects.toThrow(/size exceeds descriptor/);
    expect(stream.destroyed).toBe(true);
  });

  it('wraps a stream verified for another descriptor', async () => {
    const other = Readable.from([Buffer.from('hello wurld')]).pipe(
      createVerifier({ digest: digestOf(Buffer.from('hello wurld')), size: 11 }),
    );
    await expect(buffer(ensureVerified(other, helloExpected))).rejects.toThrow(DigestMismatchError);
  });
});
