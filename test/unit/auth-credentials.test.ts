import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Keychain } from '../../src/auth/credentials/keychain.js';
import { osKeychain } from '../../src/auth/credentials/keychain.js';
import { type CredentialOptions, createCredentialLookup } from '../../src/auth/credentials/lookup.js';
import { eraseCredential, storeCredential } from '../../src/auth/credentials/store.js';
import type { Credential } from '../../src/auth/types.js';
import { tempDir } from '../fixtures/temp.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** docker-credential-NAME answering one fixed credential, or "not found", and logging each call. */
function helperScript(answer: { Username: string; Secret: string } | undefined): string {
  return `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  fs.appendFileSync(path.join(__dirname, path.basename(__filename) + '.log'), process.argv[2] + ' ' + input + '\\n');
  const answer = ${JSON.stringify(answer ?? null)};
  if (process.argv[2] === 'get' && answer) return process.stdout.write(JSON.stringify(answer));
  if (process.argv[2] === 'get' || process.argv[2] === 'erase') {
    process.stdout.write('credentials not found in native keychain');
    process.exit(1);
  }
});
`;
}

let helpers: string;
let basePath: string;

beforeAll(async () => {
  helpers = await tempDir('tug-cred-helpers-');
  const install = async (name: string, answer?: { Username: string; Secret: string }) => {
    const path = join(helpers, `docker-credential-${name}`);
    await writeFile(path, helperScript(answer));
    await chmod(path, 0o755);
  };
  await install('tugper', { Username: 'per-host', Secret: 'from-cred-helpers' });
  await install('tugstore', { Username: 'store', Secret: 'from-creds-store' });
  await install('tugempty');
  basePath = `${helpers}${delimiter}${process.env.PATH ?? ''}`;
});

function fakeKeychain(entries: Record<string, Credential> = {}, reachable = true) {
  const calls: string[] = [];
  const keychain: Keychain = {
    async get(registry) {
      calls.push(`get ${registry}`);
      return entries[registry];
    },
    async set(registry, credential) {
      calls.push(`set ${registry}`);
      entries[registry] = credential;
    },
    async delete(registry) {
      calls.push(`delete ${registry}`);
      const had = registry in entries;
      delete entries[registry];
      return had;
    },
    async available() {
      return reachable;
    },
  };
  return { keychain, calls, entries };
}

async function setup(config: unknown, extra: Partial<CredentialOptions> = {}) {
  const home = await tempDir('tug-home-');
  const path = join(home, '.docker', 'config.json');
  if (config !== undefined) {
    await mkdir(join(home, '.docker'));
    await writeFile(path, JSON.stringify(config));
  }
  const warnings: string[] = [];
  const options: CredentialOptions = {
    env: { HOME: home, PATH: basePath },
    warn: (message) => warnings.push(message),
    keychain: false,
    ...extra,
  };
  return { home, path, warnings, options };
}

const host = 'registry.example.com';

