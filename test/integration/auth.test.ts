import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { parseChallenges } from '../../src/auth/challenge.js';
import { fetchToken } from '../../src/auth/token.js';
import type { Credential } from '../../src/auth/types.js';
import { AuthError } from '../../src/errors.js';
import { createTransport, discardBody, type Transport } from '../../src/transport/index.js';
import type { HttpRequest, Send } from '../../src/transport/types.js';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';

const manifestTypes = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

let transport: Transport;
let tokenRegistry: RegistryFixture;
let basicRegistry: RegistryFixture;

beforeAll(async () => {
  transport = createTransport({ retry: { attempts: 1 } });
  [tokenRegistry, basicRegistry] = await Promise.all([
    startRegistry({ auth: 'token' }),
    startRegistry({ auth: 'htpasswd' }),
  ]);
  const image = await buildImageLayout({ layers: 1, layerSize: 1024, tag: 'v1' });
  await Promise.all([
    seedRegistry(tokenRegistry, 'public/x', image, 'v1'),
    seedRegistry(tokenRegistry, 'private/x', image, 'v1'),
    seedRegistry(basicRegistry, 'team/x', image, 'v1'),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([tokenRegistry?.stop(), basicRegistry?.stop(), transport?.close()]);
});

/** The transport's send, recording what went where and with which Authorization scheme. */
function recorded(send: Send) {
  const sent: Array<{ origin: string; path: string; authorization: string | undefined }> = [];
  const recorder: Send = (request) => {
    sent.push({
      origin: request.url.origin,
      path: request.url.pathname,
      authorization: request.headers?.authorization,
    });
    return send(request);
  };
  return { send: recorder, sent };
}

function connect(registry: RegistryFixture, credential: Credential | undefined) {
  const recorder = recorded(transport.send);
  const authenticator = createAuthenticator({
    registry: registry.host,
    origin: new URL(registry.baseUrl).origin,
    send: recorder.send,
    credentials: async () => credential,
  });
  return { authenticator, sent: recorder.sent };
}

function manifest(registry: RegistryFixture, repository: string): HttpRequest {
  return {
    method: 'GET',
    url: new URL(`/v2/${repository}/manifests/v1`, registry.baseUrl),
    headers: { accept: manifestTypes },
    scopes: [`repository:${repository}:pull`],
  };
}

async function status(send: Send, request: HttpRequest): Promise<number> {
  const response = await send(request);
  discardBody(response);
  return response.status;
}

const user = (registry: RegistryFixture): Credential => ({
  username: registry.username,
  password: registry.password,
});

describe('token auth against the real registry and token issuer', () => {
  it('pulls a public manifest anonymously', async () => {
    const { authenticator } = connect(tokenRegistry, undefined);
    expect(await status(authenticator.send, manifest(tokenRegistry, 'public/x'))).toBe(200);
  });

  it('refuses an anonymous read of another repository with an UNAUTHORIZED AuthError naming tug login', async () => {
    const { authenticator } = connect(tokenRegistry, undefined);
    const error = (await authenticator
      .send(manifest(tokenRegistry, 'private/x'))
      .catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toBe(`${tokenRegistry.host} requires authentication`);
    expect(error.hint).toContain(`tug login ${tokenRegistry.host}`);
  });

  it('reads a private manifest and starts a blob upload with the valid user', async () => {
    const { authenticator } = connect(tokenRegistry, user(tokenRegistry));
    expect(await status(authenticator.send, manifest(tokenRegistry, 'private/x'))).toBe(200);
    const upload = await authenticator.send({
      method: 'POST',
      url: new URL('/v2/private/x/blobs/uploads/', tokenRegistry.baseUrl),
      scopes: ['repository:private/x:pull,push'],
    });
    discardBody(upload);
    expect(upload.status).toBe(202);
    const location = upload.headers.location;
    expect(typeof location).toBe('string');
    const cancel = await authenticator.send({
      method: 'DELETE',
      url: new URL(String(location), tokenRegistry.baseUrl),
      scopes: ['repository:private/x:pull,push'],
    });
    discardBody(cancel);
  });

  it('reports a wrong password in one line, with at most two requests to the issuer', async () => {
    const issuer = tokenRegistry.issuer;
    expect(issuer).toBeDefined();
    const before = issuer?.requests.length ?? 0;
    const { authenticator } = connect(tokenRegistry, {
      username: tokenRegistry.username,
      password: 'wrong-password',
    });
    const error = (await authenticator
      .send(manifest(tokenRegistry, 'private/x'))
      .catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(
      new RegExp(`^authentication failed for ${tokenRegistry.host.replace(/\./g, '\\.')}`),
    );
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('wrong-password');
    expect((issuer?.requests.length ?? 0) - before).toBeLessThanOrEqual(2);
  });

  it('reuses a token: a second request for the same scope does not reach the issuer', async () => {
    const issuer = tokenRegistry.issuer;
    const { authenticator, sent } = connect(tokenRegistry, user(tokenRegistry));
    await status(authenticator.send, manifest(tokenRegistry, 'private/x'));
    const before = issuer?.requests.length ?? 0;
    const registryCalls = sent.length;
    expect(await status(authenticator.send, manifest(tokenRegistry, 'private/x'))).toBe(200);
    expect(issuer?.requests.length).toBe(before);
    // And no 401 round trip: the token went up front.
    expect(sent.length - registryCalls).toBe(1);
  });

  it('sends the Bearer token only to the registry and the Basic credential only to the issuer', async () => {
    const { authenticator, sent } = connect(tokenRegistry, user(tokenRegistry));
    await status(authenticator.send, manifest(tokenRegistry, 'private/x'));
    await status(authenticator.send, manifest(tokenRegistry, 'public/x'));
    const registryOrigin = new URL(tokenRegistry.baseUrl).origin;
    const issuerOrigin = new URL(tokenRegistry.issuer?.realm ?? '').origin;
    const toRegistry = sent.filter((request) => request.origin === registryOrigin);
    const toIssuer = sent.filter((request) => request.origin === issuerOrigin);
    expect(toRegistry.length).toBeGreaterThan(0);
    expect(toIssuer.length).toBeGreaterThan(0);
    expect(toRegistry.every((request) => !request.authorization?.startsWith('Basic'))).toBe(true);
    expect(toIssuer.every((request) => request.authorization?.startsWith('Basic'))).toBe(true);
    expect(
      tokenRegistry.issuer?.requests.some((request) => request.authorization?.startsWith('Bearer')),
    ).toBe(false);
  });

  it('verifies a good credential at /v2/ and refuses a bad one as UNAUTHORIZED', async () => {
    await expect(connect(tokenRegistry, user(tokenRegistry)).authenticator.verify()).resolves.toEqual({
      identityToken: expect.any(String),
    });
    const error = (await connect(tokenRegistry, { username: tokenRegistry.username, password: 'nope' })
      .authenticator.verify()
      .catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('UNAUTHORIZED');
  });

  it('gets a refresh token with the offline password grant and reads with it as an identity token', async () => {
    const origin = new URL(tokenRegistry.baseUrl).origin;
    const probe = await transport.send({ method: 'GET', url: new URL('/v2/', origin) });
    discardBody(probe);
    const [challenge] = parseChallenges(probe.headers['www-authenticate'] ?? '');
    if (challenge?.scheme !== 'bearer') throw new Error('the token registry offered no Bearer challenge');
    const token = await fetchToken({
      send: transport.send,
      registry: tokenRegistry.host,
      registryOrigin: origin,
      challenge,
      scopes: [],
      credential: user(tokenRegistry),
      now: Date.now(),
      offline: true,
    });
    expect(token.refreshToken).toEqual(expect.any(String));
    const passwordGrant = tokenRegistry.issuer?.requests.at(-1);
    expect(passwordGrant?.form).toMatchObject({
      grant_type: 'password',
      access_type: 'offline',
      client_id: 'tug',
    });

    const { authenticator } = connect(tokenRegistry, { identityToken: token.refreshToken ?? '' });
    expect(await status(authenticator.send, manifest(tokenRegistry, 'private/x'))).toBe(200);
    const refreshGrant = tokenRegistry.issuer?.requests.at(-1);
    expect(refreshGrant?.method).toBe('POST');
    expect(refreshGrant?.authorization).toBeUndefined();
    expect(refreshGrant?.form).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: token.refreshToken,
      client_id: 'tug',
      scope: 'repository:private/x:pull',
    });
  });
});

describe('Basic auth against the real htpasswd registry', () => {
  it('reads with the credential, sending it up front after the first challenge', async () => {
    const { authenticator, sent } = connect(basicRegistry, user(basicRegistry));
    expect(await status(authenticator.send, manifest(basicRegistry, 'team/x'))).toBe(200);
    expect(await status(authenticator.send, manifest(basicRegistry, 'team/x'))).toBe(200);
    expect(sent.map((request) => request.authorization?.split(' ')[0])).toEqual([
      undefined,
      'Basic',
      'Basic',
    ]);
  });

  it('says the registry requires authentication without a credential', async () => {
    const { authenticator } = connect(basicRegistry, undefined);
    await expect(authenticator.send(manifest(basicRegistry, 'team/x'))).rejects.toThrow(
      `${basicRegistry.host} requires authentication`,
    );
  });

  it('verifies a good credential and refuses a wrong password as "authentication failed"', async () => {
    await expect(connect(basicRegistry, user(basicRegistry)).authenticator.verify()).resolves.toEqual({});
    const { authenticator, sent } = connect(basicRegistry, {
      username: basicRegistry.username,
      password: 'nope',
    });
    const error = (await authenticator.verify().catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(`authentication failed for ${basicRegistry.host}`);
    expect(sent).toHaveLength(2);
  });
});
