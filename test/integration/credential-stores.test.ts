import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

const run = promisify(execFile);
const tug = resolve(import.meta.dirname, '../../bin/tug');

let registry: RegistryFixture;
let image: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry({ auth: 'htpasswd' });
  image = await buildImageLayout({ tag: 'v1' });
  await seedRegistry(registry, 'private/app', image);
});

afterAll(async () => {
  await registry?.stop();
});

/**
 * Runs a shell script inside its own D-Bus session with a real gnome-keyring Secret Service,
 * unlocked for the script and stopped (by its pid) at the end.
 */
async function inKeyringSession(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  const wrapped = `
set -eu
gnome-keyring-daemon --foreground --components=secrets --unlock <<< "keyring-password" > /dev/null 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
sleep 0.5
${script}
`;
  const { stdout } = await run('dbus-run-session', ['--', 'bash', '-c', wrapped], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return stdout;
}

describe('the OS keychain, for real', () => {
  it('stores a login in the Secret Service, reads it back, and removes it on logout', async () => {
    const home = await tempDir();
    const config = join(home, 'docker');
    const env = {
      HOME: home,
      DOCKER_CONFIG: config,
      NO_COLOR: '1',
      TUG: tug,
      HOST: registry.host,
      USER_NAME: registry.username,
      PASSWORD: registry.password,
    };
    const output = await inKeyringSession(
      `
node "$TUG" login "$HOST" -u "$USER_NAME" --password-stdin <<< "$PASSWORD" 2>&1
echo "digest: $(node "$TUG" digest "$HOST/private/app:v1")"
node "$TUG" logout "$HOST" 2>&1
node "$TUG" digest "$HOST/private/app:v1" > /dev/null 2>&1 && echo "after logout: readable" || echo "after logout: refused $?"
`,
      env,
    );
    expect(output).toContain('stored in the OS keychain');
    expect(output).toContain(`digest: ${image.rootDigest}`);
    expect(output).toContain(`Removed credentials for ${registry.host}`);
    expect(output).toContain('after logout: refused 3');
    expect(output).not.toContain(registry.password);
    const written = await readFile(join(config, 'config.json'), 'utf8').catch(() => '');
    expect(written).not.toContain('auths');
  });
});

describe('docker-credential-pass, for real', () => {
  it('logs in through the configured credsStore, reads through it, and erases on logout', async () => {
    const home = await tempDir();
    const gnupg = join(home, 'gnupg');
    const store = join(home, 'password-store');
    const config = join(home, 'docker');
    const env = {
      ...process.env,
      HOME: home,
      GNUPGHOME: gnupg,
      PASSWORD_STORE_DIR: store,
      DOCKER_CONFIG: config,
      NO_COLOR: '1',
    };
    await run('mkdir', ['-p', gnupg, config]);
    await run('chmod', ['700', gnupg]);
    await run(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        'tug test <tug@example.invalid>',
        'default',
        'default',
        'never',
      ],
      { env },
    );
    await run('pass', ['init', 'tug@example.invalid'], { env });
    await writeFile(join(config, 'config.json'), JSON.stringify({ credsStore: 'pass' }));
    try {
      const login = await run(
        'node',
        [tug, 'login', registry.host, '-u', registry.username, '-p', registry.password],
        { env },
      );
      expect(login.stderr).toContain('docker-credential-pass');
      const listed = await run('pass', ['ls'], { env });
      expect(listed.stdout).toContain('docker-credential-helpers');
      const digest = await run('node', [tug, 'digest', `${registry.host}/private/app:v1`], { env });
      expect(digest.stdout.trim()).toBe(image.rootDigest);
      expect(await readFile(join(config, 'config.json'), 'utf8')).not.toContain('auths');
      await run('node', [tug, 'logout', registry.host], { env });
      await expect(
        run('node', [tug, 'digest', `${registry.host}/private/app:v1`], { env }),
      ).rejects.toMatchObject({ code: 3 });
    } finally {
      await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
    }
  });
});
