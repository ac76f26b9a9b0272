import { Readable, Transform } from 'node:stream';
import { type ExitCode, TransportError, TugError } from '../errors.js';
import {
  isManifestMediaType,
  isVerified,
  MAX_MANIFEST_BYTES,
  markVerified,
  parseManifest,
  successors,
} from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { RegistryError } from '../registry/errors.js';
import { isMounter, type ReadTarget, type WriteTarget } from '../targets/target.js';
import { Limiter } from './limiter.js';

export type CopyOutcome = 'copied' | 'skipped' | 'mounted';

/** Attempts at one blob when the network fails under it (each from the source, in a new session). */
const BLOB_ATTEMPTS = 3;

export interface CopyEvents {
  onStart?(descriptor: Descriptor): void;
  onBytes?(descriptor: Descriptor, bytes: number): void;
  onDone?(descriptor: Descriptor, outcome: CopyOutcome): void;
}

export interface CopyOptions {
  /** Transfers at once (default 5). */
  concurrency?: number;
  /** Walk below nodes the destination has, to fill a partly filled destination. */
  checkEveryNode?: boolean;
  /** Tags to give the root once the whole graph is at the destination. */
  tags?: string[];
  events?: CopyEvents;
  signal?: AbortSignal;
  /** Extra successors of a manifest (its referrers, for `cp -r`). */
  findExtraSuccessors?: (descriptor: Descriptor) => Promise<Descriptor[]>;
}

export interface CopyResult {
  root: Descriptor;
  copied: number;
  skipped: number;
  mounted: number;
  /** Bytes that flowed from the source to the destination. */
  bytes: number;
}

/** A failed copy, saying which side failed; it keeps the exit code of its cause. */
export class CopyError extends TugError {
  override readonly exitCode: ExitCode;

  constructor(action: string, descriptor: Descriptor, side: 'source' | 'destination', cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `copy failed: ${action} ${descriptor.digest} ${side === 'source' ? 'from the source' : 'to the destination'}: ${reason}`,
      {
        cause,
        hint: cause instanceof TugError ? cause.hint : undefined,
      },
    );
    this.exitCode = cause instanceof TugError ? cause.exitCode : 1;
  }
}

async function onSide<T>(
  side: 'source' | 'destination',
  action: string,
  descriptor: Descriptor,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CopyError) throw error;
    throw new CopyError(action, descriptor, side, error);
  }
}

function counting(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.byteLength);
      done(null, chunk);
    },
  });
}

/**
 * Copies the graph under `root` from `src` to `dst`: index → manifests → configs and layers.
 * Children are at the destination before their parent is pushed, each digest is handled once,
 * transfers are bounded (a manifest waiting for its children holds no slot), blobs stream from
 * source to destination, and a node the destination has is skipped with everything under it.
 */
export async function copyGraph(
  src: ReadTarget,
  dst: WriteTarget,
  root: Descriptor,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const limiter = new Limiter(options.concurrency ?? 5);
  const events = options.events ?? {};
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const visits = new Map<string, Promise<void>>();
  const result: CopyResult = { root, copied: 0, skipped: 0, mounted: 0, bytes: 0 };

  const finish = (descriptor: Descriptor, outcome: CopyOutcome) => {
    result[outcome] += 1;
    events.onDone?.(descriptor, outcome);
  };

  /** One attempt: fetch from the source and stream into the destination. */
  const streamBlob = async (descriptor: Descriptor): Promise<void> => {
    const content: Readable = await onSide('source', 'fetching', descriptor, () => src.fetch(descriptor));
    // An abort (Ctrl-C, another node failing) stops the transfers under way, not only the queued ones.
    const stop = () =>
      content.destroy(signal.reason instanceof Error ? signal.reason : new Error('copy aborted'));
    signal.addEventListener('abort', stop, { once: true });
    const counted = content.pipe(
      counting((n) => {
        result.bytes += n;
        events.onBytes?.(descriptor, n);
      }),
    );
    content.on('error', (error) => counted.destroy(error));
    if (isVerified(content, descriptor)) markVerified(counted, descriptor);
    try {
      await dst.push(descriptor, counted);
    } catch (error) {
      content.destroy();
      // A source stream that failed verification makes the push fail: blame the source.
      const side = content.errored ? 'source' : 'destination';
      throw new CopyError(
        side === 'source' ? 'reading' : 'pushing',
        descriptor,
        side,
        content.errored ?? error,
      );
    } finally {
      signal.removeEventListener('abort', stop);
    }
  };

  const transferBlob = (descriptor: Descriptor) =>
    limiter.run(async () => {
      if (
        isMounter(dst) &&
        (await onSide('destination', 'mounting', descriptor, () => dst.mount(descriptor, src)))
      ) {
        finish(descriptor, 'mounted');
        return;
      }
      // A broken upload starts again from the source, in a new upload session.
      for (let attempt = 1; ; attempt++) {
        try {
          await streamBlob(descriptor);
          break;
        } catch (error) {
          const retriable =
            error instanceof CopyError && error.cause instanceof TransportError && !signal.aborted;
          if (!retriable || attempt >= BLOB_ATTEMPTS) throw error;
        }
      }
      finish(descriptor, 'copied');
    }, signal);

  const visit = async (descriptor: Descriptor): Promise<void> => {
    events.onStart?.(descriptor);
    const present = await limiter.run(
      () => onSide('destination', 'checking', descriptor, () => dst.exists(descriptor)),
      signal,
    );
    const manifest = isManifestMediaType(descriptor.mediaType);
    if (present && (!options.checkEveryNode || !manifest)) {
      finish(descriptor, 'skipped');
      return;
    }
    if (!manifest) return transferBlob(descriptor);
    const bytes = await limiter.run(
      () => onSide('source', 'fetching', descriptor, () => src.fetchBytes(descriptor)),
      signal,
    );
    if (bytes.byteLength > MAX_MANIFEST_BYTES)
      throw new CopyError('fetching', descriptor, 'source', new Error('manifest too large'));
    const parsed = await onSide('source', 'reading', descriptor, async () =>
      parseManifest(bytes, descriptor.mediaType),
    );
    const extra = options.findExtraSuccessors ? await options.findExtraSuccessors(descriptor) : [];
    await Promise.all([...successors(parsed.manifest), ...extra].map(walk));
    if (present) {
      finish(descriptor, 'skipped');
      return;
    }
    await limiter.run(async () => {
      await onSide('destination', 'pushing', descriptor, () => dst.push(descriptor, Readable.from([bytes])));
      result.bytes += bytes.byteLength;
      events.onBytes?.(descriptor, bytes.byteLength);
    }, signal);
    finish(descriptor, 'copied');
  };

  const walk = (descriptor: Descriptor): Promise<void> => {
    let pending = visits.get(descriptor.digest);
    if (!pending) {
      pending = visit(descriptor);
      pending.catch(() => controller.abort());
      visits.set(descriptor.digest, pending);
    }
    return pending;
  };

  await walk(root);
  for (const tag of options.tags ?? []) {
    await onSide('destination', `tagging ${tag} as`, root, () => dst.tag(root, tag));
  }
  return result;
}
