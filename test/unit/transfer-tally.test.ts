import { describe, expect, it } from 'vitest';
import {
  blobLine,
  finishedLine,
  formatDuration,
  overallLine,
  TransferTally,
} from '../../src/cli/transfer-tally.js';

const layer = (n: number, size: number) => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: `sha256:${String(n).repeat(64)}`,
  size,
});

describe('progress lines', () => {
  it('formats durations as people read them', () => {
    expect([0, 42.4, 65, 3599, 3720].map(formatDuration)).toEqual(['0s', '42s', '1m05s', '59m59s', '1h02m']);
  });

  it('gives bytes, speed and an ETA from what is left at the speed so far', () => {
    const tally = new TransferTally(0);
    tally.start(layer(1, 4 * 1024 * 1024), 0);
    tally.start(layer(2, 4 * 1024 * 1024), 0);
    tally.bytes(layer(1, 4 * 1024 * 1024), 2 * 1024 * 1024);
    expect(overallLine(tally, 2000)).toBe('0/2 blobs  2.0 MiB / 8.0 MiB  1.0 MiB/s  ETA 6s');
  });

  it('takes skipped and mounted blobs off what is still expected', () => {
    const tally = new TransferTally(0);
    tally.start(layer(1, 1024), 0);
    tally.start(layer(2, 4096), 0);
    tally.done(layer(2, 4096), 'mounted');
    tally.bytes(layer(1, 1024), 1024);
    tally.done(layer(1, 1024), 'copied');
    expect(overallLine(tally, 1000)).toBe('2/2 blobs  1.0 KiB / 1.0 KiB  1.0 KiB/s');
  });

  it('names a blob by a short digest, with its bytes done of its size and its own speed', () => {
    const tally = new TransferTally(0);
    tally.start(layer(3, 2 * 1024 * 1024), 1000);
    const transfer = tally.bytes(layer(3, 2 * 1024 * 1024), 512 * 1024);
    expect(transfer && blobLine(transfer, 2000)).toBe(
      'sha256:333333333333  512.0 KiB / 2.0 MiB  512.0 KiB/s',
    );
    expect(finishedLine(layer(3, 2 * 1024 * 1024), 'skipped')).toBe(
      'skipped sha256:333333333333  2.0 MiB  application/vnd.oci.image.layer.v1.tar+gzip',
    );
  });
});
