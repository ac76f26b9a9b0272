import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let tokenRegistry: RegistryFixture;
let basicRegistry: RegistryFixture;
let image: BuiltImage;

/** A real docker-credential-helpers executable that keeps its secrets in a JSON file beside it. */
async function installCredentialHelper(directory: string, name: string): Promise<string> {
  const store = join(directory, `${name}.json`);
  const script = `#!/usr/bin/env node
const fs = require('node:fs');
const store = ${JSON.stringify(store)};
const load = () => (fs.existsSync(store) ? JSON.parse(fs.readFileSync(store, 'utf8')) : {});
const input = fs.readFileSync(0, 'utf8').trim();
const action = process.argv[2];
const entries = load();
if (action === 'get') {
  const entry = entries[input];
  if (!entry) { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input, Username: entry.Username, Secret: entry.Secret }));
} else if (action === 'store') {
  const entry = JSON.parse(input);
  entries[entry.ServerURL] = entry;
  fs.writeFileSync(store, JSON.stringify(entries));
} else if (action === 'erase') {
  delete entries[input];
  fs.writeFileSync(store, JSON.stringify(entries));
} else if (action === 'list') {
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.Username]))));
}
`;
  const path = join(directory, `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return store;
}

beforeAll(async () => {
  [tokenRegistry, basicRegistry] = await Promise.all([
    startRegistry({ auth: 'token' }),
    startRegistry({ auth: 'htpasswd' }),
  ]);
  image = await buildImageLayout({ layers: 1, tag: 'v1' });
  await seedRegistry(tokenRegistry, 'public/hello', image, 'v1');
  await seedRegistry(tokenRegistry, 'private/hello', image, 'v1');
  await seedRegistry(basicRegistry, 'hello', image, 'v1');
});

afterAll(async () => {
  await Promise.all([tokenRegistry?.stop(), basicRegistry?.stop()]);
});

describe('token auth against a real registry and token issuer', () => {
  it('pulls anonymously from the public namespace', async () => {
    const result = await runTug(['digest', `${tokenRegistry.host}/public/hello:v1`]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });

  it('refuses an anonymous read of a private repository with exit 3 and names tug login', async () => {
    const result = await runTug(['digest', `${tokenRegistry.host}/private/hello:v1`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('tug login');
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('logs in, reads the private repository with the stored credential, and logs out', async () => {
    const dockerConfig = await tempDir();
    const env = { DOCKER_CONFIG: dockerConfig };
    const login = await runTug(
      ['login', tokenRegistry.host, '-u', tokenRegistry.username, '--password-stdin'],
      {
        env,
        input: `${tokenRegistry.password}\n`,
      },
    );
    expect(login.code).toBe(0);
    expect(login.stderr).toContain('Login succeeded');
    expect(login.stderr).toContain('unencrypted');
    expect(login.stdout + login.stderr).not.toContain(tokenRegistry.password);
    const configFile = join(dockerConfig, 'config.json');
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    // The token service hands out refresh tokens: the identity token is stored, never the password.
    const stored = JSON.parse(await readFile(configFile, 'utf8')) as {
      auths: Record<string, { identitytoken?: string; auth?: string }>;
    };
    expect(stored.auths[tokenRegistry.host]?.identitytoken).toMatch(/\w+/);
    expect(Buffer.from(stored.auths[tokenRegistry.host]?.auth ?? '', 'base64').toString()).not.toContain(
      tokenRegistry.password,
    );

    const before = tokenRegistry.issuer?.requests.length ?? 0;
    const read = await runTug(['digest', `${tokenRegistry.host}/private/hello:v1`], { env });
    expect(read.stdout.trim()).toBe(image.rootDigest);
    const grants = (tokenRegistry.issuer?.requests ?? [])
      .slice(before)
      .map((request) => request.form?.grant_type);
    expect(grants).toContain('refresh_token');

    const logout = await runTug(['logout', tokenRegistry.host], { env });
    expect(logout.code).toBe(0);
    const config = JSON.parse(await readFile(configFile, 'utf8')) as { auths?: Record<string, unknown> };
    expect(config.auths?.[tokenRegistry.host]).toBeUndefined();
    expect((await runTug(['digest', `${tokenRegistry.host}/private/hello:v1`], { env })).code).toBe(3);
  });

  it('logs in with --identity-token-stdin, stores it as identitytoken, and refuses a wrong one', async () => {
    const first = await tempDir();
    await runTug(['login', tokenRegistry.host, '-u', tokenRegistry.username, '--password-stdin'], {
      env: { DOCKER_CONFIG: first },
      input: `${tokenRegistry.password}\n`,
    });
    type Stored = { auths: Record<string, { identitytoken?: string; auth?: string }> };
    const token = (JSON.parse(await readFile(join(first, 'config.json'), 'utf8')) as Stored).auths[
      tokenRegistry.host
    ]?.identitytoken;
    expect(token).toMatch(/\w+/);

    const dockerConfig = await tempDir();
    const env = { DOCKER_CONFIG: dockerConfig };
    const login = await runTug(['login', tokenRegistry.host, '--identity-token-stdin'], {
      env,
      input: `${token}\n`,
    });
    expect(login.code).toBe(0);
    expect(login.stdout + login.stderr).not.toContain(token);
    const stored = (JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as Stored).auths[
      tokenRegistry.host
    ];
    expect(stored?.identitytoken).toBe(token);
    const read = await runTug(['digest', `${tokenRegistry.host}/private/hello:v1`], { env });
    expect(read.stdout.trim()).toBe(image.rootDigest);

    const elsewhere = await tempDir();
    const wrong = await runTug(['login', tokenRegistry.host, '--identity-token', 'not-a-token'], {
      env: { DOCKER_CONFIG: elsewhere },
    });
    expect(wrong.code).toBe(3);
    await expect(readFile(join(elsewhere, 'config.json'))).rejects.toThrow();
  });

  it('refuses a wrong password at login with exit 3 and one line, storing nothing', async () => {
    const dockerConfig = await tempDir();
    const result = await runTug(
      ['login', tokenRegistry.host, '-u', tokenRegistry.username, '-p', 'not-the-password'],
      {
        env: { DOCKER_CONFIG: dockerConfig },
      },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(result.stderr).not.toContain('not-the-password');
    await expect(stat(join(dockerConfig, 'config.json'))).rejects.toThrow();
  });

  it('uses a credential helper found on PATH, for reading and for login', async () => {
    const directory = await tempDir();
    const store = await installCredentialHelper(directory, 'tugtest');
    await writeFile(
      join(directory, 'config.json'),
      JSON.stringify({ credHelpers: { [tokenRegistry.host]: 'tugtest' } }),
    );
    const env = { DOCKER_CONFIG: directory, PATH: `${directory}:${process.env.PATH}` };

    const login = await runTug(
      ['login', tokenRegistry.host, '-u', tokenRegistry.username, '--password-stdin'],
      {
        env,
        input: tokenRegistry.password,
      },
    );
    expect(login.code).toBe(0);
    const stored = JSON.parse(await readFile(store, 'utf8')) as Record<
      string,
      { Username: string; Secret: string }
    >;
    // The helper keeps the registry's identity token (docker's `<token>` user), not the password.
    expect(Object.values(stored)[0]).toMatchObject({ Username: '<token>' });
    expect(Object.values(stored)[0]?.Secret).not.toBe(tokenRegistry.password);
    const config = JSON.parse(await readFile(join(directory, 'config.json'), 'utf8')) as { auths?: unknown };
    expect(config.auths).toBeUndefined();

    const read = await runTug(['digest', `${tokenRegistry.host}/private/hello:v1`], { env });
    expect(read.stdout.trim()).toBe(image.rootDigest);
  });

  it('warns about a missing credential helper and goes on anonymously', async () => {
    const directory = await tempDir();
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'config.json'), JSON.stringify({ credsStore: 'desktop-missing' }));
    const result = await runTug(['digest', `${tokenRegistry.host}/public/hello:v1`], {
      env: { DOCKER_CONFIG: directory },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('docker-credential-desktop-missing');
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });
});

describe('basic auth against a real htpasswd registry', () => {
  it('reads with -u and -p', async () => {
    const result = await runTug([
      'digest',
      '-u',
      basicRegistry.username,
      '-p',
      basicRegistry.password,
      `${basicRegistry.host}/hello:v1`,
    ]);
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });

  it('asks for a login without credentials (exit 3)', async () => {
    const result = await runTug(['tags', `${basicRegistry.host}/hello`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('tug login');
  });

  it('refuses a wrong password with exit 3', async () => {
    const result = await runTug([
      'digest',
      '-u',
      basicRegistry.username,
      '-p',
      'wrong',
      `${basicRegistry.host}/hello:v1`,
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).not.toContain('wrong');
  });
});
