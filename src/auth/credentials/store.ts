import type { Credential, CredentialStoreKind } from '../types.js';
import {
  configKey,
  configKeys,
  dockerConfigPath,
  findEntry,
  loadDockerConfig,
  writeDockerConfig,
} from './docker-config.js';
import { helperErase, helperStore } from './helper.js';
import { type CredentialOptions, keychainOf } from './lookup.js';

export interface StoredCredential {
  kind: CredentialStoreKind;
  location: string;
  warning?: string;
}

/**
 * Stores a verified credential: through the configured helper for the host (credHelpers, else
 * credsStore); else in the OS keychain when one is reachable; else in the docker config file,
 * mode 0600, with a warning that it is not encrypted.
 */
export async function storeCredential(
  registry: string,
  credential: Credential,
  options: CredentialOptions = {},
): Promise<StoredCredential> {
  const env = options.env ?? process.env;
  const path = dockerConfigPath(options);
  const data = await loadDockerConfig(path, options.warn ?? (() => {}));
  const helper = findEntry(data.credHelpers, registry) ?? data.credsStore;
  if (helper) {
    await helperStore(helper, configKey(registry), credential, env);
    return { kind: 'helper', location: `docker-credential-${helper}` };
  }
  const keychain = keychainOf(options);
  if (keychain && (await keychain.available())) {
    await keychain.set(registry, credential);
    return { kind: 'keychain', location: 'the OS keychain' };
  }
  const auths = { ...data.auths };
  for (const key of configKeys(registry)) delete auths[key];
  auths[configKey(registry)] = credential.identityToken
    ? { auth: '', identitytoken: credential.identityToken }
    : { auth: Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64') };
  await writeDockerConfig(path, { ...data, auths });
  return {
    kind: 'file',
    location: path,
    warning: `credentials are stored unencrypted in ${path}; configure a credential helper to avoid it`,
  };
}

/** Removes a registry's credential from every place tug may have put it. True when one was removed. */
export async function eraseCredential(registry: string, options: CredentialOptions = {}): Promise<boolean> {
  const env = options.env ?? process.env;
  const path = dockerConfigPath(options);
  const data = await loadDockerConfig(path, options.warn ?? (() => {}));
  let removed = false;
  const helper = findEntry(data.credHelpers, registry) ?? data.credsStore;
  if (helper) removed = await helperErase(helper, configKey(registry), env).catch(() => false);
  const keychain = keychainOf(options);
  if (keychain) removed = (await keychain.delete(registry)) || removed;
  const keys = configKeys(registry).filter((key) => data.auths?.[key] !== undefined);
  if (keys.length > 0) {
    const auths = { ...data.auths };
    for (const key of keys) delete auths[key];
    await writeDockerConfig(path, { ...data, auths });
    removed = true;
  }
  return removed;
}
