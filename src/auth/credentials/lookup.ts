import type { Credential, CredentialLookup } from '../types.js';
import {
  configKey,
  containersAuthPaths,
  credentialFromEntry,
  credHelperFor,
  dockerConfigPath,
  findEntry,
  loadDockerConfig,
} from './docker-config.js';
import { CredentialHelperError, helperGet } from './helper.js';
import { type Keychain, osKeychain } from './keychain.js';

/** Where credentials are looked up, and with what. */
export interface CredentialOptions {
  /** --registry-config */
  configPath?: string;
  /** HOME, DOCKER_CONFIG, PATH, DBUS_SESSION_BUS_ADDRESS; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** -u/-p/--password-stdin: used for every registry. */
  flags?: Credential;
  /** Told when a source cannot be read and the next one is tried. */
  warn?: (message: string) => void;
  /** false: never use one; default: the OS keychain, loaded lazily. */
  keychain?: Keychain | false;
}

export function keychainOf(options: CredentialOptions): Keychain | undefined {
  if (options.keychain === false) return undefined;
  return options.keychain ?? osKeychain(options.env);
}

/**
 * Credentials in the order the README documents: flags; the docker config's `credHelpers[host]`,
 * then `credsStore`, then `auths[host]`; the same in `REGISTRY_AUTH_FILE`, then in podman's
 * `${XDG_RUNTIME_DIR}/containers/auth.json`; tug's keychain entry; else anonymous (undefined). A
 * helper that cannot answer is a warning and the next source is tried. Each registry is looked up once.
 */
export function createCredentialLookup(options: CredentialOptions = {}): CredentialLookup {
  const env = options.env ?? process.env;
  const warn = options.warn ?? (() => {});
  const docker = dockerConfigPath(options);
  const paths = [docker, ...containersAuthPaths(env).filter((path) => path !== docker)];
  const configs = new Map<string, ReturnType<typeof loadDockerConfig>>();
  const cache = new Map<string, Promise<Credential | undefined>>();

  const fromHelper = async (helper: string, registry: string): Promise<Credential | undefined> => {
    try {
      return await helperGet(helper, configKey(registry), { env });
    } catch (error) {
      if (!(error instanceof CredentialHelperError)) throw error;
      warn(`${error.message}; trying the next source`);
      return undefined;
    }
  };

  const fromFile = async (path: string, registry: string): Promise<Credential | undefined> => {
    let config = configs.get(path);
    if (!config) {
      config = loadDockerConfig(path, warn);
      configs.set(path, config);
    }
    const data = await config;
    for (const helper of [credHelperFor(data, registry), data.credsStore]) {
      const found = helper ? await fromHelper(helper, registry) : undefined;
      if (found) return found;
    }
    const entry = findEntry(data.auths, registry);
    return entry ? credentialFromEntry(entry, registry, warn) : undefined;
  };

  const resolve = async (registry: string): Promise<Credential | undefined> => {
    if (options.flags) return options.flags;
    for (const path of paths) {
      const found = await fromFile(path, registry);
      if (found) return found;
    }
    return keychainOf(options)?.get(registry);
  };

  return (registry) => {
    let found = cache.get(registry);
    if (!found) {
      found = resolve(registry);
      cache.set(registry, found);
    }
    return found;
  };
}
