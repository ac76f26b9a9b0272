import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncedFile } from '../../src/targets/layout/synced-file.js';

let directory = '';
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tug-synced-file-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('SyncedFile', () => {
  it('writes every byte in order, across background flushes and chunks of every size', async () => {
    const content = randomBytes(20 * 1024 * 1024 + 12345);
    const chunks: Buffer[] = [];
    for (let at = 0, size = 1; at < content.byteLength; at += size, size = (size * 7) % 300_001 || 1) {
      chunks.push(content.subarray(at, at + size));
    }
    const path = join(directory, 'blob');
    await pipeline(Readable.from(chunks), await SyncedFile.create(path));
    expect((await readFile(path)).equals(content)).toBe(true);
  });

  it('continues a file: from the start it empties what was there, from an offset it keeps what comes before', async () => {
    const path = join(directory, 'kept');
    await writeFile(path, 'an older and longer part');
    await pipeline(Readable.from([Buffer.from('new')]), await SyncedFile.continueAt(path, 0));
    expect(await readFile(path, 'utf8')).toBe('new');
    await pipeline(Readable.from([Buffer.from('t and more')]), await SyncedFile.continueAt(path, 2));
    expect(await readFile(path, 'utf8')).toBe('net and more');
  });

  it('refuses a path that exists, leaving it as it was', async () => {
    const path = join(directory, 'taken');
    await writeFile(path, 'before');
    await expect(SyncedFile.create(path)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(path, 'utf8')).toBe('before');
  });

  it('fails the stream when the source fails, and closes the file', async () => {
    const path = join(directory, 'broken');
    const file = await SyncedFile.create(path);
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(9 * 1024 * 1024));
        this.destroy(new Error('source broke'));
      },
    });
    await expect(pipeline(source, file)).rejects.toThrow('source broke');
    expect(file.destroyed).toBe(true);
  });
});
