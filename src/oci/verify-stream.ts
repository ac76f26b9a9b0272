import { createHash, type Hash } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { DigestMismatchError, SizeLimitError } from '../errors.js';
import { parseDigest } from './digest.js';

/**
 * How much a stage of a blob's stream buffers. Node's defaults (16 KiB for files and transforms)
 * are smaller than one 64 KiB socket read, so every read would wait on the stage behind it.
 */
export const STREAM_BUFFER = 1024 * 1024;

export interface Expected {
  digest: string;
  size: number;
}

/**
 * A pass-through that hashes what flows and fails the stream as soon as the content departs from
 * its descriptor: one byte past `size` is an error at once, and the digest is checked the moment
 * `size` bytes have passed (a reader that stops early, like a tar reader ignoring padding, still
 * gets the check). Fewer bytes at the end is a short read.
 */
export class VerifyingStream extends Transform {
  readonly #expected: Expected;
  readonly #hash: Hash;
  #received = 0;
  #verified = false;

  constructor(expected: Expected) {
    super({ highWaterMark: STREAM_BUFFER });
    this.#expected = expected;
    this.#hash = createHash(parseDigest(expected.digest).algorithm);
  }

  get received(): number {
    return this.#received;
  }

  /** The descriptor the content is checked against. */
  get expected(): Expected {
    return this.#expected;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#received += chunk.byteLength;
    if (this.#received > this.#expected.size) {
      done(
        new SizeLimitError(
          `size exceeds descriptor: expected ${this.#expected.size} bytes of ${this.#expected.digest}`,
        ),
      );
      return;
    }
    this.#hash.update(chunk);
    if (this.#received === this.#expected.size) {
      const error = this.#check();
      if (error) {
        done(error);
        return;
      }
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#received < this.#expected.size) {
      done(
        new SizeLimitError(
          `short read: got ${this.#received} of ${this.#expected.size} bytes of ${this.#expected.digest}`,
        ),
      );
      return;
    }
    done(this.#verified ? null : this.#check());
  }

  #check(): Error | null {
    this.#verified = true;
    const actual = `${parseDigest(this.#expected.digest).algorithm}:${this.#hash.digest('hex')}`;
    return actual === this.#expected.digest ? null : new DigestMismatchError(this.#expected.digest, actual);
  }
}

export function createVerifier(expected: Expected): VerifyingStream {
  return new VerifyingStream(expected);
}

/**
 * Collects a small document (a manifest, a config) and verifies it. The cap applies before any
 * allocation: a declared size over `maxBytes` is refused without reading.
 */
export async function readVerified(
  stream: Readable,
  expected: Expected,
  maxBytes = Number.MAX_SAFE_INTEGER,
): Promise<Uint8Array> {
  let verifier: VerifyingStream;
  try {
    if (expected.size > maxBytes) {
      throw new SizeLimitError(
        `${expected.digest} is ${expected.size} bytes, over the ${maxBytes}-byte limit`,
      );
    }
    verifier = createVerifier(expected);
  } catch (error) {
    stream.destroy();
    throw error;
  }
  const chunks: Buffer[] = [];
  // pipeline destroys the source when verification fails, releasing its connection or file.
  await pipelineAsync(stream, verifier, async (verified: AsyncIterable<Buffer>) => {
    for await (const chunk of verified) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/**
 * A pass-through fed only by a verified stream: it fails before it ends whenever its source does,
 * so it is verified for the same descriptor. Made by {@link relayOf}.
 */
export class VerifiedRelay extends Transform {
  constructor(
    readonly expected: Expected,
    onChunk: (chunk: Buffer) => void,
  ) {
    super({ highWaterMark: STREAM_BUFFER, transform: relayChunk(onChunk) });
  }
}

function relayChunk(onChunk: (chunk: Buffer) => void) {
  return (chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) => {
    onChunk(chunk);
    done(null, chunk);
  };
}

/**
 * A pass-through for what `source` gives that calls `onChunk` with each chunk; a
 * {@link VerifiedRelay} when `source` is verified for `expected`, so a target handed the relay
 * need not hash the content a second time. The caller pipes `source` into it.
 */
export function relayOf(source: Readable, expected: Expected, onChunk: (chunk: Buffer) => void): Transform {
  if (isVerified(source, expected)) return new VerifiedRelay(expected, onChunk);
  return new Transform({ highWaterMark: STREAM_BUFFER, transform: relayChunk(onChunk) });
}

/** Whether `stream` fails before it ends unless its content matches `expected`: a verifier, or a relay of one. */
export function isVerified(stream: Readable, expected: Expected): boolean {
  const checked =
    stream instanceof VerifyingStream || stream instanceof VerifiedRelay ? stream.expected : undefined;
  return checked?.digest === expected.digest && checked.size === expected.size;
}

/** The stream, verified: as it is when it is already verified for this descriptor, else through a verifier. */
export function ensureVerified(stream: Readable, expected: Expected): Readable {
  if (isVerified(stream, expected)) return stream;
  // Errors reach the reader through the returned stream; pipeline's callback has nothing to add.
  return pipeline(stream, createVerifier(expected), () => undefined);
}
