import type { MultiBar, SingleBar } from 'cli-progress';
import type { CopyEvents, CopyOutcome, CopyResult } from '../copy/index.js';
import type { CliContext } from './context.js';
import { formatBytes } from './format.js';
import { isTty } from './io.js';
import { blobLine, finishedLine, overallLine, TransferTally } from './transfer-tally.js';

/** bars: a live display on a terminal; lines: plain lines for logs; json: one event per line. */
export type ProgressMode = 'bars' | 'lines' | 'json' | 'none';

/** How often a transfer off a terminal says how far it has come, so a CI log never goes silent. */
export const PERIODIC_LINE_MS = 5000;

export function progressMode(context: CliContext): ProgressMode {
  const { progress, quiet } = context.options;
  if (progress === 'json') return 'json';
  if (progress === false || progress === 'none' || quiet) return 'none';
  if (progress === 'plain') return 'lines';
  // A terminal that reports no width (some CI pseudo-terminals) cannot host a redrawn display: its
  // lines could not be counted to be cleared.
  const columns = (context.io.stderr as { columns?: number }).columns ?? 0;
  return isTty(context.io.stderr) && columns > 0 ? 'bars' : 'lines';
}

interface BarPayload {
  text: () => string;
}

/**
 * Counts what a copy does and shows it: on a terminal a bar per blob in flight under an overall
 * bar with the ETA; in logs a line per finished blob and a line every few seconds; JSON lines for
 * CI systems to parse; or nothing.
 */
export class CopyProgress {
  readonly #context: CliContext;
  readonly #mode: ProgressMode;
  readonly #tally = new TransferTally(Date.now());
  readonly #bars = new Map<string, SingleBar>();
  #display: MultiBar | undefined;
  #overall: SingleBar | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(context: CliContext) {
    this.#context = context;
    this.#mode = progressMode(context);
  }

  async start(label: string): Promise<void> {
    this.#context.onClose(() => this.#stop());
    if (this.#mode === 'lines') {
      this.#timer = setInterval(
        () => this.#context.output.info(`${label}: ${overallLine(this.#tally, Date.now())}`),
        PERIODIC_LINE_MS,
      );
      this.#timer.unref();
    } else if (this.#mode === 'bars') {
      const { MultiBar, Format } = (await import('cli-progress')).default;
      this.#display = new MultiBar({
        stream: this.#context.io.stderr,
        hideCursor: true,
        clearOnComplete: true,
        barsize: 20,
        format: (options, params, payload: BarPayload) =>
          `${Format.BarFormat(params.progress, options)} ${payload.text()}`,
      });
      this.#overall = this.#display.create(1, 0, {
        text: () => `${label}  ${overallLine(this.#tally, Date.now())}`,
      } satisfies BarPayload);
    }
  }

  get events(): CopyEvents {
    return {
      onStart: (descriptor) => {
        this.#tally.start(descriptor, Date.now());
        this.#json({
          event: 'started',
          digest: descriptor.digest,
          size: descriptor.size,
          mediaType: descriptor.mediaType,
        });
      },
      onBytes: (descriptor, bytes) => {
        const transfer = this.#tally.bytes(descriptor, bytes);
        this.#json({ event: 'bytes', digest: descriptor.digest, bytes });
        if (!this.#display || !transfer) return;
        let bar = this.#bars.get(descriptor.digest);
        if (!bar) {
          bar = this.#display.create(Math.max(descriptor.size, 1), 0, {
            text: () => blobLine(transfer, Date.now()),
          } satisfies BarPayload);
          this.#bars.set(descriptor.digest, bar);
        }
        bar.update(Math.min(transfer.bytes, descriptor.size));
        this.#updateOverall();
      },
      onDone: (descriptor, outcome) => {
        this.#tally.done(descriptor, outcome);
        this.#json({ event: outcome, digest: descriptor.digest, size: descriptor.size });
        if (this.#mode === 'lines') this.#context.output.info(finishedLine(descriptor, outcome));
        const bar = this.#bars.get(descriptor.digest);
        if (bar) {
          this.#bars.delete(descriptor.digest);
          this.#display?.remove(bar);
        }
        this.#updateOverall();
      },
    };
  }

  #updateOverall(): void {
    this.#overall?.setTotal(Math.max(this.#tally.bytesExpected, 1));
    this.#overall?.update(this.#tally.bytesMoved);
  }

  #json(event: { event: 'started' | 'bytes' | CopyOutcome; digest: string } & Record<string, unknown>): void {
    if (this.#mode === 'json') this.#context.io.stderr.write(`${JSON.stringify(event)}\n`);
  }

  /** Ends the display (the terminal gets its cursor back) and the periodic line. */
  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#display?.stop();
    this.#display = undefined;
    this.#overall = undefined;
  }

  /** The final line: a JSON `done` event, or a one-line summary on stderr. */
  finish(result: CopyResult, what: string, counts?: string): void {
    this.#stop();
    const seconds = (Date.now() - this.#tally.startedAt) / 1000;
    if (this.#mode === 'json') {
      this.#context.io.stderr.write(`${JSON.stringify({ event: 'done', ...resultJson(result), seconds })}\n`);
      return;
    }
    const done = counts ?? `${result.copied} copied, ${result.skipped} skipped, ${result.mounted} mounted`;
    this.#context.output.info(
      `${what} ${result.root.digest}: ${done}, ${formatBytes(result.bytes)} in ${seconds.toFixed(1)} s`,
    );
  }

  fail(): void {
    this.#stop();
  }
}

export function resultJson(result: CopyResult): Record<string, unknown> {
  const { root, copied, skipped, mounted, bytes } = result;
  return { digest: root.digest, mediaType: root.mediaType, size: root.size, copied, skipped, mounted, bytes };
}
