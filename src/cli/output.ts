import type { Writable } from 'node:stream';
import { Chalk, type ChalkInstance } from 'chalk';
import { escapeControl } from './format.js';
import { type Io, isTty } from './io.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

/** Colour only when the stream is a terminal, unless FORCE_COLOR asks otherwise; NO_COLOR always wins. */
function colourFor(stream: Writable, env: NodeJS.ProcessEnv): ChalkInstance {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return new Chalk({ level: 0 });
  const forced = env.FORCE_COLOR;
  if (forced !== undefined && forced !== '' && forced !== '0' && forced !== 'false')
    return new Chalk({ level: 1 });
  return new Chalk({ level: isTty(stream) ? 1 : 0 });
}

/**
 * Data goes to stdout, diagnostics to stderr: `tug digest X | jq` and `d=$(tug digest X)` see
 * nothing but the data. Every line method prints exactly one line: control characters in the
 * text (which may come from a server) are escaped, so only `bytes` and `json` pass them on.
 */
export class Output {
  readonly colour: ChalkInstance;
  readonly errorColour: ChalkInstance;

  constructor(
    readonly io: Io,
    readonly options: OutputOptions,
  ) {
    this.colour = colourFor(io.stdout, io.env);
    this.errorColour = colourFor(io.stderr, io.env);
  }

  /** One line of data on stdout. */
  line(text = ''): void {
    this.io.stdout.write(`${escapeControl(text)}\n`);
  }

  /** One line of data on stdout, `label` in bold (on a terminal), `value` escaped. */
  labelled(label: string, value = ''): void {
    this.io.stdout.write(`${this.colour.bold(escapeControl(label))}${escapeControl(value)}\n`);
  }

  /** Raw bytes on stdout, exactly as given. */
  bytes(data: Uint8Array): void {
    this.io.stdout.write(data);
  }

  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A diagnostic for people: stderr, silenced by --quiet. */
  info(message: string): void {
    if (!this.options.quiet) this.io.stderr.write(`${escapeControl(message)}\n`);
  }

  warn(message: string): void {
    this.io.stderr.write(`${this.errorColour.yellow('warning:')} ${escapeControl(message)}\n`);
  }

  error(message: string, hint?: string): void {
    this.io.stderr.write(`${this.errorColour.red('error:')} ${escapeControl(message)}\n`);
    if (hint) this.io.stderr.write(`${this.errorColour.dim('hint:')} ${escapeControl(hint)}\n`);
  }

  /** The verbose trace: stderr, only with --verbose. */
  trace(line: string): void {
    if (this.options.verbose) this.io.stderr.write(`${this.errorColour.dim(escapeControl(line))}\n`);
  }
}
