import { readFile } from 'node:fs/promises';
import type { Credential, CredentialLookup } from '../auth/types.js';
import { UsageError } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';
import type { Transport } from '../transport/index.js';
import type { GlobalOptions } from './global-options.js';
import type { Io } from './io.js';
import { Output } from './output.js';

async function readStdin(io: Io): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * What every command needs, built lazily from the global options: `--help` builds nothing, and
 * the HTTP stack is loaded only by a command that talks to a registry.
 */
export class CliContext {
  readonly output: Output;
  /** Aborted on SIGINT or SIGTERM: transfers stop, temporary files go, sessions are cancelled. */
  readonly interrupt = new AbortController();
  #transport: Promise<Transport> | undefined;
  #registry: Promise<RegistryClient> | undefined;
  #credentials: Promise<CredentialLookup> | undefined;
  #version: string;

  constructor(
    readonly options: GlobalOptions,
    readonly io: Io,
    version: string,
  ) {
    this.#version = version;
    this.output = new Output(io, {
      json: options.json === true,
      quiet: options.quiet === true,
      verbose: options.verbose === true,
    });
  }

  transport(): Promise<Transport> {
    this.#transport ??= import('../transport/index.js').then(({ createTransport }) =>
      createTransport({
        plainHttp: this.options.plainHttp,
        insecure: this.options.insecure,
        caFile: this.options.caFile,
        certFile: this.options.certFile,
        keyFile: this.options.keyFile,
        env: this.io.env,
        userAgent: `tug/${this.#version}`,
        trace: this.options.verbose ? (line) => this.output.trace(line) : undefined,
        ...(this.options.timeout
          ? { timeouts: { headersMs: this.options.timeout * 1000, bodyIdleMs: this.options.timeout * 1000 } }
          : {}),
        ...(this.options.retries ? { retry: { attempts: this.options.retries } } : {}),
      }),
    );
    return this.#transport;
  }

  /** The credential given on the command line, if any (`-u`, `-p`, `--password-stdin`). */
  async flagCredential(): Promise<Credential | undefined> {
    const { username, password, passwordStdin } = this.options;
    if (passwordStdin && password !== undefined) {
      throw new UsageError('--password and --password-stdin cannot be used together');
    }
    const secret = passwordStdin
      ? (await readStdin(this.io)).toString('utf8').replace(/\r?\n$/, '')
      : password;
    if (secret === undefined && username === undefined) return undefined;
    if (secret === undefined || username === undefined) {
      throw new UsageError('--username and a password (--password or --password-stdin) go together');
    }
    return { username, password: secret };
  }

  credentialOptions() {
    return {
      configPath: this.options.registryConfig,
      env: this.io.env,
      warn: (message: string) => this.output.warn(message),
    };
  }

  async credentials(): Promise<CredentialLookup> {
    this.#credentials ??= Promise.all([this.flagCredential(), import('../auth/credentials/lookup.js')]).then(
      ([flags, { createCredentialLookup }]) => createCredentialLookup({ ...this.credentialOptions(), flags }),
    );
    return this.#credentials;
  }

  registry(): Promise<RegistryClient> {
    this.#registry ??= (async () => {
      const [{ RegistryClient }, transport, credentials] = await Promise.all([
        import('../registry/client.js'),
        this.transport(),
        this.credentials(),
      ]);
      return new RegistryClient({ transport, credentials });
    })();
    return this.#registry;
  }

  async readInputFile(path: string): Promise<Uint8Array> {
    if (path === '-') return readStdin(this.io);
    return readFile(path);
  }

  get signal(): AbortSignal {
    return this.interrupt.signal;
  }

  async close(): Promise<void> {
    await (await this.#registry?.catch(() => undefined))?.close();
    await (await this.#transport?.catch(() => undefined))?.close();
  }
}
