import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CopyError, copyGraph } from '../../src/copy/index.js';
import { NotFoundError } from '../../src/errors.js';
import { MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { RegistryError } from '../../src/registry/errors.js';
import { MemoryTarget } from '../../src/targets/memory.js';
import type { OpenedUpload, UploadOpener } from '../../src/targets/target.js';
import { put, putImage } from './copy-fixtures.js';

/** A destination that opens an upload before it takes a blob's bytes, as a registry does. */
class OpeningTarget extends MemoryTarget implements UploadOpener {
  readonly events: string[] = [];

  constructor(readonly refuseOpening = false) {
    super();
  }

  async openUpload(descriptor: Descriptor): Promise<OpenedUpload> {
    this.events.push(`opened ${descriptor.digest}`);
    if (this.refuseOpening) {
      throw new RegistryError('denied', 'POST', 'http://registry.test/v2/app/blobs/uploads/', 403, []);
    }
    return {
      send: async (content) => {
        await this.push(descriptor, content);
        this.events.push(`sent ${descriptor.digest}`);
      },
      cancel: async () => {
        this.events.push(`cancelled ${descriptor.digest}`);
      },
    };
  }
}

/** A source whose blobs answer after a delay, recording when each answered. */
class SlowSource extends MemoryTarget {
  readonly streams: Readable[] = [];
  /** A blob this source fails to find. */
  missing: string | undefined;

  constructor(readonly events: string[]) {
    super();
  }

  override async fetch(descriptor: Descriptor): Promise<Readable> {
    if (descriptor.mediaType === MediaType.ociLayerGzip) await sleep(20);
    if (descriptor.digest === this.missing) throw new NotFoundError(`blob ${descriptor.digest} not found`);
    this.events.push(`answered ${descriptor.digest}`);
    const stream = await super.fetch(descriptor);
    this.streams.push(stream);
    return stream;
  }
}

async function image(source: MemoryTarget) {
  const layer = await put(source, Buffer.from('one layer'), MediaType.ociLayerGzip);
  const { manifest } = await putImage(source, 'amd64', [layer]);
  return { layer, manifest };
}

describe('copyGraph with a destination that opens uploads', () => {
  it('opens the upload while the source is still answering, then sends the bytes through it', async () => {
    const destination = new OpeningTarget();
    const source = new SlowSource(destination.events);
    const { layer, manifest } = await image(source);

    await copyGraph(source, destination, manifest);

    const order = destination.events.filter((event) => event.endsWith(layer.digest));
    expect(order).toEqual([`opened ${layer.digest}`, `answered ${layer.digest}`, `sent ${layer.digest}`]);
    expect(Buffer.from(await destination.fetchBytes(layer)).toString()).toBe('one layer');
  });

  it('cancels the opened upload when the source fails, and blames the source', async () => {
    const destination = new OpeningTarget();
    const source = new SlowSource(destination.events);
    const { layer, manifest } = await image(source);
    source.missing = layer.digest;

    const error = await copyGraph(source, destination, manifest).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(CopyError);
    expect((error as CopyError).side).toBe('source');
    expect((error as CopyError).cause).toBeInstanceOf(NotFoundError);
    expect(destination.events).toContain(`cancelled ${layer.digest}`);
    expect(destination.events).not.toContain(`sent ${layer.digest}`);
    expect(await destination.exists(layer)).toBe(false);
  });

  it('destroys the source stream when the destination refuses the upload, and blames the destination', async () => {
    const destination = new OpeningTarget(true);
    const source = new SlowSource(destination.events);
    const { manifest } = await image(source);

    const error = await copyGraph(source, destination, manifest).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(CopyError);
    expect((error as CopyError).side).toBe('destination');
    expect((error as CopyError).message).toContain('opening an upload of sha256:');
    expect(source.streams.length).toBeGreaterThan(0);
    for (const stream of source.streams) expect(stream.destroyed).toBe(true);
  });
});
