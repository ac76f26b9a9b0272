import { describe, expect, it } from 'vitest';
import { ReadSlabs } from '../../src/transport/read-slabs.js';

/** Fills a slab of 8 bytes with two reads of 4, the way the socket reads do. */
function fullSlab(slabs: ReadSlabs, fill: number): Buffer[] {
  return [slabs.cut(Buffer.alloc(4, fill)), slabs.cut(Buffer.alloc(4, fill + 1))];
}

/** The body chunks a parser would cut from `piece`, past `header` bytes, in pieces of `size`. */
function bodyChunks(piece: Buffer, header = 0, size = piece.byteLength): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = header; at < piece.byteLength; at += size) chunks.push(piece.subarray(at, at + size));
  return chunks;
}

function handOutAndRelease(slabs: ReadSlabs, chunks: Buffer[]): void {
  for (const chunk of chunks) slabs.handedOut(chunk);
  for (const chunk of chunks) slabs.release(chunk);
}

describe('ReadSlabs', () => {
  it('copies each read into the current slab, and starts a new slab when one is full', () => {
    const slabs = new ReadSlabs(8, 4);
    const [a, b] = fullSlab(slabs, 1);
    const c = slabs.cut(Buffer.from([9, 9]));
    expect(a?.buffer).toBe(b?.buffer);
    expect(c.buffer).not.toBe(a?.buffer);
    expect([...(a ?? []), ...(b ?? []), ...c]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 9, 9]);
  });

  it('gives a read larger than a slab a buffer of its own', () => {
    const slabs = new ReadSlabs(8, 4);
    const small = slabs.cut(Buffer.alloc(4));
    const large = slabs.cut(Buffer.alloc(12, 5));
    expect(large.buffer).not.toBe(small.buffer);
    expect([...large]).toEqual(Array(12).fill(5));
    expect(slabs.cut(Buffer.alloc(4)).buffer).toBe(small.buffer);
  });

  it('reuses a full slab once every chunk cut from it, up to the last byte of each read, is released', () => {
    const slabs = new ReadSlabs(8, 4);
    const pieces = fullSlab(slabs, 1);
    // The first read begins with two bytes of headers, which the parser copies out.
    handOutAndRelease(slabs, [...bodyChunks(pieces[0] as Buffer, 2, 1), ...bodyChunks(pieces[1] as Buffer)]);
    const next = slabs.cut(Buffer.alloc(8, 7));
    expect(next.buffer).toBe(pieces[0]?.buffer);
  });

  it('keeps a slab while one chunk is unreleased, whatever order the others are released in', () => {
    const slabs = new ReadSlabs(8, 4);
    const pieces = fullSlab(slabs, 1);
    const first = bodyChunks(pieces[0] as Buffer, 0, 2);
    for (const chunk of first) slabs.handedOut(chunk);
    handOutAndRelease(slabs, bodyChunks(pieces[1] as Buffer));
    slabs.release(first[1] as Buffer);
    expect(slabs.cut(Buffer.alloc(8)).buffer).not.toBe(pieces[0]?.buffer);
  });

  it('keeps a slab whose read the parser has not reached the end of', () => {
    const slabs = new ReadSlabs(8, 4);
    const pieces = fullSlab(slabs, 1);
    // The parser paused after the first two bytes of the second read; the rest waits in the socket.
    handOutAndRelease(slabs, [...bodyChunks(pieces[0] as Buffer), (pieces[1] as Buffer).subarray(0, 2)]);
    expect(slabs.cut(Buffer.alloc(8)).buffer).not.toBe(pieces[0]?.buffer);
  });

  it('keeps a slab with a read no chunk was handed out from (a response read in other ways)', () => {
    const slabs = new ReadSlabs(8, 4);
    const pieces = fullSlab(slabs, 1);
    handOutAndRelease(slabs, bodyChunks(pieces[0] as Buffer));
    expect(slabs.cut(Buffer.alloc(8)).buffer).not.toBe(pieces[0]?.buffer);
  });

  it('counts a chunk released twice once, and ignores chunks it did not hand out', () => {
    const slabs = new ReadSlabs(8, 4);
    const pieces = fullSlab(slabs, 1);
    const [left, right] = bodyChunks(pieces[0] as Buffer, 0, 2) as [Buffer, Buffer];
    slabs.handedOut(left);
    slabs.handedOut(right);
    handOutAndRelease(slabs, bodyChunks(pieces[1] as Buffer));
    slabs.release(right);
    slabs.release(right);
    // A view of the same bytes that the parser never made (a resumed range's part, say).
    slabs.release((pieces[0] as Buffer).subarray(0, 2));
    slabs.release(Buffer.alloc(2));
    expect(slabs.cut(Buffer.alloc(8)).buffer).not.toBe(pieces[0]?.buffer);
    slabs.release(left);
    expect(slabs.cut(Buffer.alloc(8)).buffer).toBe(pieces[0]?.buffer);
  });

  it('does not reuse the slab still being filled', () => {
    const slabs = new ReadSlabs(8, 4);
    const first = slabs.cut(Buffer.alloc(4, 1));
    handOutAndRelease(slabs, [first]);
    const second = slabs.cut(Buffer.alloc(4, 2));
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset + 4);
    expect([...first]).toEqual([1, 1, 1, 1]);
  });

  it('keeps at most its limit of spare slabs', () => {
    const slabs = new ReadSlabs(8, 1);
    const pieces = [...fullSlab(slabs, 1), ...fullSlab(slabs, 3), slabs.cut(Buffer.alloc(8))];
    const done = [pieces[0]?.buffer, pieces[2]?.buffer];
    for (const piece of pieces.slice(0, 4)) handOutAndRelease(slabs, [piece]);
    // Two slabs were done with and one spare is kept: of the next two slabs, one is reused.
    const later = [slabs.cut(Buffer.alloc(8)).buffer, slabs.cut(Buffer.alloc(8)).buffer];
    expect(later.filter((buffer) => done.includes(buffer))).toHaveLength(1);
  });
});
