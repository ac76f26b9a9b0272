import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyError, copyGraph } from '../../src/copy/index.js';
import { DigestMismatchError, NotFoundError, SizeLimitError, TransportError } from '../../src/errors.js';
import { createVerifier, MAX_MANIFEST_BYTES, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import { put, putImage, RecordingTarget, twoPlatformIndex } from './copy-fixtures.js';

/** A source that serves `replacement` for one blob, through a verifier as every real target does. */
class TamperedSource extends MemoryTarget {
  constructor(
    readonly victim: Descriptor,
    readonly replacement: Buffer,
  ) {
    super();
  }

  override async fetch(descriptor: Descriptor): Promise<Readable> {
    if (descriptor.digest !== this.victim.digest) return super.fetch(descriptor);
    return Readable.from([this.replacement], { objectMode: false }).pipe(createVerifier(this.victim));
  }
}

/** A readable that sends one chunk and then never ends, until destroyed. */
function stalledStream(): Readable {
  const stream = new Readable({ read() {} });
  stream.push(Buffer.from('the first bytes'));
  return stream;
}

async function failure(copy: Promise<unknown>): Promise<CopyError> {
  const error = await copy.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(CopyError);
  return error as CopyError;
}

describe('copyGraph fails safely', () => {
  it('fails on a source blob whose bytes do not match its digest, leaving nothing above it', async () => {
    const { shared } = await twoPlatformIndex(new MemoryTarget());
    const source = new TamperedSource(shared, Buffer.from('shared lay3r'));
    const { index, amd64, arm64 } = await twoPlatformIndex(source);
    const destination = new MemoryTarget();

    const error = await failure(copyGraph(source, destination, index, { concurrency: 1 }));

    expect(error.cause).toBeInstanceOf(DigestMismatchError);
    expect(error.side).toBe('source');
    expect(error.message).toContain(`${shared.digest} from the source`);
    expect(error.code).toBe('DIGEST_MISMATCH');
    for (const node of [shared, amd64.manifest, arm64.manifest, index]) {
      expect(await destination.exists(node)).toBe(false);
    }
  });

  it('keeps the NOT_FOUND code of a blob missing at the source', async () => {
    const source = new MemoryTarget();
    const layer = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${'a'.repeat(64)}`, size: 3 };
    const { manifest } = await putImage(source, 'amd64', [layer]);

    const error = await failure(copyGraph(source, new MemoryTarget(), manifest));

    expect(error.cause).toBeInstanceOf(NotFoundError);
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe(
      `copy failed: fetching ${layer.digest} from the source: ${layer.digest} not found in memory`,
    );
  });

  it('blames the destination when a push fails there', async () => {
    const source = new MemoryTarget();
    const { index, shared } = await twoPlatformIndex(source);
    class Refusing extends MemoryTarget {
      override async push(descriptor: Descriptor, content: Readable): Promise<void> {
        if (descriptor.digest !== shared.digest) return super.push(descriptor, content);
        content.resume();
        throw new TransportError('connection reset');
      }
    }

    const error = await failure(copyGraph(source, new Refusing(), index));

    expect(error.side).toBe('destination');
    expect(error.message).toBe(`copy failed: pushing ${shared.digest} to the destination: connection reset`);
  });

  it('refuses a manifest over the size cap before fetching it', async () => {
    const source = new RecordingTarget();
    const huge = {
      mediaType: MediaType.ociManifest,
      digest: `sha256:${'b'.repeat(64)}`,
      size: MAX_MANIFEST_BYTES + 1,
    };

    const error = await failure(copyGraph(source, new MemoryTarget(), huge));

    expect(error.cause).toBeInstanceOf(SizeLimitError);
    expect(source.fetchedBytes).toEqual([]);
  });

  it('refuses a manifest that is not valid JSON, naming the source', async () => {
    const source = new MemoryTarget();
    const broken = await put(source, Buffer.from('{"schemaVersion": 2,'), MediaType.ociManifest);

    const error = await failure(copyGraph(source, new MemoryTarget(), broken));

    expect(error.side).toBe('source');
    expect(error.code).toBe('INVALID_CONTENT');
  });

  it('on a failure, destroys transfers under way and settles them before rejecting', async () => {
    const stalled = stalledStream();
    const missing = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${'c'.repeat(64)}`, size: 9 };
    class Stalling extends MemoryTarget {
      stalledLayer: Descriptor | undefined;
      override async fetch(descriptor: Descriptor): Promise<Readable> {
        if (descriptor.digest === this.stalledLayer?.digest) return stalled;
        if (descriptor.digest === missing.digest) await new Promise((resolve) => setTimeout(resolve, 20));
        return super.fetch(descriptor);
      }
    }
    const source = new Stalling();
    const stalledLayer = await put(source, Buffer.from('a layer that will stall'), MediaType.ociLayerGzip);
    source.stalledLayer = stalledLayer;
    const { manifest } = await putImage(source, 'amd64', [stalledLayer, missing]);
    let stalledPushEnded = false;
    class Watching extends MemoryTarget {
      override async push(descriptor: Descriptor, content: Readable): Promise<void> {
        try {
          await super.push(descriptor, content);
        } finally {
          if (descriptor.digest === stalledLayer.digest) stalledPushEnded = true;
        }
      }
    }

    const error = await failure(copyGraph(source, new Watching(), manifest));

    expect(error.cause).toBeInstanceOf(NotFoundError);
    expect(stalled.destroyed).toBe(true);
    expect(stalledPushEnded).toBe(true);
  }, 5_000);

  it('stops when its signal aborts, destroying the stream under way, and rejects with the reason', async () => {
    const stalled = stalledStream();
    class Stalling extends MemoryTarget {
      override async fetch(descriptor: Descriptor): Promise<Readable> {
        return descriptor.mediaType === MediaType.ociLayerGzip ? stalled : super.fetch(descriptor);
      }
    }
    const source = new Stalling();
    const layer = await put(source, Buffer.from('a layer that will stall'), MediaType.ociLayerGzip);
    const { manifest } = await putImage(source, 'amd64', [layer]);
    const controller = new AbortController();
    const reason = new Error('interrupted');
    const destination = new MemoryTarget();

    const copy = copyGraph(source, destination, manifest, {
      signal: controller.signal,
      events: { onBytes: (descriptor) => descriptor.digest === layer.digest && controller.abort(reason) },
    });

    await expect(copy).rejects.toBe(reason);
    expect(stalled.destroyed).toBe(true);
    expect(await destination.exists(manifest)).toBe(false);
  }, 5_000);

  it('does not touch the destination when its signal is already aborted', async () => {
    const source = new MemoryTarget();
    const { index } = await twoPlatformIndex(source);
    const destination = new RecordingTarget();
    const controller = new AbortController();
    controller.abort(new Error('too late'));

    await expect(copyGraph(source, destination, index, { signal: controller.signal })).rejects.toThrow(
      'too late',
    );
    expect(destination.checked).toEqual([]);
  });

  it('does not tag when the graph could not be copied', async () => {
    const source = new MemoryTarget();
    const layer = { mediaType: MediaType.ociLayerGzip, digest: `sha256:${'d'.repeat(64)}`, size: 3 };
    const { manifest } = await putImage(source, 'amd64', [layer]);
    const destination = new MemoryTarget();

    await failure(copyGraph(source, destination, manifest, { tags: ['v1'] }));

    await expect(destination.resolve('v1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('ends when extra successors form a cycle (referrers listing each other)', async () => {
    const source = new MemoryTarget();
    const { manifest: first } = await putImage(source, 'first', []);
    const { manifest: second } = await putImage(source, 'second', []);
    const other = (descriptor: Descriptor) => (descriptor.digest === first.digest ? second : first);
    const destination = new MemoryTarget();

    const result = await copyGraph(source, destination, first, {
      findExtraSuccessors: async (descriptor) => [other(descriptor), descriptor],
    });

    // Both manifests and their configs; neither manifest waits for itself or for the other forever.
    expect(result.copied).toBe(4);
    expect(await destination.exists(second)).toBe(true);
  }, 5_000);
});
