import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, SizeLimitError } from '../../src/errors.js';
import { createVerifier, digestOf, ensureVerified, isVerified, verifiedFrom } from '../../src/oci/index.js';

const content = Buffer.from('hello, verified world');
const expected = { digest: digestOf(content), size: content.byteLength };

function sink(): PassThrough {
  const drain = new PassThrough();
  drain.resume();
  return drain;
}

describe('the verified-stream hand-off', () => {
  it('knows a verifier as verified for its own descriptor only, and nothing else as verified', () => {
    const verifier = createVerifier(expected);
    expect(isVerified(verifier, expected)).toBe(true);
    expect(isVerified(verifier, { ...expected, size: expected.size + 1 })).toBe(false);
    expect(isVerified(new PassThrough(), expected)).toBe(false);
  });

  it('counts every chunk it checks, without a stage of its own', async () => {
    const seen: number[] = [];
    const verifier = createVerifier(expected);
    verifier.onBytes((bytes) => seen.push(bytes));
    await pipeline(Readable.from([content.subarray(0, 5), content.subarray(5)]), verifier, sink());
    expect(seen).toEqual([5, content.byteLength - 5]);
  });

  it('reports the bytes it checked before a listener came, once, when the listener comes', async () => {
    const verifier = createVerifier(expected);
    verifier.write(content.subarray(0, 5));
    await new Promise((resolve) => setImmediate(resolve));
    const seen: number[] = [];
    verifier.onBytes((bytes) => seen.push(bytes));
    expect(seen).toEqual([5]);
    verifier.end(content.subarray(5));
    await pipeline(verifier, sink());
    expect(seen).toEqual([5, content.byteLength - 5]);
  });

  it('names bad bytes as the source failing', async () => {
    const tampered = Buffer.from(content);
    tampered[0] = 0;
    const verifier = createVerifier(expected);
    await expect(pipeline(Readable.from([tampered]), verifier, sink())).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    expect(verifier.sourceError).toBeInstanceOf(DigestMismatchError);

    const long = createVerifier(expected);
    await expect(pipeline(Readable.from([content, content]), long, sink())).rejects.toBeInstanceOf(
      SizeLimitError,
    );
    expect(long.sourceError).toBeInstanceOf(SizeLimitError);
  });

  it('names a broken source as the source failing, and a reader that gives up as not', async () => {
    const broken = new PassThrough();
    const fromBroken = verifiedFrom(broken, expected);
    fromBroken.on('error', () => {});
    broken.write(content.subarray(0, 3));
    broken.destroy(new Error('connection reset'));
    await new Promise((resolve) => fromBroken.on('close', resolve));
    expect(fromBroken.sourceError?.message).toBe('connection reset');

    const source = new PassThrough();
    const abandoned = verifiedFrom(source, expected);
    abandoned.on('error', () => {});
    abandoned.destroy(new Error('disk full'));
    await new Promise((resolve) => source.on('close', resolve));
    expect(source.destroyed).toBe(true);
    expect(abandoned.sourceError).toBeUndefined();
  });

  it('fails a source that ends early as a short read', async () => {
    const verified = ensureVerified(Readable.from([content.subarray(0, 4)]), expected);
    await expect(pipeline(verified, sink())).rejects.toThrow(/short read/);
    expect(verified.sourceError).toBeInstanceOf(SizeLimitError);
  });
});
