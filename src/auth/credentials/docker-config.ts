import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Credential } from '../types.js';

/** The parts of docker's config.json tug reads; every other key is kept as it is on write. */
export interface DockerConfigData {
  auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string; [key: string]: unknown }
  >;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

export interface ConfigLocation {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
}

export const dockerHubConfigKey = 'https://index.docker.io/v1/';

export function dockerConfigPath(location: ConfigLocation): string {
  if (location.configPath) return location.configPath;
  const env = location.env ?? process.env;
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME ?? homedir(), '.docker', 'config.json');
}

/** The file, or an empty config when it is missing or unreadable (with a warning naming it). */
export async function loadDockerConfig(
  path: string,
  warn: (message: string) => void,
): Promise<DockerConfigData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as DockerConfigData;
  } catch {
    // reported below
  }
  warn(`ignoring ${path}: it is not a valid JSON object`);
  return {};
}

/** The keys docker would use for a registry in `auths` and for helpers, most specific first. */
export function configKeys(registry: string): string[] {
  if (registry === 'docker.io')
    return [dockerHubConfigKey, 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [
    registry,
    `https://${registry}`,
    `http://${registry}`,
    `https://${registry}/`,
    `http://${registry}/`,
  ];
}

/** The key to store a registry under, as docker login writes it. */
export function configKey(registry: string): string {
  return registry === 'docker.io' ? dockerHubConfigKey : registry;
}

export function findEntry<T>(record: Record<string, T> | undefined, registry: string): T | undefined {
  if (!record) return undefined;
  for (const key of configKeys(registry)) {
    const value = record[key];
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A credential from an `auths` entry: `auth` (base64 user:pass), `username`/`password`, or `identitytoken`. */
export function credentialFromEntry(
  entry: NonNullable<DockerConfigData['auths']>[string],
  registry: string,
  warn: (message: string) => void,
): Credential | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) {
    const username = typeof entry.username === 'string' ? entry.username : undefined;
    return { ...(username ? { username } : {}), identityToken: entry.identitytoken };
  }
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = /^[A-Za-z0-9+/=\s]+$/.test(entry.auth)
      ? Buffer.from(entry.auth, 'base64').toString('utf8')
      : '';
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      warn(`ignoring the "auth" entry for ${registry}: it is not base64 of user:password`);
      return undefined;
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/**
 * Writes the config atomically with mode 0600: a temporary file beside the real one (a symlinked
 * config.json is followed, so the link survives), flushed, then renamed over it.
 */
export async function writeDockerConfig(path: string, data: DockerConfigData): Promise<void> {
  const target = await realpath(path).catch(() => path);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(data, null, '\t')}\n`);
    await handle.sync();
    await handle.close();
    await rename(temporary, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
}
