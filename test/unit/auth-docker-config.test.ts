import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialFromEntry,
  type DockerConfigData,
  dockerConfigPath,
  findEntry,
  loadDockerConfig,
  writeDockerConfig,
} from '../../src/auth/credentials/docker-config.js';
import { tempDir } from '../fixtures/temp.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function collector() {
  const warnings: string[] = [];
  return { warnings, warn: (message: string) => warnings.push(message) };
}

describe('where the docker config is', () => {
  it('uses --registry-config first', () => {
    expect(dockerConfigPath({ configPath: '/x/c.json', env: { DOCKER_CONFIG: '/d', HOME: '/h' } })).toBe(
      '/x/c.json',
    );
  });

  it('uses $DOCKER_CONFIG/config.json next', () => {
    expect(dockerConfigPath({ env: { DOCKER_CONFIG: '/d', HOME: '/h' } })).toBe(join('/d', 'config.json'));
  });

  it('falls back to ~/.docker/config.json with HOME from the environment', () => {
    expect(dockerConfigPath({ env: { HOME: '/h' } })).toBe(join('/h', '.docker', 'config.json'));
  });
});

describe('loading the docker config', () => {
  it('treats a missing file as empty, without a warning', async () => {
    const { warnings, warn } = collector();
    expect(await loadDockerConfig(join(await tempDir(), 'missing', 'config.json'), warn)).toEqual({});
    expect(warnings).toEqual([]);
  });

  it('treats malformed JSON as empty with a warning naming the file', async () => {
    const path = join(await tempDir(), 'config.json');
    await writeFile(path, '{"auths": {');
    const { warnings, warn } = collector();
    expect(await loadDockerConfig(path, warn)).toEqual({});
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
  });

  it('drops an "auths" that is not an object, with a warning, and keeps the rest', async () => {
    const path = join(await tempDir(), 'config.json');
    await writeFile(path, JSON.stringify({ auths: 'nope', credsStore: 'x' }));
    const { warnings, warn } = collector();
    expect(await loadDockerConfig(path, warn)).toEqual({ credsStore: 'x' });
    expect(warnings[0]).toContain('auths');
  });
});

describe('auths entries', () => {
  it('decodes "auth" as base64 of user:password, keeping colons in the password', () => {
    const { warn } = collector();
    expect(credentialFromEntry({ auth: b64('user:pa:ss') }, 'r', warn)).toEqual({
      username: 'user',
      password: 'pa:ss',
    });
  });

  it.each([
    ['not base64', '%%% not base64 %%%'],
    ['without a colon', b64('useronly')],
    ['with an empty user name', b64(':password')],
  ])('skips an "auth" %s with a warning that never shows the value', (_name, auth) => {
    const { warnings, warn } = collector();
    expect(credentialFromEntry({ auth }, 'registry.example.com', warn)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('registry.example.com');
    expect(warnings[0]).not.toContain(auth);
  });

  it('reads an identitytoken, which wins over "auth"', () => {
    const { warn } = collector();
    expect(credentialFromEntry({ auth: b64('user:'), identitytoken: 'refresh' }, 'r', warn)).toEqual({
      identityToken: 'refresh',
    });
  });

  it('reads separate username and password fields', () => {
    const { warn } = collector();
    expect(credentialFromEntry({ username: 'u', password: 'p' }, 'r', warn)).toEqual({
      username: 'u',
      password: 'p',
    });
  });
});

describe('matching config keys to a registry, as docker does', () => {
  const entry = (key: string) => ({ [key]: { auth: 'match' }, 'other.example.com': { auth: 'other' } });

  it.each([
    ['host:port exactly', 'registry.example.com:5000', 'registry.example.com:5000'],
    ['an https:// key', 'https://registry.example.com:5000', 'registry.example.com:5000'],
    ['an http:// key', 'http://registry.example.com', 'registry.example.com'],
    ['a key with a path', 'https://registry.example.com/v2/', 'registry.example.com'],
    ['a key in another case', 'Registry.Example.com', 'registry.example.com'],
    ["Docker Hub's https://index.docker.io/v1/", 'https://index.docker.io/v1/', 'docker.io'],
    ['Docker Hub by its API host', 'registry-1.docker.io', 'docker.io'],
  ])('finds %s', (_name, key, registry) => {
    expect(findEntry(entry(key), registry)).toEqual({ auth: 'match' });
  });

  it.each([
    ['another port', 'registry.example.com:50001', 'registry.example.com:5000'],
    ['no port for a registry with one', 'registry.example.com', 'registry.example.com:5000'],
    ['the registry name in a path', 'https://evil.example.com/registry.example.com', 'registry.example.com'],
    ['a longer host name', 'registry.example.com.evil.net', 'registry.example.com'],
  ])('does not match %s', (_name, key, registry) => {
    expect(findEntry(entry(key), registry)).toBeUndefined();
  });

  it('prefers the exact key to a key that only matches by host', () => {
    const auths = {
      'https://registry.example.com': { auth: 'loose' },
      'registry.example.com': { auth: 'exact' },
    };
    expect(findEntry(auths, 'registry.example.com')).toEqual({ auth: 'exact' });
  });
});

describe('writing the docker config', () => {
  const config: DockerConfigData = {
    auths: { 'registry.example.com': { auth: b64('u:p') } },
    credHelpers: { 'gcr.io': 'gcloud' },
    proxies: { default: { httpProxy: 'http://proxy:3128' } },
    currentContext: 'remote',
    somethingNew: [1, 2, 3],
  };

  it('writes every key, known or not, with mode 0600 and no temporary file left behind', async () => {
    const directory = await tempDir();
    const path = join(directory, 'config.json');
    await writeFile(path, '{}', { mode: 0o644 });
    await writeDockerConfig(path, config);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(directory)).toEqual(['config.json']);
  });

  it('creates a missing directory with mode 0700', async () => {
    const path = join(await tempDir(), 'new', 'config.json');
    await writeDockerConfig(path, config);
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(config);
  });

  it('replaces the target of a symlinked config.json and keeps the link', async () => {
    const directory = await tempDir();
    await mkdir(join(directory, 'dotfiles'));
    const target = join(directory, 'dotfiles', 'docker.json');
    await writeFile(target, '{"old": true}');
    const link = join(directory, 'config.json');
    await symlink(join('dotfiles', 'docker.json'), link);
    await writeDockerConfig(link, config);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(join('dotfiles', 'docker.json'));
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual(config);
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it('creates the file a dangling symlink points to, keeping the link', async () => {
    const directory = await tempDir();
    const link = join(directory, 'config.json');
    await symlink(join(directory, 'elsewhere.json'), link);
    await writeDockerConfig(link, config);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(join(directory, 'elsewhere.json'), 'utf8'))).toEqual(config);
  });
});
