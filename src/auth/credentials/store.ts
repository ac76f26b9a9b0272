import type { Credential, CredentialStoreKind } from '../types.js';
import {
  configKey,
  credHelperFor,
  type DockerConfigData,
  dockerConfigPath,
  loadDockerConfig,
  matchingKeys,
  writeDockerConfig,
} from './docker-config.js';
import { helperErase, helperStore } from './helper.js';
import { type CredentialOptions, keychainOf } from './lookup.js';

export interface StoredCredential {
  kind: CredentialStoreKind;
  location: string;
  warning?: string;
}

/** The helper that holds this registry's credentials: `credHelpers[host]`, else `credsStore`. */
function helperOf(data: DockerConfigData, registry: string): string | undefined {
  return credHelperFor(data, registry) ?? (data.credsStore || undefined);
}

function withoutRegistry(data: DockerConfigData, registry: string): NonNullable<DockerConfigData['auths']> {
  const auths = { ...data.auths };
  for (const key of matchingKeys(auths, registry)) delete auths[key];
  return auths;
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
  const helper = helperOf(data, registry);
  if (helper) {
    await helperStore(helper, configKey(registry), credential, { env });
    return { kind: 'helper', location: `docker-credential-${helper}` };
  }
  const keychain = keychainOf(options);
  if (keychain && (await keychain.available())) {
    const stored = await keychain.set(registry, credential).then(
      () => true,
      () => false,
    );
    if (stored) return { kind: 'keychain', location: 'the OS keychain' };
  }
  const auths = withoutRegistry(data, registry);
  auths[configKey(registry)] = credential.identityToken
    ? {
        auth: Buffer.from(`${credential.username ?? ''}:`).toString('base64'),
        identitytoken: credential.identityToken,
      }
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
  const warn = options.warn ?? (() => {});
  const data = await loadDockerConfig(path, warn);
  let removed = false;
  const helper = helperOf(data, registry);
  if (helper) {
    removed = await helperErase(helper, configKey(registry), { env }).catch((error: Error) => {
      warn(error.message);
      return false;
    });
  }
  const keychain = keychainOf(options);
  if (keychain) removed = (await keychain.delete(registry).catch(() => false)) || removed;
  if (matchingKeys(data.auths, registry).length > 0) {
    await writeDockerConfig(path, { ...data, auths: withoutRegistry(data, registry) });
    removed = true;
  }
  return removed;
}
