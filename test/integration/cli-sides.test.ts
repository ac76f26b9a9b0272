import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';

const alice = { username: 'alice', password: 'alice-secret-on-source' };
const bob = { username: 'bob', password: 'bob-secret-on-destination' };

/** Real registries whose htpasswd knows one user each: a credential sent to the wrong one fails. */
let source: RegistryFixture;
let destination: RegistryFixture;
let image: BuiltImage;

/**
 * A hostile source: asks every request for Basic credentials and keeps every Authorization
 * header it is sent (what no real registry lets a test see).
 */
interface HostileSource {
  host: string;
  authorizations: string[];
  requests: number;
  stop(): Promise<void>;
}

async function startHostileSource(): Promise<HostileSource> {
  const authorizations: string[] = [];
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    if (request.headers.authorization) authorizations.push(request.headers.authorization);
    request.resume();
    response.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"', 'content-length': '0' });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    authorizations,
    get requests() {
      return requests;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const basic = (user: { username: string; password: string }) =>
  `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;

beforeAll(async () => {
  [source, destination] = await Promise.all([
    startRegistry({ auth: 'htpasswd', tls: true, user: alice }),
    startRegistry({ auth: 'htpasswd', user: bob }),
  ]);
  image = await buildImageLayout({ layers: 2, tag: 'v1' });
  await Promise.all([
    seedRegistry(source, 'app', image, 'v1'),
    seedRegistry(destination, 'seeded', image, 'v1'),
  ]);
});

afterAll(async () => {
  await Promise.all([source?.stop(), destination?.stop()]);
});

describe('a copy between two registries gives each side its own credential and TLS settings', () => {
  it('copies with --from-username/--from-password-stdin/--from-ca-file and --to-username/--to-password', async () => {
    const result = await runTug(
      [
        'cp',
        '--from-username',
        alice.username,
        '--from-password-stdin',
        '--from-ca-file',
        source.caFile ?? '',
        '--to-username',
        bob.username,
        '--to-password',
        bob.password,
        `${source.host}/app:v1`,
        `${destination.host}/mirror:v1`,
      ],
      { input: `${alice.password}\n` },
    );
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(image.rootDigest);
    const check = await runTug([
      'digest',
      '-u',
      bob.username,
      '-p',
      bob.password,
      `${destination.host}/mirror:v1`,
    ]);
    expect(check.stdout.trim()).toBe(image.rootDigest);
  });

  it('builds an index on one registry from a source on another, each with its own user', async () => {
    const result = await runTug([
      'index',
      'create',
      '--from-username',
      alice.username,
      '--from-password',
      alice.password,
      '--from-ca-file',
      source.caFile ?? '',
      '--to-username',
      bob.username,
      '--to-password',
      bob.password,
      `${destination.host}/indexed:v1`,
      `${source.host}/app:v1`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('keeps the source CA to the source: the destination is not given it and needs none', async () => {
    const result = await runTug([
      'cp',
      '--from-username',
      alice.username,
      '--from-password',
      alice.password,
      '--to-username',
      bob.username,
      '--to-password',
      bob.password,
      `${source.host}/app:v1`,
      `${destination.host}/mirror:v2`,
    ]);
    // Without --from-ca-file the TLS source is untrusted: the settings of one side are not the other's.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--ca-file');
  });

  it.each([[['-u', bob.username, '-p', bob.password]], [['-u', bob.username, '--password-stdin']]])(
    'refuses %j for two registries with exit 2, naming the --from-/--to- flags',
    async (flags) => {
      const result = await runTug(
        ['cp', ...flags, `${source.host}/app:v1`, `${destination.host}/mirror:v3`],
        {
          input: `${bob.password}\n`,
        },
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--from-username');
      expect(result.stderr).toContain('--to-username');
      expect(result.stderr).not.toContain(bob.password);
    },
  );

  it('refuses -u/-p for an index whose sources are on another registry', async () => {
    const result = await runTug([
      'index',
      'create',
      '-u',
      bob.username,
      '-p',
      bob.password,
      `${destination.host}/indexed:v2`,
      `${source.host}/app:v1`,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--from-username');
  });

  it('refuses both sides reading their password from standard input', async () => {
    const result = await runTug(
      [
        'cp',
        '--from-username',
        alice.username,
        '--from-password-stdin',
        '--to-username',
        bob.username,
        '--to-password-stdin',
        `${source.host}/app:v1`,
        `${destination.host}/mirror:v4`,
      ],
      { input: 'secret\n' },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('standard input');
  });

  it('uses -u/--password-stdin for both sides when both are one registry, reading stdin once', async () => {
    const result = await runTug(
      [
        'cp',
        '-u',
        bob.username,
        '--password-stdin',
        '--plain-http',
        `${destination.host}/seeded:v1`,
        // The same registry spelled another way.
        `${destination.host.replace('127.0.0.1', '127.1')}/copy:v1`,
      ],
      { input: `${bob.password}\n` },
    );
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });
});

describe('a hostile source never receives the destination credential', () => {
  let hostile: HostileSource;

  beforeAll(async () => {
    hostile = await startHostileSource();
  });

  afterAll(async () => {
    await hostile?.stop();
  });

  it('refuses -u/-p before sending anything to either registry', async () => {
    const before = hostile.requests;
    const result = await runTug([
      '-u',
      bob.username,
      '-p',
      bob.password,
      'cp',
      `${hostile.host}/app:1`,
      `${destination.host}/mirror:hostile`,
    ]);
    expect(result.code).toBe(2);
    expect(hostile.requests).toBe(before);
  });

  it('sends the source only its own credential, never the --to- one', async () => {
    const before = hostile.requests;
    const result = await runTug([
      'cp',
      '--from-plain-http',
      '--to-username',
      bob.username,
      '--to-password',
      bob.password,
      `${hostile.host}/app:1`,
      `${destination.host}/mirror:hostile`,
    ]);
    expect(result.code).toBe(3);
    expect(hostile.requests).toBeGreaterThan(before);
    expect(hostile.authorizations).not.toContain(basic(bob));
    expect(hostile.authorizations.join('\n')).not.toContain(bob.password);
  });

  it('sends the source the --from- credential it was given, and only that', async () => {
    const decoy = { username: 'decoy', password: 'decoy-for-the-hostile-source' };
    const seen = hostile.authorizations.length;
    const result = await runTug([
      'cp',
      '--from-username',
      decoy.username,
      '--from-password',
      decoy.password,
      '--to-username',
      bob.username,
      '--to-password',
      bob.password,
      `${hostile.host}/app:2`,
      `${destination.host}/mirror:hostile`,
    ]);
    expect(result.code).toBe(3);
    const sent = hostile.authorizations.slice(seen);
    expect(sent).toContain(basic(decoy));
    expect(sent.filter((value) => value !== basic(decoy))).toEqual([]);
  });
});
