import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidContentError, NotFoundError, SizeLimitError } from '../../src/errors.js';
import { digestOf, MediaType } from '../../src/oci/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { MemoryTarget } from '../../src/targets/memory.js';

const bytes = Buffer.from('{"architecture":"amd64","os":"linux"}');
const descriptor: Descriptor = {
  mediaType: MediaType.ociConfig,
  digest: digestOf(bytes),
  size: bytes.byteLength,
};

async function holding(content: Buffer, what: Descriptor = descriptor): Promise<MemoryTarget> {
  const target = new MemoryTarget();
  await target.push(what, Readable.from([content]));
  return target;
}

describe('MemoryTarget verifies what is pushed', () => {
  it('stores content that matches its descriptor', async () => {
    const target = await holding(bytes);
    expect(await target.exists(descriptor)).toBe(true);
    expect(Buffer.from(await target.fetchBytes(descriptor))).toEqual(bytes);
    expect(await buffer(await target.fetch(descriptor))).toEqual(bytes);
  });

  it('refuses bytes of the right length that do not match the digest, storing nothing', async () => {
    const tampered = Buffer.from(bytes);
    tampered[0] = 0x5b;
    const target = new MemoryTarget();
    await expect(target.push(descriptor, Readable.from([tampered]))).rejects.toBeInstanceOf(
      DigestMismatchError,
    );
    expect(await target.exists(descriptor)).toBe(false);
  });

  it('refuses more bytes than the descriptor declares', async () => {
    const target = new MemoryTarget();
    const longer = Buffer.concat([bytes, Buffer.from('!')]);
    await expect(target.push(descriptor, Readable.from([longer]))).rejects.toBeInstanceOf(SizeLimitError);
    expect(await target.exists(descriptor)).toBe(false);
  });

  it('refuses fewer bytes than the descriptor declares', async () => {
    const target = new MemoryTarget();
    await expect(target.push(descriptor, Readable.from([bytes.subarray(1)]))).rejects.toBeInstanceOf(
      SizeLimitError,
    );
    expect(await target.exists(descriptor)).toBe(false);
  });

  it('refuses a malformed digest and releases the stream', async () => {
    const target = new MemoryTarget();
    const stream = Readable.from([bytes]);
    await expect(
      target.push({ ...descriptor, digest: 'sha256:../../etc/passwd' }, stream),
    ).rejects.toBeInstanceOf(InvalidContentError);
    expect(stream.destroyed).toBe(true);
  });

  it('keeps what it holds safe from changes to the bytes it handed out', async () => {
    const target = await holding(bytes);
    const copy = await target.fetchBytes(descriptor);
    copy.fill(0);
    expect(Buffer.from(await target.fetchBytes(descriptor))).toEqual(bytes);
  });
});

describe('MemoryTarget resolves references', () => {
  it('resolves a tag and a digest to the plain descriptor of the content', async () => {
    const target = await holding(bytes, { ...descriptor, annotations: { note: 'not part of the content' } });
    await target.tag(descriptor, 'v1');
    expect(await target.resolve('v1')).toEqual(descriptor);
    expect(await target.resolve(descriptor.digest)).toEqual(descriptor);
  });

  it('moves a tag to the descriptor it was last given', async () => {
    const other = Buffer.from('another blob');
    const otherDescriptor = {
      mediaType: MediaType.ociLayer,
      digest: digestOf(other),
      size: other.byteLength,
    };
    const target = await holding(bytes);
    await target.push(otherDescriptor, Readable.from([other]));
    await target.tag(descriptor, 'latest');
    await target.tag(otherDescriptor, 'latest');
    expect((await target.resolve('latest')).digest).toBe(otherDescriptor.digest);
  });

  it('lists its tags in order', async () => {
    const target = await holding(bytes);
    for (const tag of ['v2', 'latest', 'v1']) await target.tag(descriptor, tag);
    const tags: string[] = [];
    for await (const tag of target.tags()) tags.push(tag);
    expect(tags).toEqual(['latest', 'v1', 'v2']);
  });

  it('answers NotFoundError for an unknown tag, digest or content, and will not tag what it lacks', async () => {
    const target = new MemoryTarget();
    await expect(target.resolve('missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(target.resolve(descriptor.digest)).rejects.toBeInstanceOf(NotFoundError);
    await expect(target.fetch(descriptor)).rejects.toBeInstanceOf(NotFoundError);
    await expect(target.fetchBytes(descriptor)).rejects.toBeInstanceOf(NotFoundError);
    await expect(target.tag(descriptor, 'v1')).rejects.toBeInstanceOf(NotFoundError);
    expect(await target.exists(descriptor)).toBe(false);
  });
});
