import { createHash, type Hash } from 'node:crypto';
import { finished, type Readable, Transform, type TransformCallback } from 'node:stream';
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
  #passed = 0;
  #verified = false;
  #onBytes: ((bytes: number) => void) | undefined;
  #sourceError: Error | undefined;

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

  /**
   * Why the content failed on its own side: bytes that departed from the descriptor, or a
   * failure its feeder reported with {@link fail}. Undefined when it failed because its reader
   * destroyed it, or did not fail.
   */
  get sourceError(): Error | undefined {
    return this.#sourceError;
  }

  /**
   * Calls `listener` with the size of each chunk as it is checked: progress without another stream
   * stage. Bytes checked before it was set are reported at once, in one call: a stream fills its
   * buffer while its reader still waits on something else (an upload being opened).
   */
  onBytes(listener: (bytes: number) => void): void {
    this.#onBytes = listener;
    if (this.#passed > 0) listener(this.#passed);
  }

  /** What feeds the stream reports its own failure here (a broken connection, an unreadable file). */
  fail(error: Error): void {
    if (this.destroyed) return;
    this.#sourceError = error;
    this.destroy(error);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#received += chunk.byteLength;
    if (this.#received > this.#expected.size) {
      done(
        this.#failed(
          new SizeLimitError(
            `size exceeds descriptor: expected ${this.#expected.size} bytes of ${this.#expected.digest}`,
          ),
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
    this.#passed += chunk.byteLength;
    this.#onBytes?.(chunk.byteLength);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#received < this.#expected.size) {
      done(
        this.#failed(
          new SizeLimitError(
            `short read: got ${this.#received} of ${this.#expected.size} bytes of ${this.#expected.digest}`,
          ),
        ),
      );
      return;
    }
    done(this.#verified ? null : this.#check());
  }

  #failed(error: Error): Error {
    this.#sourceError = error;
    return error;
  }

  #check(): Error | null {
    this.#verified = true;
    const actual = `${parseDigest(this.#expected.digest).algorithm}:${this.#hash.digest('hex')}`;
    return actual === this.#expected.digest
      ? null
      : this.#failed(new DigestMismatchError(this.#expected.digest, actual));
  }
}

export function createVerifier(expected: Expected): VerifyingStream {
  return new VerifyingStream(expected);
}

/**
 * `source` read through a new verifier. A source that fails, or ends early, fails the verifier
 * with its error (its {@link VerifyingStream.sourceError}); a reader that destroys the verifier
 * releases the source (its file or connection).
 */
export function verifiedFrom(source: Readable, expected: Expected): VerifyingStream {
  const verifier = createVerifier(expected);
  finished(source, (error) => {
    if (error) verifier.fail(error);
  });
  verifier.on('close', () => source.destroy());
  source.pipe(verifier);
  return verifier;
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

/** Whether `stream` fails before it ends unless its content matches `expected`. */
export function isVerified(stream: Readable, expected: Expected): stream is VerifyingStream {
  return (
    stream instanceof VerifyingStream &&
    stream.expected.digest === expected.digest &&
    stream.expected.size === expected.size
  );
}

/** The stream, verified: as it is when it is already verified for this descriptor, else through a verifier. */
export function ensureVerified(stream: Readable, expected: Expected): VerifyingStream {
  return isVerified(stream, expected) ? stream : verifiedFrom(stream, expected);
}
