import type { CopyOutcome } from '../copy/index.js';
import type { Descriptor } from '../oci/types.js';
import { formatBytes } from './format.js';

/** One blob or manifest between its start and its end. */
export interface BlobTransfer {
  descriptor: Descriptor;
  bytes: number;
  startedAt: number;
}

/**
 * What a copy has done so far, counted from its events: blobs seen and finished, bytes moved, and
 * the bytes still expected (a blob the destination already has, or mounts, is taken off that).
 */
export class TransferTally {
  readonly #active = new Map<string, BlobTransfer>();
  #seen = 0;
  #done = 0;
  #bytes = 0;
  #expected = 0;

  constructor(readonly startedAt: number) {}

  start(descriptor: Descriptor, now: number): void {
    this.#seen += 1;
    this.#expected += descriptor.size;
    this.#active.set(descriptor.digest, { descriptor, bytes: 0, startedAt: now });
  }

  /** The transfer the bytes belong to, undefined for a descriptor never started. */
  bytes(descriptor: Descriptor, bytes: number): BlobTransfer | undefined {
    this.#bytes += bytes;
    const transfer = this.#active.get(descriptor.digest);
    if (transfer) transfer.bytes += bytes;
    return transfer;
  }

  done(descriptor: Descriptor, outcome: CopyOutcome): void {
    this.#done += 1;
    this.#active.delete(descriptor.digest);
    if (outcome !== 'copied') this.#expected -= descriptor.size;
  }

  get seen(): number {
    return this.#seen;
  }

  get finished(): number {
    return this.#done;
  }

  get bytesMoved(): number {
    return this.#bytes;
  }

  /** Bytes the copy will have moved when done, as far as it knows yet (never less than moved). */
  get bytesExpected(): number {
    return Math.max(this.#expected, this.#bytes);
  }
}

/** `42s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

function rate(bytes: number, since: number, now: number): number {
  return bytes / Math.max((now - since) / 1000, 0.001);
}

/** A digest short enough for one terminal line, as docker and oras print them. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return digest.slice(0, colon + 13);
}

/** `3/7 blobs  12.0 MiB / 40.0 MiB  5.0 MiB/s  ETA 6s`: the whole copy. */
export function overallLine(tally: TransferTally, now: number): string {
  const speed = rate(tally.bytesMoved, tally.startedAt, now);
  const remaining = tally.bytesExpected - tally.bytesMoved;
  const eta = tally.bytesMoved > 0 && remaining > 0 ? `  ETA ${formatDuration(remaining / speed)}` : '';
  return `${tally.finished}/${tally.seen} blobs  ${formatBytes(tally.bytesMoved)} / ${formatBytes(tally.bytesExpected)}  ${formatBytes(speed)}/s${eta}`;
}

/** `sha256:0123456789ab  1.2 MiB / 2.0 MiB  800.0 KiB/s`: one blob in flight. */
export function blobLine(transfer: BlobTransfer, now: number): string {
  const { descriptor, bytes, startedAt } = transfer;
  return `${shortDigest(descriptor.digest)}  ${formatBytes(bytes)} / ${formatBytes(descriptor.size)}  ${formatBytes(rate(bytes, startedAt, now))}/s`;
}

/** `copied sha256:0123456789ab  2.0 MiB  application/vnd.oci.image.layer.v1.tar+gzip`: one blob finished. */
export function finishedLine(descriptor: Descriptor, outcome: CopyOutcome): string {
  return `${outcome} ${shortDigest(descriptor.digest)}  ${formatBytes(descriptor.size)}  ${descriptor.mediaType}`;
}
