import { readFile } from 'node:fs/promises';
import type { Credential, CredentialLookup } from '../auth/types.js';
import type { Reference } from '../ref/types.js';
import type { RegistryClient } from '../registry/client.js';
import type { Transport, TransportOptions } from '../transport/index.js';
import { accessKey, RegistryAccess, type SharedAccess } from './access.js';
import type { GlobalOptions } from './global-options.js';
import type { Io } from './io.js';
import { Output } from './output.js';
import { planSides, type SideAccess, type SideFlags, type SideName } from './sides.js';

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
  readonly #accesses = new Map<string, RegistryAccess>();
  #storedCredentials: Promise<CredentialLookup> | undefined;
  #stdinSecret: Promise<string> | undefined;
  #version: string;
  readonly #startupCaCerts: string | undefined;
  readonly #closers: Array<() => void> = [];
  readonly #opened: AsyncDisposable[] = [];

  constructor(
    readonly options: GlobalOptions,
    readonly io: Io,
    version: string,
    /** See `takeStartupCaCerts`. */
    startupCaCerts?: string,
  ) {
    this.#version = version;
    this.#startupCaCerts = startupCaCerts;
    this.output = new Output(io, {
      json: options.json === true,
      quiet: options.quiet === true,
      verbose: options.verbose === true,
    });
  }

  #transportDefaults(): TransportOptions {
    return {
      env: this.io.env,
      certsDir: this.options.certsDir,
      nodeExtraCaCerts: this.#startupCaCerts,
      userAgent: `tug/${this.#version}`,
      trace: this.options.verbose ? (line) => this.output.trace(line) : undefined,
      ...(this.options.timeout
        ? { timeouts: { headersMs: this.options.timeout * 1000, bodyIdleMs: this.options.timeout * 1000 } }
        : {}),
      ...(this.options.retries ? { retry: { attempts: this.options.retries } } : {}),
    };
  }

  #storedCredentialLookup(): Promise<CredentialLookup> {
    this.#storedCredentials ??= import('../auth/credentials/lookup.js').then(({ createCredentialLookup }) =>
      createCredentialLookup(this.credentialOptions()),
    );
    return this.#storedCredentials;
  }

  #readStdinSecret(): Promise<string> {
    this.#stdinSecret ??= readStdin(this.io).then((bytes) => bytes.toString('utf8').replace(/\r?\n$/, ''));
    return this.#stdinSecret;
  }

  /** What every access of this run shares; `extra` is added to the transport defaults. */
  #shared(extra: Partial<TransportOptions> = {}): SharedAccess {
    return {
      transportDefaults: () => ({ ...this.#transportDefaults(), ...extra }),
      storedCredentials: () => this.#storedCredentialLookup(),
      stdinSecret: () => this.#readStdinSecret(),
      requestHeaders: () => this.requestHeaders(),
    };
  }

  /** The access for these settings; equal settings share one (one HTTP stack, one token cache). */
  #access(settings: SideAccess): RegistryAccess {
    const key = accessKey(settings);
    let access = this.#accesses.get(key);
    if (!access) {
      access = new RegistryAccess(settings, this.#shared());
      this.#accesses.set(key, access);
    }
    return access;
  }

  /**
   * An access of its own (not shared with other commands' sides), whose transport adds `extra` to
   * the run's defaults: for `sync`, each registry's settings from the file and one shared pace.
   */
  ownAccess(settings: SideAccess, extra: Partial<TransportOptions>): RegistryAccess {
    const access = new RegistryAccess(settings, this.#shared(extra));
    this.#accesses.set(`own:${this.#accesses.size}`, access);
    return access;
  }

  /** The global options' access, for a command that talks to one registry. */
  access(): RegistryAccess {
    const { plainHttp, insecure, caFile, certFile, keyFile, username, password, passwordStdin } =
      this.options;
    return this.#access({
      plainHttp,
      insecure,
      caFile,
      certFile,
      keyFile,
      username,
      password,
      passwordStdin,
      flagPrefix: '--',
    });
  }

  /**
   * The access of each side of a command that reads from one registry and writes to another:
   * each credential and client certificate goes only to the registry it was given for.
   */
  sides(flags: SideFlags, refs: Record<SideName, Reference[]>): Record<SideName, RegistryAccess> {
    const registries = (side: SideName) =>
      refs[side].flatMap((ref) => (ref.kind === 'registry' ? [ref.registry] : []));
    const plans = planSides(
      { ...this.options, ...flags },
      { from: registries('from'), to: registries('to') },
    );
    return { from: this.#access(plans.from), to: this.#access(plans.to) };
  }

  transport(): Promise<Transport> {
    return this.access().transport();
  }

  /** The credential given on the command line, if any (`-u`, `-p`, `--password-stdin`). */
  flagCredential(): Promise<Credential | undefined> {
    return this.access().flagCredential();
  }

  credentialOptions() {
    return {
      configPath: this.options.registryConfig,
      env: this.io.env,
      warn: (message: string) => this.output.warn(message),
    };
  }

  /** `-H/--header`, parsed: a malformed one is a usage error before any request. */
  async requestHeaders(): Promise<Record<string, string>> {
    const { parseHeader } = await import('../transport/extra-headers.js');
    return Object.fromEntries((this.options.header ?? []).map(parseHeader));
  }

  registry(): Promise<RegistryClient> {
    return this.access().registry();
  }

  async readInputFile(path: string): Promise<Uint8Array> {
    if (path === '-') return readStdin(this.io);
    return readFile(path);
  }

  get signal(): AbortSignal {
    return this.interrupt.signal;
  }

  /** Runs when the command ends, however it ends (a progress display gives the terminal back). */
  onClose(closer: () => void): void {
    this.#closers.push(closer);
  }

  /** Disposes of `target` when the command ends, however it ends: an archive is finished, or removed. */
  own<T extends AsyncDisposable>(target: T): T {
    this.#opened.push(target);
    return target;
  }

  async close(): Promise<void> {
    for (const closer of this.#closers.splice(0)) closer();
    let failure: { error: unknown } | undefined;
    for (const target of this.#opened.splice(0).reverse()) {
      try {
        await target[Symbol.asyncDispose]();
      } catch (error) {
        failure ??= { error };
      }
    }
    for (const access of this.#accesses.values()) await access.close();
    if (failure) throw failure.error;
  }
}