describe('credential lookup order', () => {
  it('uses the command-line flags for every registry before anything else', async () => {
    const { options } = await setup(
      { credHelpers: { [host]: 'tugper' } },
      { flags: { username: 'f', password: 'p' } },
    );
    const lookup = createCredentialLookup(options);
    expect(await lookup(host)).toEqual({ username: 'f', password: 'p' });
    expect(await lookup('other.example.com')).toEqual({ username: 'f', password: 'p' });
  });

  it('asks credHelpers[host] before credsStore and auths', async () => {
    const { options } = await setup({
      credHelpers: { [host]: 'tugper' },
      credsStore: 'tugstore',
      auths: { [host]: { auth: b64('file:user') } },
    });
    expect(await createCredentialLookup(options)(host)).toEqual({
      username: 'per-host',
      password: 'from-cred-helpers',
    });
  });

  it('asks credsStore when no per-host helper is configured', async () => {
    const { options } = await setup({
      credsStore: 'tugstore',
      auths: { [host]: { auth: b64('file:user') } },
    });
    expect(await createCredentialLookup(options)(host)).toEqual({
      username: 'store',
      password: 'from-creds-store',
    });
  });

  it('reads auths[host] when the helpers have nothing, without a warning', async () => {
    const { options, warnings } = await setup({
      credHelpers: { [host]: 'tugempty' },
      credsStore: 'tugempty',
      auths: { [`https://${host}`]: { auth: b64('file:pass') } },
    });
    expect(await createCredentialLookup(options)(host)).toEqual({ username: 'file', password: 'pass' });
    expect(warnings).toEqual([]);
  });

  it('warns in one line about a missing credsStore helper and tries the next source', async () => {
    const { options, warnings } = await setup({
      credsStore: 'tugdesktop-missing',
      auths: { [host]: { auth: b64('file:pass') } },
    });
    expect(await createCredentialLookup(options)(host)).toEqual({ username: 'file', password: 'pass' });
    expect(warnings).toEqual([
      'credential helper docker-credential-tugdesktop-missing not found; trying the next source',
    ]);
  });

  it('falls back to the keychain, then to anonymous', async () => {
    const { keychain } = fakeKeychain({ [host]: { username: 'k', password: 'kp' } });
    const { options } = await setup(undefined, { keychain });
    const lookup = createCredentialLookup(options);
    expect(await lookup(host)).toEqual({ username: 'k', password: 'kp' });
    expect(await lookup('anonymous.example.com')).toBeUndefined();
  });

  it('is anonymous without a warning when DOCKER_CONFIG names a directory that does not exist', async () => {
    const { options, warnings } = await setup(undefined);
    const lookup = createCredentialLookup({
      ...options,
      env: { DOCKER_CONFIG: join(options.env?.HOME ?? '', 'nope') },
    });
    expect(await lookup(host)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('reads Docker Hub credentials stored under https://index.docker.io/v1/', async () => {
    const { options } = await setup({
      auths: { 'https://index.docker.io/v1/': { identitytoken: 'hub-refresh' } },
    });
    expect(await createCredentialLookup(options)('docker.io')).toEqual({ identityToken: 'hub-refresh' });
  });

  it('looks each registry up once per process', async () => {
    const { keychain, calls } = fakeKeychain();
    const once = 'once.example.com';
    const { options } = await setup({ credHelpers: { [once]: 'tugper' } }, { keychain });
    const lookup = createCredentialLookup(options);
    await Promise.all([lookup(once), lookup(once), lookup('other.example.com'), lookup('other.example.com')]);
    const log = await readFile(join(helpers, 'docker-credential-tugper.log'), 'utf8');
    expect(log.split('\n').filter((line) => line === `get ${once}`)).toHaveLength(1);
    expect(calls).toEqual(['get other.example.com']);
  });

  it('finds no OS keychain on Linux (where tests run) without a D-Bus session, at once', async () => {
    const keychain = osKeychain({});
    const started = Date.now();
    expect(await keychain.available()).toBe(false);
    expect(await keychain.get(host)).toBe(undefined);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("the containers tools' auth files", () => {
  /** A podman-style auth.json under `${XDG_RUNTIME_DIR}/containers/` and a REGISTRY_AUTH_FILE. */
  async function containersFiles(
    runtime: Record<string, unknown>,
    registryAuthFile: Record<string, unknown>,
  ) {
    const directory = await tempDir('tug-containers-auth-');
    await mkdir(join(directory, 'containers'));
    await writeFile(join(directory, 'containers', 'auth.json'), JSON.stringify(runtime));
    await writeFile(join(directory, 'auth-file.json'), JSON.stringify(registryAuthFile));
    return { XDG_RUNTIME_DIR: directory, REGISTRY_AUTH_FILE: join(directory, 'auth-file.json') };
  }

  it("reads docker's config first, then REGISTRY_AUTH_FILE, then podman's auth.json, then the keychain", async () => {
    const files = await containersFiles(
      {
        auths: {
          'runtime.example.com': { auth: b64('podman:from-runtime') },
          'both.example.com': { auth: b64('podman:loses') },
          'docker.example.com': { auth: b64('podman:loses-too') },
        },
      },
      {
        auths: {
          'both.example.com': { auth: b64('file:from-registry-auth-file') },
          'quay.example.com/team/app': { auth: b64('scoped:by-repository-key') },
        },
      },
    );
    const keychain = fakeKeychain({ 'keychain.example.com': { username: 'k', password: 'from-keychain' } });
    const { options } = await setup({ auths: { 'docker.example.com': { auth: b64('docker:from-docker') } } });
    const lookup = createCredentialLookup({
      ...options,
      env: { ...options.env, ...files },
      keychain: keychain.keychain,
    });
    expect(await lookup('docker.example.com')).toEqual({ username: 'docker', password: 'from-docker' });
    expect(await lookup('both.example.com')).toEqual({
      username: 'file',
      password: 'from-registry-auth-file',
    });
    expect(await lookup('runtime.example.com')).toEqual({ username: 'podman', password: 'from-runtime' });
    expect(await lookup('quay.example.com')).toEqual({ username: 'scoped', password: 'by-repository-key' });
    expect(await lookup('keychain.example.com')).toEqual({ username: 'k', password: 'from-keychain' });
    expect(await lookup('nowhere.example.com')).toBeUndefined();
  });

  it('passes over a missing REGISTRY_AUTH_FILE quietly, and warns about a malformed one', async () => {
    const { options, warnings } = await setup(undefined);
    const missing = createCredentialLookup({
      ...options,
      env: { ...options.env, REGISTRY_AUTH_FILE: join(await tempDir(), 'absent.json') },
    });
    expect(await missing(host)).toBeUndefined();
    expect(warnings).toEqual([]);
    const broken = join(await tempDir(), 'broken.json');
    await writeFile(broken, '{"auths": ');
    const malformed = createCredentialLookup({
      ...options,
      env: { ...options.env, REGISTRY_AUTH_FILE: broken },
    });
    expect(await malformed(host)).toBeUndefined();
    expect(warnings.join('\n')).toContain(broken);
  });
});

describe('storing credentials at login', () => {
  it('stores through the helper configured for the host and leaves the file alone', async () => {
    const { options, path } = await setup({ credHelpers: { [host]: 'tugper' } });
    const before = await readFile(path, 'utf8');
    const stored = await storeCredential(host, { username: 'u', password: 'p' }, options);
    expect(stored).toEqual({ kind: 'helper', location: 'docker-credential-tugper' });
    expect(await readFile(path, 'utf8')).toBe(before);
    const log = await readFile(join(helpers, 'docker-credential-tugper.log'), 'utf8');
    expect(log).toContain(`store ${JSON.stringify({ ServerURL: host, Username: 'u', Secret: 'p' })}`);
  });

  it('stores in the keychain when one is reachable and no helper is configured', async () => {
    const { keychain, entries } = fakeKeychain();
    const { options } = await setup(undefined, { keychain });
    expect((await storeCredential(host, { username: 'u', password: 'p' }, options)).kind).toBe('keychain');
    expect(entries[host]).toEqual({ username: 'u', password: 'p' });
  });

  it('writes auths[host].auth with mode 0600 and a warning, keeping every other key, when no keychain is reachable', async () => {
    const { keychain } = fakeKeychain({}, false);
    const original = {
      auths: { 'other.example.com': { auth: b64('o:p') }, [`https://${host}`]: { auth: b64('old:old') } },
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
      currentContext: 'remote',
      unknownKey: { nested: true },
    };
    const { options, path } = await setup(original, { keychain });
    const stored = await storeCredential(host, { username: 'u', password: 'p' }, options);
    expect(stored.kind).toBe('file');
    expect(stored.location).toBe(path);
    expect(stored.warning).toContain('unencrypted');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      ...original,
      auths: { 'other.example.com': { auth: b64('o:p') }, [host]: { auth: b64('u:p') } },
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('falls back to the file when the keychain fails to store', async () => {
    const { keychain } = fakeKeychain();
    keychain.set = async () => {
      throw new Error('locked');
    };
    const { options } = await setup(undefined, { keychain });
    expect((await storeCredential(host, { username: 'u', password: 'p' }, options)).kind).toBe('file');
  });

  it('stores an identity token in the file so that the lookup reads it back as one', async () => {
    const { options } = await setup(undefined);
    await storeCredential('docker.io', { username: 'u', identityToken: 'refresh' }, options);
    expect(await createCredentialLookup(options)('docker.io')).toEqual({ identityToken: 'refresh' });
  });
});

describe('erasing credentials at logout', () => {
  it('removes the entry from the file under any matching key and keeps the rest', async () => {
    const { options, path } = await setup({
      auths: {
        [host]: { auth: b64('a:b') },
        [`https://${host}/`]: { auth: b64('c:d') },
        'keep.example.com': {},
      },
      credHelpers: { 'gcr.io': 'gcloud' },
    });
    expect(await eraseCredential(host, options)).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      auths: { 'keep.example.com': {} },
      credHelpers: { 'gcr.io': 'gcloud' },
    });
  });

  it('removes the keychain entry', async () => {
    const { keychain, entries } = fakeKeychain({ [host]: { username: 'u', password: 'p' } });
    const { options } = await setup(undefined, { keychain });
    expect(await eraseCredential(host, options)).toBe(true);
    expect(entries).toEqual({});
  });

  it('asks the configured helper to erase', async () => {
    const { options } = await setup({ credHelpers: { 'erase.example.com': 'tugempty' } });
    expect(await eraseCredential('erase.example.com', options)).toBe(false);
    const log = await readFile(join(helpers, 'docker-credential-tugempty.log'), 'utf8');
    expect(log).toContain('erase erase.example.com');
  });

  it('answers false when nothing was stored anywhere', async () => {
    const { keychain } = fakeKeychain();
    const { options } = await setup(undefined, { keychain });
    expect(await eraseCredential(host, options)).toBe(false);
  });
});
