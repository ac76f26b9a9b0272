import type { Credential, CredentialLookup } from '../auth/types.js';
import { UsageError } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';
import type { Transport, TransportOptions } from '../transport/index.js';
import { registryKey, type SideAccess } from './sides.js';

/** What every registry access of one run shares. */
export interface SharedAccess {
  /** Environment, user agent, trace, timeouts and retries: the same for every registry. */
  transportDefaults(): TransportOptions;
  /** The docker config, its helpers and the keychain, looked up by host. */
  storedCredentials(): Promise<CredentialLookup>;
  /** Standard input as a password, read once however many accesses ask. */
  stdinSecret(): Promise<string>;
  /** `-H/--header`: sent to every registry the command addresses, never to another origin. */
  requestHeaders(): Promise<Record<string, string>>;
}

/** Settings as a stable string: two sides with equal settings share one access. */
export function accessKey(settings: SideAccess): string {
  return JSON.stringify(
    Object.entries(settings)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * How tug reaches the registry (or registries) of one side: its own HTTP stack with its TLS
 * settings, its command-line credential, and a client; each built on first use. The credential
 * given on the command line goes only to the registries it was given for.
 */
export class RegistryAccess {
  readonly #settings: SideAccess;
  readonly #shared: SharedAccess;
  readonly #credentialFor: ReadonlySet<string> | undefined;
  #transport: Promise<Transport> | undefined;
  #flagCredential: Promise<Credential | undefined> | undefined;
  #registry: Promise<RegistryClient> | undefined;

  constructor(settings: SideAccess, shared: SharedAccess) {
    this.#settings = settings;
    this.#shared = shared;
    this.#credentialFor = settings.registries ? new Set(settings.registries.map(registryKey)) : undefined;
  }

  transport(): Promise<Transport> {
    const { plainHttp, insecure, caFile, certFile, keyFile } = this.#settings;
    this.#transport ??= import('../transport/index.js').then(({ createTransport }) =>
      createTransport({
        ...this.#shared.transportDefaults(),
        plainHttp,
        insecure,
        caFile,
        certFile,
        keyFile,
      }),
    );
    return this.#transport;
  }

  /** The credential given on the command line for this side, if any. */
  flagCredential(): Promise<Credential | undefined> {
    this.#flagCredential ??= this.#readFlagCredential();
    return this.#flagCredential;
  }

  async #readFlagCredential(): Promise<Credential | undefined> {
    const { username, password, passwordStdin, flagPrefix: flag } = this.#settings;
    if (passwordStdin && password !== undefined) {
      throw new UsageError(`${flag}password and ${flag}password-stdin cannot be used together`);
    }
    const secret = passwordStdin ? await this.#shared.stdinSecret() : password;
    if (secret === undefined && username === undefined) return undefined;
    if (secret === undefined || username === undefined) {
      throw new UsageError(
        `${flag}username and a password (${flag}password or ${flag}password-stdin) go together`,
      );
    }
    return { username, password: secret };
  }

  async credentials(): Promise<CredentialLookup> {
    const [flags, stored] = await Promise.all([this.flagCredential(), this.#shared.storedCredentials()]);
    const credentialFor = this.#credentialFor;
    if (!flags) return stored;
    return (registry) =>
      credentialFor === undefined || credentialFor.has(registryKey(registry))
        ? Promise.resolve(flags)
        : stored(registry);
  }

  registry(): Promise<RegistryClient> {
    this.#registry ??= (async () => {
      const [{ RegistryClient }, transport, credentials, headers] = await Promise.all([
        import('../registry/client.js'),
        this.transport(),
        this.credentials(),
        this.#shared.requestHeaders(),
      ]);
      return new RegistryClient({ transport, credentials, headers });
    })();
    return this.#registry;
  }

  async close(): Promise<void> {
    await (await this.#registry?.catch(() => undefined))?.close();
    await (await this.#transport?.catch(() => undefined))?.close();
  }
}
