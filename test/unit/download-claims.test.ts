import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { claimForOneReader, isClaimed, markUnread } from '../../src/transport/socket-reads.js';

const download = () => markUnread(new PassThrough());

describe('which reader of a download may release its chunks', () => {
  it('claims a download no one has read from or listened to', () => {
    const stream = download();
    stream.on('error', () => {});
    claimForOneReader(stream);
    expect(isClaimed(stream)).toBe(true);
  });

  it('does not claim a stream tug did not start as a download (one a caller passed in)', () => {
    const stream = Readable.from([Buffer.from('x')]);
    claimForOneReader(stream);
    expect(isClaimed(stream)).toBe(false);
  });

  it('does not claim a download someone else already reads', () => {
    const listened = download();
    listened.on('data', () => {});
    const piped = download();
    piped.pipe(new Writable({ write: (_chunk, _encoding, done) => done() }));
    const polled = download();
    polled.on('readable', () => {});
    const paused = download();
    paused.resume();
    paused.pause();
    for (const stream of [listened, piped, polled, paused]) {
      claimForOneReader(stream);
      expect(isClaimed(stream)).toBe(false);
    }
  });

  it('does not claim a download that has been read from, even by a reader since gone', async () => {
    const stream = download();
    stream.write(Buffer.from('abc'));
    const onData = () => {};
    stream.on('data', onData);
    await new Promise((resolve) => setImmediate(resolve));
    stream.off('data', onData);
    claimForOneReader(stream);
    expect(isClaimed(stream)).toBe(false);
  });
});
