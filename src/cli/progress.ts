import type { Ora } from 'ora';
import type { CopyEvents, CopyOutcome, CopyResult } from '../copy/index.js';
import type { CliContext } from './context.js';
import { formatBytes } from './format.js';
import { isTty } from './io.js';

export type ProgressMode = 'tty' | 'json' | 'none';

export function progressMode(context: CliContext): ProgressMode {
  const { progress, quiet } = context.options;
  if (progress === 'json') return 'json';
  if (progress === false || quiet) return 'none';
  // A terminal that reports no width (some CI pseudo-terminals) cannot host a spinner: ora would
  // count the lines of its frame by dividing by that width and never stop clearing them.
  const columns = (context.io.stderr as { columns?: number }).columns ?? 0;
  return isTty(context.io.stderr) && columns > 0 ? 'tty' : 'none';
}

/** Counts what a copy does and shows it: a spinner on a terminal, JSON lines for CI, or nothing. */
export class CopyProgress {
  readonly #context: CliContext;
  readonly #mode: ProgressMode;
  readonly #started = Date.now();
  #spinner: Ora | undefined;
  #bytes = 0;
  #seen = 0;
  #done = 0;

  constructor(context: CliContext) {
    this.#context = context;
    this.#mode = progressMode(context);
  }

  async start(label: string): Promise<void> {
    if (this.#mode === 'tty') {
      const { default: ora } = await import('ora');
      this.#spinner = ora({ text: label, stream: this.#context.io.stderr }).start();
    }
  }

  get events(): CopyEvents {
    return {
      onStart: (descriptor) => {
        this.#seen += 1;
        this.#emit({
          event: 'started',
          digest: descriptor.digest,
          size: descriptor.size,
          mediaType: descriptor.mediaType,
        });
      },
      onBytes: (descriptor, bytes) => {
        this.#bytes += bytes;
        this.#emit({ event: 'bytes', digest: descriptor.digest, bytes });
      },
      onDone: (descriptor, outcome) => {
        this.#done += 1;
        this.#emit({ event: outcome, digest: descriptor.digest, size: descriptor.size });
      },
    };
  }

  #emit(event: { event: 'started' | 'bytes' | CopyOutcome; digest: string } & Record<string, unknown>): void {
    if (this.#mode === 'json') {
      this.#context.io.stderr.write(`${JSON.stringify(event)}\n`);
    } else if (this.#spinner) {
      const seconds = Math.max((Date.now() - this.#started) / 1000, 0.001);
      this.#spinner.text = `${this.#done}/${this.#seen} blobs, ${formatBytes(this.#bytes)} (${formatBytes(this.#bytes / seconds)}/s)`;
    }
  }

  /** The final line: a JSON `done` event, or a one-line summary on stderr. */
  finish(result: CopyResult, what: string): void {
    const seconds = (Date.now() - this.#started) / 1000;
    const summary = `${what} ${result.root.digest}: ${result.copied} copied, ${result.skipped} skipped, ${result.mounted} mounted, ${formatBytes(result.bytes)} in ${seconds.toFixed(1)} s`;
    if (this.#mode === 'json') {
      this.#context.io.stderr.write(`${JSON.stringify({ event: 'done', ...resultJson(result), seconds })}\n`);
    } else if (this.#spinner) {
      this.#spinner.succeed(summary);
    } else {
      this.#context.output.info(summary);
    }
  }

  fail(): void {
    this.#spinner?.stop();
  }
}

export function resultJson(result: CopyResult): Record<string, unknown> {
  const { root, copied, skipped, mounted, bytes } = result;
  return { digest: root.digest, mediaType: root.mediaType, size: root.size, copied, skipped, mounted, bytes };
}
