import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestMismatchError } from '../../src/errors.js';
import { verifiedFrom } from '../../src/oci/verify-stream.js';
import { openOciLayout } from '../../src/targets/oci-layout.js';

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((path) => rm(path, { recursive: true, force: true })));
});

const blob = randomBytes(100_000);
const hex = createHash('sha256').update(blob).digest('hex');
const descriptor = { mediaType: 'application/octet-stream', digest: `sha256:${hex}`, size: blob.byteLength };

async function layoutWithPart(part: Buffer) {
  const root = await mkdtemp(join(tmpdir(), 'tug-ingest-'));
  scratch.push(root);
  await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await mkdir(join(root, '.tug-ingest'));
  await writeFile(join(root, '.tug-ingest', `sha256-${hex}`), part);
  return { root, layout: await openOciLayout(root, { create: true }) };
}

describe("an OCI layout's ingest directory", () => {
  it('continues a kept part and moves the whole blob into blobs/', async () => {
    const { root, layout } = await layoutWithPart(blob.subarray(0, 40_000));
    expect(await layout.partialSize(descriptor)).toBe(40_000);
    await layout.pushFrom(descriptor, 40_000, Readable.from([blob.subarray(40_000)]));
    expect(await readFile(join(root, 'blobs', 'sha256', hex))).toEqual(blob);
    expect(await readdir(join(root, '.tug-ingest'))).toEqual([]);
  });

  it('refuses a whole blob from a verified stream someone else had already read', async () => {
    const { root, layout } = await layoutWithPart(Buffer.alloc(0));
    const read = verifiedFrom(Readable.from([blob]), descriptor);
    await buffer(read);
    await expect(layout.pushFrom(descriptor, 0, read)).rejects.toThrow(/short read: got 0 of 100000 bytes/);
    expect(await readdir(join(root, 'blobs', 'sha256')).catch(() => [])).toEqual([]);
    expect(await layout.partialSize(descriptor)).toBe(0);
  });

  it('removes a kept part found corrupt, so the next attempt starts over', async () => {
    const wrong = Buffer.from(blob.subarray(0, 40_000));
    wrong[10] = (wrong[10] ?? 0) ^ 0xff;
    const { root, layout } = await layoutWithPart(wrong);
    await expect(layout.pushFrom(descriptor, 40_000, Readable.from([blob.subarray(40_000)]))).rejects.toThrow(
      DigestMismatchError,
    );
    expect(await readdir(join(root, '.tug-ingest'))).toEqual([]);
    expect(await layout.partialSize(descriptor)).toBe(0);
    expect(await layout.exists(descriptor)).toBe(false);
  });

  it('keeps the part when the stream breaks, and drops a part longer than the blob', async () => {
    const { root, layout } = await layoutWithPart(blob.subarray(0, 10_000));
    const broken = new Readable({
      read() {
        this.push(blob.subarray(10_000, 30_000));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(layout.pushFrom(descriptor, 10_000, broken)).rejects.toThrow('connection reset');
    expect(await layout.partialSize(descriptor)).toBeGreaterThanOrEqual(10_000);
    await writeFile(join(root, '.tug-ingest', `sha256-${hex}`), Buffer.concat([blob, Buffer.from('x')]));
    expect(await layout.partialSize(descriptor)).toBe(0);
    expect(await readdir(join(root, '.tug-ingest'))).toEqual([]);
  });
});
