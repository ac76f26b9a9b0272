import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type AuthenticatorOptions, createAuthenticator } from '../../src/auth/authenticator.js';
import { mergeScopes } from '../../src/auth/challenge.js';
import type { Credential } from '../../src/auth/types.js';
import { AuthError } from '../../src/errors.js';
import type { HttpRequest, HttpResponse } from '../../src/transport/types.js';
import { basic, fakeSend, jsonResponse, response } from './auth-fakes.js';

const origin = 'https://registry.example.com';
const realm = 'https://auth.example.com/token';
const registry = 'registry.example.com';
const user: Credential = { username: 'user', password: 'secret' };

/** The scope the fake registry demands: pull for reads, pull,push for writes, none for /v2/. */
function needed(request: HttpRequest): string | undefined {
  const match = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(request.url.pathname);
  if (!match) return undefined;
  const actions = request.method === 'GET' || request.method === 'HEAD' ? 'pull' : 'pull,push';
  return `repository:${match[1]}:${actions}`;
}

function covers(granted: readonly string[], scope: string): boolean {
  return mergeScopes(granted, [scope]).join(' ') === mergeScopes(granted).join(' ');
}

interface WorldOptions {
  scheme?: 'bearer' | 'basic';
  /** Scopes the token service refuses to grant (it grants the rest, as real services do). */
  denied?: string[];
  password?: string;
}

/** A fake registry at `origin` and its token service at `realm`, behind one fake transport. */
function world(options: WorldOptions = {}) {
  const granted = new Map<string, string[]>();
  const revoked = new Set<string>();
  let issued = 0;
  const password = options.password ?? 'secret';
  const state = { granted, revoked };
  const fake = fakeSend((request) => {
    if (request.url.href.startsWith(realm)) return tokenService(request);
    if (request.url.origin !== origin) return response(request, 200, {}, 'elsewhere');
    return registryAnswer(request);
  });

  function tokenService(request: HttpRequest): HttpResponse {
    const authorization = request.headers?.authorization;
    if (authorization !== undefined && authorization !== basic('user', password))
      return response(request, 401);
    const asked = request.url.searchParams.getAll('scope');
    const token = `tok-${++issued}`;
    granted.set(
      token,
      asked.filter((scope) => !options.denied?.includes(scope)),
    );
    return jsonResponse(request, 200, { token, expires_in: 300 });
  }

  function registryAnswer(request: HttpRequest): HttpResponse {
    const scope = needed(request);
    const authorization = request.headers?.authorization ?? '';
    if (options.scheme === 'basic') {
      if (authorization === basic('user', password)) return response(request, 200, {}, 'ok');
      return response(request, 401, { 'www-authenticate': 'Basic realm="fake"' });
    }
    const challenge = (extra: string) =>
      response(request, 401, {
        'www-authenticate': `Bearer realm="${realm}",service="fake"${scope ? `,scope="${scope}"` : ''}${extra}`,
      });
    const token = authorization.replace(/^Bearer /, '');
    const grants = granted.get(token);
    if (!authorization.startsWith('Bearer ') || !grants) return challenge('');
    if (revoked.has(token)) return challenge(',error="invalid_token"');
    if (scope && !covers(grants, scope)) return challenge(',error="insufficient_scope"');
    return response(request, 200, {}, 'ok');
  }

  const tokenRequests = () => fake.requests.filter((sent) => sent.url.href.startsWith(realm));
  const registryRequests = () => fake.requests.filter((sent) => sent.url.origin === origin);
  return { send: fake.send, requests: fake.requests, tokenRequests, registryRequests, state };
}

function authenticator(
  send: AuthenticatorOptions['send'],
  credential: Credential | undefined,
  now: () => number = () => 1_000_000,
) {
  return createAuthenticator({ registry, origin, send, credentials: async () => credential, now });
}

const get = (path: string, scopes: string[] = []): HttpRequest => ({
  method: 'GET',
  url: new URL(path, origin),
  scopes,
});
const pullA = get('/v2/a/manifests/latest', ['repository:a:pull']);

