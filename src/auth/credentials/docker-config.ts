import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readlink, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { TugError } from '../../errors.js';
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

/**
 * The auth files of the containers tools (podman, buildah, skopeo), read after docker's config:
 * `REGISTRY_AUTH_FILE`, then `${XDG_RUNTIME_DIR}/containers/auth.json`. They share docker's format.
 */
export function containersAuthPaths(env: NodeJS.ProcessEnv): string[] {
  const paths = [
    env.REGISTRY_AUTH_FILE,
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined,
  ];
  return [...new Set(paths.filter((path): path is string => Boolean(path)))];
}

/** The file, or an empty config when it is missing or unreadable (with a warning naming it). */
export async function loadDockerConfig(
  path: string,
  warn: (message: string) => void,
): Promise<DockerConfigData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`ignoring ${path}: it cannot be read`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    warn(`ignoring ${path}: it is not a valid JSON object`);
    return {};
  }
  const config: DockerConfigData = { ...parsed };
  for (const key of ['auths', 'credHelpers'] as const) {
    if (config[key] !== undefined && !isRecord(config[key])) {
      warn(`ignoring "${key}" in ${path}: it is not a JSON object`);
      delete config[key];
    }
  }
  if (config.credsStore !== undefined && typeof config.credsStore !== 'string') delete config.credsStore;
  return config;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const dockerHubHosts = ['index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** The key to store a registry under, as `docker login` writes it. */
export function configKey(registry: string): string {
  return registry === 'docker.io' ? dockerHubConfigKey : registry;
}

/** A config key reduced to its host, as docker compares them: `https://host:5000/v1/` → `host:5000`. */
function keyHost(key: string): string {
  return key
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

function keyMatches(key: string, registry: string): boolean {
  const host = keyHost(key);
  return registry === 'docker.io' ? dockerHubHosts.includes(host) : host === registry.toLowerCase();
}

/** Every key of a config record that names this registry: the exact key first, then by host. */
export function matchingKeys(record: Record<string, unknown> | undefined, registry: string): string[] {
  if (!record) return [];
  const exact = configKey(registry);
  const others = Object.keys(record).filter((key) => key !== exact && keyMatches(key, registry));
  return Object.hasOwn(record, exact) ? [exact, ...others] : others;
}

export function findEntry<T>(record: Record<string, T> | undefined, registry: string): T | undefined {
  const [key] = matchingKeys(record, registry);
  return key === undefined ? undefined : record?.[key];
}

/** The helper named in `credHelpers` for this registry, when it is a usable name. */
export function credHelperFor(config: DockerConfigData, registry: string): string | undefined {
  const name: unknown = findEntry(config.credHelpers, registry);
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** A credential from an `auths` entry: `auth` (base64 user:pass), `username`/`password`, or `identitytoken`. */
export function credentialFromEntry(
  entry: NonNullable<DockerConfigData['auths']>[string],
  registry: string,
  warn: (message: string) => void,
): Credential | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
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

/** Follows symbolic links, dangling ones too, to the file they finally name. */
async function linkTarget(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      link = await readlink(current);
    } catch {
      return current;
    }
    current = resolve(dirname(current), link);
  }
  throw new TugError(`too many levels of symbolic links at ${path}`, { code: 'CREDENTIAL_STORE' });
}

/**
 * Writes the config atomically with mode 0600: a temporary file beside the real one (a symlinked
 * config.json is followed, so the link survives), flushed, then renamed over it.
 */
export async function writeDockerConfig(path: string, data: DockerConfigData): Promise<void> {
  const target = await linkTarget(path);
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
