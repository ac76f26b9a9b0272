import { TugError } from '../../errors.js';
import type { Credential } from '../types.js';

/** tug's entries in the OS keychain: service `tug`, account = registry, secret = the credential as JSON. */
export interface Keychain {
  /** The credential stored for `registry`, if any. */
  get(registry: string): Promise<Credential | undefined>;
  /** Stores `credential` for `registry`. */
  set(registry: string, credential: Credential): Promise<void>;
  /** Removes the credential of `registry`; false when there was none. */
  delete(registry: string): Promise<boolean>;
  /** Whether a keychain can be reached here (a Secret Service session on Linux). */
  available(): Promise<boolean>;
}

const service = 'tug';
const timeoutMs = 5000;

/** An entry's secret as tug wrote it; anything else is treated as no entry. */
function parseStoredCredential(secret: string): Credential | undefined {
  const parsed: unknown = JSON.parse(secret);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const credential: Credential = {};
  for (const key of ['username', 'password', 'identityToken'] as const) {
    const value: unknown = (parsed as Record<string, unknown>)[key];
    if (typeof value === 'string') credential[key] = value;
  }
  return credential.password !== undefined || credential.identityToken !== undefined ? credential : undefined;
}

type AsyncEntryClass = typeof import('@napi-rs/keyring').AsyncEntry;

/**
 * The OS keychain through @napi-rs/keyring, loaded only when first needed. On Linux it needs a
 * D-Bus session; without one it is unreachable at once, and every failure means "no keychain".
 */
export function osKeychain(env: NodeJS.ProcessEnv = process.env): Keychain {
  let loaded: Promise<AsyncEntryClass | undefined> | undefined;
  const entryClass = () => {
    loaded ??= (async () => {
      if (process.platform === 'linux' && !env.DBUS_SESSION_BUS_ADDRESS) return undefined;
      try {
        return (await import('@napi-rs/keyring')).AsyncEntry;
      } catch {
        return undefined;
      }
    })();
    return loaded;
  };
  const entry = async (registry: string) => {
    const Entry = await entryClass();
    return Entry ? new Entry(service, registry) : undefined;
  };
  const bounded = <T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    work(AbortSignal.timeout(timeoutMs));

  return {
    async get(registry) {
      const found = await entry(registry);
      if (!found) return undefined;
      try {
        const secret = await bounded((signal) => found.getPassword(signal));
        return secret ? parseStoredCredential(secret) : undefined;
      } catch {
        return undefined;
      }
    },
    async set(registry, credential) {
      const found = await entry(registry);
      if (!found) throw new TugError('no OS keychain can be reached', { code: 'CREDENTIAL_STORE' });
      await bounded((signal) => found.setPassword(JSON.stringify(credential), signal));
    },
    async delete(registry) {
      const found = await entry(registry);
      if (!found) return false;
      return bounded((signal) => found.deletePassword(signal)).catch(() => false);
    },
    async available() {
      const found = await entry('tug-probe');
      if (!found) return false;
      try {
        await bounded((signal) => found.getPassword(signal));
        return true;
      } catch {
        return false;
      }
    },
  };
}