describe('Bearer challenges', () => {
  it('answers the first 401 with a token and sends it up front afterwards', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    expect((await auth.send(pullA)).status).toBe(200);
    expect(fake.registryRequests().map((sent) => sent.authorization)).toEqual([undefined, 'Bearer tok-1']);
    expect((await auth.send(get('/v2/b/manifests/latest', ['repository:b:pull']))).status).toBe(200);
    // The second repository needs its own token, but no 401 round trip.
    expect(fake.registryRequests()).toHaveLength(3);
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('reuses a cached token for the same scope set without asking the token service again', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    await auth.send(pullA);
    await auth.send(get('/v2/a/blobs/sha256:00', ['repository:a:pull']));
    expect(fake.tokenRequests()).toHaveLength(1);
  });

  it('keys the cache by the merged scope set, so the same actions in another order share a token', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    await auth.send({ ...get('/v2/a/blobs/uploads/'), method: 'POST', scopes: ['repository:a:push,pull'] });
    await auth.send({
      ...get('/v2/a/blobs/uploads/'),
      method: 'POST',
      scopes: ['repository:a:pull', 'repository:a:push', 'repository:a:pull'],
    });
    expect(fake.tokenRequests()).toHaveLength(1);
    expect(fake.tokenRequests()[0]?.url.searchParams.getAll('scope')).toEqual(['repository:a:pull,push']);
  });

  it('fetches a new token once the cached one is about to expire', async () => {
    const fake = world();
    let clock = 1_000_000;
    const auth = authenticator(fake.send, user, () => clock);
    await auth.send(pullA);
    clock += 295_000;
    await auth.send(pullA);
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('shares one token fetch among concurrent requests that need the same token', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    const answers = await Promise.all(Array.from({ length: 6 }, () => auth.send(pullA)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(fake.tokenRequests()).toHaveLength(1);
  });

  it('merges the scope of an insufficient_scope answer into the next token and retries once', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    await auth.send(pullA);
    // A mount: the request names only the target, the registry also wants pull on the source.
    const mount: HttpRequest = {
      method: 'POST',
      url: new URL('/v2/target/blobs/uploads/?mount=sha256:00&from=source', origin),
      scopes: ['repository:source:pull'],
    };
    expect((await auth.send(mount)).status).toBe(200);
    const last = fake.tokenRequests().at(-1);
    expect(last?.url.searchParams.getAll('scope')).toEqual([
      'repository:source:pull',
      'repository:target:pull,push',
    ]);
  });

  it('refuses with "access denied" when the merged token still lacks the scope, after at most two token fetches', async () => {
    const fake = world({ denied: ['repository:secret:pull'] });
    const auth = authenticator(fake.send, user);
    const error = (await auth
      .send(get('/v2/secret/manifests/x', ['repository:secret:pull']))
      .catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('DENIED');
    expect(error.message).toBe('access denied to secret: need pull on secret');
    expect(fake.tokenRequests().length).toBeLessThanOrEqual(2);
    expect(fake.registryRequests().length).toBeLessThanOrEqual(3);
  });

  it('drops a token the registry calls invalid_token and retries with a fresh one', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    await auth.send(pullA);
    fake.state.revoked.add('tok-1');
    expect((await auth.send(pullA)).status).toBe(200);
    expect(fake.registryRequests().at(-1)?.authorization).toBe('Bearer tok-2');
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('refreshes a rejected token once for concurrent requests that all saw it rejected', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    await auth.send(pullA);
    fake.state.revoked.add('tok-1');
    await Promise.all(Array.from({ length: 4 }, () => auth.send(pullA)));
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it('says the registry requires authentication when an anonymous token is not enough', async () => {
    const fake = world({ denied: ['repository:a:pull'] });
    const auth = authenticator(fake.send, undefined);
    const error = (await auth.send(pullA).catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe('registry.example.com requires authentication');
    expect(error.hint).toContain('tug login registry.example.com');
  });

  it('reports a wrong password once, without a retry storm', async () => {
    const fake = world({ password: 'other' });
    const auth = authenticator(fake.send, user);
    await expect(auth.send(pullA)).rejects.toThrow(/^authentication failed for registry\.example\.com/);
    expect(fake.tokenRequests()).toHaveLength(1);
    expect(fake.registryRequests()).toHaveLength(1);
  });

  it('never sends the Bearer token to the token service, and Basic only there', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    await auth.send(pullA);
    await auth.send(get('/v2/b/manifests/x', ['repository:b:pull']));
    expect(fake.tokenRequests().every((sent) => sent.authorization === basic('user', 'secret'))).toBe(true);
    expect(fake.registryRequests().every((sent) => !sent.authorization?.startsWith('Basic'))).toBe(true);
  });

  it('stops after two auth retries when every answer asks for yet another scope', async () => {
    let round = 0;
    const fake = fakeSend((request) =>
      request.url.href.startsWith(realm)
        ? jsonResponse(request, 200, { token: `t${round}` })
        : response(request, 401, {
            'www-authenticate': `Bearer realm="${realm}",scope="repository:r${++round}:pull"`,
          }),
    );
    const auth = authenticator(fake.send, user);
    await expect(auth.send(pullA)).rejects.toBeInstanceOf(AuthError);
    expect(fake.requests.filter((sent) => sent.url.origin === origin)).toHaveLength(3);
  });

  it('refuses a 401 that carries no challenge', async () => {
    const fake = fakeSend((request) => response(request, 401));
    await expect(authenticator(fake.send, user).send(pullA)).rejects.toThrow(
      /without a WWW-Authenticate challenge/,
    );
  });
});

describe('Basic challenges', () => {
  it('answers with the credential and sends it up front afterwards', async () => {
    const fake = world({ scheme: 'basic' });
    const auth = authenticator(fake.send, user);
    expect((await auth.send(pullA)).status).toBe(200);
    expect((await auth.send(pullA)).status).toBe(200);
    expect(fake.registryRequests().map((sent) => sent.authorization)).toEqual([
      undefined,
      basic('user', 'secret'),
      basic('user', 'secret'),
    ]);
  });

  it('reports a refused credential as "authentication failed" with a login hint', async () => {
    const fake = world({ scheme: 'basic', password: 'other' });
    const error = (await authenticator(fake.send, user)
      .send(pullA)
      .catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe('authentication failed for registry.example.com');
    expect(error.hint).toContain('tug login registry.example.com');
    expect(fake.registryRequests()).toHaveLength(2);
  });

  it('says the registry requires authentication when there is no credential', async () => {
    const fake = world({ scheme: 'basic' });
    await expect(authenticator(fake.send, undefined).send(pullA)).rejects.toThrow(
      'registry.example.com requires authentication',
    );
    expect(fake.registryRequests()).toHaveLength(1);
  });
});

describe('origins and bodies', () => {
  it('adds no Authorization to a request for another origin, even once the scheme is known', async () => {
    const fake = world({ scheme: 'basic' });
    const auth = authenticator(fake.send, user);
    await auth.send(pullA);
    await auth.send({ method: 'GET', url: new URL('https://cdn.example.com/blob?sig=1') });
    await auth.send({ method: 'GET', url: new URL('http://registry.example.com/v2/') });
    expect(fake.requests.slice(-2).map((sent) => sent.authorization)).toEqual([undefined, undefined]);
  });

  it('leaves a 401 that came from another origin after a redirect unanswered', async () => {
    const fake = fakeSend((request) => ({
      ...response(request, 401, { 'www-authenticate': 'Bearer realm="https://attacker.example.com/token"' }),
      url: new URL('https://storage.example.com/blob'),
    }));
    const answer = await authenticator(fake.send, user).send(pullA);
    expect(answer.status).toBe(401);
    expect(fake.requests).toHaveLength(1);
  });

  it('re-sends a replayable upload body after re-authenticating', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    const upload: HttpRequest = {
      method: 'PUT',
      url: new URL('/v2/a/blobs/uploads/1?digest=sha256:00', origin),
      scopes: ['repository:a:pull,push'],
      body: { kind: 'replayable', open: () => Readable.from([Buffer.from('data')]), length: 4 },
    };
    expect((await auth.send(upload)).status).toBe(200);
  });

  it('fails clearly when a streamed upload body would have to be re-sent after re-authentication', async () => {
    const fake = world();
    const auth = authenticator(fake.send, user);
    const upload: HttpRequest = {
      method: 'PUT',
      url: new URL('/v2/a/blobs/uploads/1?digest=sha256:00', origin),
      scopes: ['repository:a:pull,push'],
      body: { kind: 'stream', stream: Readable.from([Buffer.from('data')]) },
    };
    const error = (await auth.send(upload).catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('could not be re-sent after re-authentication');
    expect(fake.registryRequests()).toHaveLength(1);
  });
});

describe('verify', () => {
  it('completes the handshake at /v2/ with a working credential', async () => {
    const fake = world();
    const verified = await authenticator(fake.send, user).verify();
    expect(fake.registryRequests().map((sent) => sent.url.pathname)).toEqual(['/v2/', '/v2/']);
    expect(fake.tokenRequests()[0]?.authorization).toBe(basic('user', 'secret'));
    // Then the OAuth2 password grant with offline access; this token service gives no refresh token.
    expect(fake.tokenRequests()[1]?.method).toBe('POST');
    expect(verified).toEqual({});
  });

  it('throws an UNAUTHORIZED AuthError for a refused credential', async () => {
    const fake = world({ password: 'other' });
    const error = (await authenticator(fake.send, user)
      .verify()
      .catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('UNAUTHORIZED');
  });

  it('throws an AuthError for a Basic registry that refuses the credential', async () => {
    const fake = world({ scheme: 'basic', password: 'other' });
    await expect(authenticator(fake.send, user).verify()).rejects.toThrow(
      'authentication failed for registry.example.com',
    );
  });
});
