import { chmod, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { parseChallenges } from '../../src/auth/challenge.js';
import { type CredentialOptions, createCredentialLookup } from '../../src/auth/credentials/lookup.js';
import { eraseCredential, storeCredential } from '../../src/auth/credentials/store.js';
import { fetchToken } from '../../src/auth/token.js';
import { AuthError } from '../../src/errors.js';
import { createTransport, discardBody, type Transport } from '../../src/transport/index.js';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

let transport: Transport;
let tokenRegistry: RegistryFixture;
let basicRegistry: RegistryFixture;
let helperDir: string;

/** docker-credential-tugint: answers `get` for one server from a file written by the test. */
const helper = `#!/usr/bin/env node
const fs = require('node:fs');
const entries = JSON.parse(fs.readFileSync(require('node:path').join(__dirname, 'entries.json'), 'utf8'));
const server = fs.readFileSync(0, 'utf8').trim();
if (process.argv[2] !== 'get' || !entries[server]) {
  process.stdout.write('credentials not found in native keychain');
  process.exit(1);
}
process.stdout.write(JSON.stringify({ ServerURL: server, ...entries[server] }));
`;

beforeAll(async () => {
  transport = createTransport({ retry: { attempts: 1 } });
  [tokenRegistry, basicRegistry] = await Promise.all([
    startRegistry({ auth: 'token' }),
    startRegistry({ auth: 'htpasswd' }),
  ]);
  const image = await buildImageLayout({ layers: 1, layerSize: 512, tag: 'v1' });
  await Promise.all([
    seedRegistry(tokenRegistry, 'private/app', image, 'v1'),
    seedRegistry(tokenRegistry, 'public/app', image, 'v1'),
    seedRegistry(basicRegistry, 'team/app', image, 'v1'),
  ]);
  helperDir = await tempDir('tug-int-helper-');
  await writeFile(join(helperDir, 'docker-credential-tugint'), helper);
  await chmod(join(helperDir, 'docker-credential-tugint'), 0o755);
  await writeFile(
    join(helperDir, 'entries.json'),
    JSON.stringify({
      [basicRegistry.host]: { Username: basicRegistry.username, Secret: basicRegistry.password },
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([tokenRegistry?.stop(), basicRegistry?.stop(), transport?.close()]);
});

/** A DOCKER_CONFIG directory holding `config` (written as given when it is a string). */
async function dockerConfig(config: unknown): Promise<{ options: CredentialOptions; warnings: string[] }> {
  const directory = await tempDir('tug-int-docker-');
  await writeFile(
    join(directory, 'config.json'),
    typeof config === 'string' ? config : JSON.stringify(config),
  );
  const warnings: string[] = [];
  return {
    warnings,
    options: {
      env: { DOCKER_CONFIG: directory, PATH: `${helperDir}${delimiter}${process.env.PATH ?? ''}` },
      warn: (message) => warnings.push(message),
      keychain: false,
    },
  };
}

async function readManifest(registry: RegistryFixture, repository: string, options: CredentialOptions) {
  const authenticator = createAuthenticator({
    registry: registry.host,
    origin: new URL(registry.baseUrl).origin,
    send: transport.send,
    credentials: createCredentialLookup(options),
  });
  const response = await authenticator.send({
    method: 'GET',
    url: new URL(`/v2/${repository}/manifests/v1`, registry.baseUrl),
    headers: { accept },
    scopes: [`repository:${repository}:pull`],
  });
  discardBody(response);
  return response.status;
}

const basicAuth = (registry: RegistryFixture) =>
  Buffer.from(`${registry.username}:${registry.password}`).toString('base64');

describe('credential sources against the real registry', () => {
  it('reads a private repository with the auths entry of the docker config', async () => {
    const { options } = await dockerConfig({
      auths: { [tokenRegistry.host]: { auth: basicAuth(tokenRegistry) } },
    });
    expect(await readManifest(tokenRegistry, 'private/app', options)).toBe(200);
  });

  it('reads through the credHelpers helper for the host', async () => {
    const { options, warnings } = await dockerConfig({ credHelpers: { [basicRegistry.host]: 'tugint' } });
    expect(await readManifest(basicRegistry, 'team/app', options)).toBe(200);
    expect(warnings).toEqual([]);
  });

  it('warns about a missing credsStore helper and still uses the auths entry', async () => {
    const { options, warnings } = await dockerConfig({
      credsStore: 'tug-absent',
      auths: { [`http://${basicRegistry.host}`]: { auth: basicAuth(basicRegistry) } },
    });
    expect(await readManifest(basicRegistry, 'team/app', options)).toBe(200);
    expect(warnings).toEqual([
      'credential helper docker-credential-tug-absent not found; trying the next source',
    ]);
  });

  it('treats a malformed config as empty: public reads work, private ones ask for a login', async () => {
    const { options, warnings } = await dockerConfig('{"auths": ');
    expect(await readManifest(tokenRegistry, 'public/app', options)).toBe(200);
    await expect(readManifest(tokenRegistry, 'private/app', options)).rejects.toBeInstanceOf(AuthError);
    expect(warnings.some((warning) => warning.includes('config.json'))).toBe(true);
  });

  it('reads with an identitytoken from the docker config by the refresh_token grant', async () => {
    const origin = new URL(tokenRegistry.baseUrl).origin;
    const probe = await transport.send({ method: 'GET', url: new URL('/v2/', origin) });
    discardBody(probe);
    const [challenge] = parseChallenges(probe.headers['www-authenticate'] ?? '');
    if (challenge?.scheme !== 'bearer') throw new Error('the token registry offered no Bearer challenge');
    const { refreshToken } = await fetchToken({
      send: transport.send,
      registry: tokenRegistry.host,
      registryOrigin: origin,
      challenge,
      scopes: [],
      credential: { username: tokenRegistry.username, password: tokenRegistry.password },
      now: Date.now(),
      offline: true,
    });
    const { options } = await dockerConfig({
      auths: { [tokenRegistry.host]: { identitytoken: refreshToken } },
    });
    expect(await readManifest(tokenRegistry, 'private/app', options)).toBe(200);
    expect(tokenRegistry.issuer?.requests.at(-1)?.form?.grant_type).toBe('refresh_token');
  });

  it('stores a credential in the config file at login, reads with it, and reads anonymously after erasing it', async () => {
    const { options } = await dockerConfig({ currentContext: 'default' });
    const credential = { username: basicRegistry.username, password: basicRegistry.password };
    const stored = await storeCredential(basicRegistry.host, credential, options);
    expect(stored.kind).toBe('file');
    expect(await readManifest(basicRegistry, 'team/app', options)).toBe(200);
    expect(await eraseCredential(basicRegistry.host, options)).toBe(true);
    await expect(readManifest(basicRegistry, 'team/app', options)).rejects.toThrow(
      `${basicRegistry.host} requires authentication`,
    );
  });
});
