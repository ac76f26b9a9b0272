import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError } from '../../src/errors.js';
import { createVerifier, digestOf, isVerified, relayOf, VerifiedRelay } from '../../src/oci/index.js';

const content = Buffer.from('hello, verified world');
const expected = { digest: digestOf(content), size: content.byteLength };

describe('the verified-stream hand-off', () => {
  it('knows a verifier and a relay of one as verified for their descriptor only', () => {
    const verifier = createVerifier(expected);
    expect(isVerified(verifier, expected)).toBe(true);
    expect(isVerified(verifier, { ...expected, size: expected.size + 1 })).toBe(false);
    const relay = relayOf(verifier, expected, () => {});
    expect(relay).toBeInstanceOf(VerifiedRelay);
    expect(isVerified(relay, expected)).toBe(true);
  });

  it('relays an unverified stream without claiming it verified', () => {
    const relay = relayOf(new PassThrough(), expected, () => {});
    expect(relay).not.toBeInstanceOf(VerifiedRelay);
    expect(isVerified(relay, expected)).toBe(false);
  });

  it('counts every chunk it relays and fails when the verifier before it does', async () => {
    const seen: number[] = [];
    const verifier = createVerifier(expected);
    const relay = relayOf(verifier, expected, (chunk) => seen.push(chunk.byteLength));
    const sink = new PassThrough();
    sink.resume();
    await pipeline(Readable.from([content]), verifier, relay, sink);
    expect(seen.reduce((sum, n) => sum + n, 0)).toBe(content.byteLength);

    const tampered = Buffer.from(content);
    tampered[0] = 0;
    const failing = createVerifier(expected);
    const next = relayOf(failing, expected, () => {});
    const drain = new PassThrough();
    drain.resume();
    await expect(pipeline(Readable.from([tampered]), failing, next, drain)).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
  });
});
