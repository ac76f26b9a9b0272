import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fetchToken, MIN_TOKEN_LIFETIME_MS, type TokenRequest, validateRealm } from '../../src/auth/token.js';
import type { BearerChallenge, Credential } from '../../src/auth/types.js';
import { AuthError, TugError } from '../../src/errors.js';
import type { HttpRequest, HttpResponse } from '../../src/transport/types.js';
import { basic, fakeSend, formOf, jsonResponse, response } from './auth-fakes.js';

const now = 1_700_000_000_000;
const registry = 'registry.example.com';
const challenge: BearerChallenge = {
  scheme: 'bearer',
  realm: 'https://auth.example.com/token',
  service: 'registry.example.com',
  scopes: [],
};
const scopes = ['repository:a:pull', 'repository:b:pull,push'];

function tokenRequest(
  handler: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>,
  fields: Partial<TokenRequest> & { credential?: Credential } = {},
) {
  const fake = fakeSend(handler);
  const request: TokenRequest = {
    send: fake.send,
    registry,
    registryOrigin: 'https://registry.example.com',
    challenge,
    scopes,
    now,
    ...fields,
  };
  return { request, requests: fake.requests };
}

describe('token realm validation', () => {
  it.each([
    ['an https realm of a public registry', 'https://auth.example.com/token', 'https://registry.example.com'],
    ['a loopback http realm of a loopback registry', 'http://127.0.0.1:9000/token', 'http://127.0.0.1:5000'],
    ['a private realm of a private registry', 'https://10.0.0.7/token', 'https://10.0.0.5'],
    [
      'an https realm of a plain-HTTP registry',
      'https://auth.example.com/token',
      'http://registry.example.com',
    ],
  ])('accepts %s', (_name, realm, origin) => {
    expect(validateRealm(realm, origin, registry).href).toBe(new URL(realm).href);
  });

  it.each([
    ['an http realm of an https registry', 'http://auth.example.com/token', 'https://registry.example.com'],
    ['a file: realm', 'file:///etc/passwd', 'https://registry.example.com'],
    ['an ftp: realm', 'ftp://auth.example.com/token', 'https://registry.example.com'],
    [
      'the cloud metadata address',
      'https://169.254.169.254/latest/meta-data',
      'https://registry.example.com',
    ],
    [
      'a loopback address of a public registry',
      'https://127.0.0.1:9000/token',
      'https://registry.example.com',
    ],
    ['localhost named by a public registry', 'https://localhost/token', 'https://registry.example.com'],
    ['a 10/8 address of a public registry', 'https://10.1.2.3/token', 'https://registry.example.com'],
    ['a 172.16/12 address of a public registry', 'https://172.20.0.1/token', 'https://registry.example.com'],
    [
      'a 192.168/16 address of a public registry',
      'https://192.168.1.1/token',
      'https://registry.example.com',
    ],
    ['an IPv6 loopback of a public registry', 'https://[::1]/token', 'https://registry.example.com'],
    ['an IPv6 link-local of a public registry', 'https://[fe80::1]/token', 'https://registry.example.com'],
    ['an IPv6 unique-local of a public registry', 'https://[fd00::1]/token', 'https://registry.example.com'],
    [
      'an IPv4-mapped loopback of a public registry',
      'https://[::ffff:127.0.0.1]/token',
      'https://registry.example.com',
    ],
    ['a loopback address of a private registry', 'https://127.0.0.1/token', 'https://10.0.0.5'],
    ['a realm that is no URL', 'not a url', 'https://registry.example.com'],
  ])('refuses %s before any request, naming the realm', async (_name, realm, origin) => {
    const { request, requests } = tokenRequest(
      () => {
        throw new Error('no request may be made');
      },
      {
        registryOrigin: origin,
        challenge: { ...challenge, realm },
        credential: { username: 'user', password: 'secret' },
      },
    );
    const error = await fetchToken(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    const named = URL.canParse(realm) ? new URL(realm).host || new URL(realm).pathname : realm;
    expect((error as Error).message).toContain(named);
    expect(requests).toHaveLength(0);
  });
});

describe('token grants', () => {
  it('asks anonymously with a GET carrying the service and every scope', async () => {
    const { request, requests } = tokenRequest((sent) => jsonResponse(sent, 200, { token: 'anon' }));
    const token = await fetchToken(request);
    expect(token.value).toBe('anon');
    expect(requests).toHaveLength(1);
    const [sent] = requests;
    expect(sent?.method).toBe('GET');
    expect(sent?.authorization).toBeUndefined();
    expect(sent?.url.searchParams.get('service')).toBe('registry.example.com');
    expect(sent?.url.searchParams.getAll('scope')).toEqual(scopes);
  });

  it('sends a username and password as Basic on the GET, as docker does', async () => {
    const { request, requests } = tokenRequest((sent) => jsonResponse(sent, 200, { token: 't' }), {
      credential: { username: 'user', password: 'secret' },
    });
    await fetchToken(request);
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.authorization).toBe(basic('user', 'secret'));
  });

  it('exchanges an identity token with the refresh_token grant, without Basic', async () => {
    const { request, requests } = tokenRequest((sent) => jsonResponse(sent, 200, { access_token: 'fresh' }), {
      credential: { identityToken: 'refresh-me' },
    });
    expect((await fetchToken(request)).value).toBe('fresh');
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.authorization).toBeUndefined();
    expect(formOf(requests[0]?.body)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-me',
      service: 'registry.example.com',
      scope: scopes.join(' '),
      client_id: 'tug',
    });
  });

  it('asks for offline access with the password grant at login and keeps the refresh token', async () => {
    const { request, requests } = tokenRequest(
      (sent) => jsonResponse(sent, 200, { access_token: 'a', refresh_token: 'r', expires_in: 300 }),
      { credential: { username: 'user', password: 'secret' }, offline: true },
    );
    const token = await fetchToken(request);
    expect(token).toEqual({ value: 'a', refreshToken: 'r', expiresAt: now + 300_000 });
    expect(formOf(requests[0]?.body)).toEqual({
      grant_type: 'password',
      username: 'user',
      password: 'secret',
      access_type: 'offline',
      service: 'registry.example.com',
      scope: scopes.join(' '),
      client_id: 'tug',
    });
  });

  it.each([
    ['404', 404, ''],
    ['405', 405, ''],
    ['400 unsupported_grant_type', 400, '{"error":"unsupported_grant_type"}'],
  ])('falls back to GET with Basic when the password grant answers %s', async (_name, status, body) => {
    const { request, requests } = tokenRequest(
      (sent) =>
        sent.method === 'POST' ? response(sent, status, {}, body) : jsonResponse(sent, 200, { token: 'g' }),
      { credential: { username: 'user', password: 'secret' }, offline: true },
    );
    expect((await fetchToken(request)).value).toBe('g');
    expect(requests.map((sent) => sent.method)).toEqual(['POST', 'GET']);
    expect(requests[1]?.authorization).toBe(basic('user', 'secret'));
  });

  it('reports a refused password grant (400 invalid_grant) as failed authentication, without a fallback', async () => {
    const { request, requests } = tokenRequest(
      (sent) => response(sent, 400, {}, '{"error":"invalid_grant"}'),
      {
        credential: { username: 'user', password: 'wrong' },
        offline: true,
      },
    );
    await expect(fetchToken(request)).rejects.toThrow(/^authentication failed for registry\.example\.com/);
    expect(requests).toHaveLength(1);
  });
});

describe('token service refusals', () => {
  it.each([401, 403])(
    'turns %i with credentials into one "authentication failed" AuthError with a login hint',
    async (status) => {
      const { request } = tokenRequest((sent) => response(sent, status, {}, '{"details":"bad"}'), {
        credential: { username: 'user', password: 'wrong-password' },
      });
      const error = (await fetchToken(request).catch((caught: unknown) => caught)) as AuthError;
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toMatch(/^authentication failed for registry\.example\.com: /);
      expect(error.message).not.toContain('\n');
      expect(error.message).not.toContain('wrong-password');
      expect(error.hint).toBe('check the username and password, or run `tug login registry.example.com`');
    },
  );

  it('says the registry requires authentication when an anonymous request is refused', async () => {
    const { request } = tokenRequest((sent) => response(sent, 401));
    const error = (await fetchToken(request).catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe('registry.example.com requires authentication');
    expect(error.hint).toContain('tug login registry.example.com');
  });

  it('reports a server error of the token service as a failure that is not an auth refusal', async () => {
    const { request } = tokenRequest((sent) => response(sent, 503));
    const error = await fetchToken(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TugError);
    expect(error).not.toBeInstanceOf(AuthError);
    expect((error as Error).message).toContain('503');
  });
});

describe('token responses', () => {
  const answer = (body: unknown) => tokenRequest((sent) => jsonResponse(sent, 200, body)).request;

  it('uses access_token when it is the only field', async () => {
    expect((await fetchToken(answer({ access_token: 'only-access' }))).value).toBe('only-access');
  });

  it('prefers access_token over token when both are present', async () => {
    expect((await fetchToken(answer({ token: 'old', access_token: 'new' }))).value).toBe('new');
  });

  it('honours expires_in', async () => {
    expect((await fetchToken(answer({ token: 't', expires_in: 3600 }))).expiresAt).toBe(now + 3_600_000);
  });

  it.each([
    ['expires_in 0', { token: 't', expires_in: 0 }],
    ['no expires_in', { token: 't' }],
    ['a tiny expires_in', { token: 't', expires_in: 3 }],
    ['a non-numeric expires_in', { token: 't', expires_in: 'soon' }],
  ])('treats %s as at least 60 s', async (_name, body) => {
    expect((await fetchToken(answer(body))).expiresAt).toBe(now + MIN_TOKEN_LIFETIME_MS);
  });

  it('measures expiry on the local clock when issued_at is an hour in the future', async () => {
    const future = new Date(now + 3_600_000).toISOString();
    const token = await fetchToken(answer({ token: 't', expires_in: 300, issued_at: future }));
    expect(token.expiresAt).toBe(now + 300_000);
  });

  it('stops reading a 5 MiB token response at 1 MiB and reports an invalid response', async () => {
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const endless = new Readable({
      read() {
        if (produced >= 5 * 1024 * 1024) return this.push(null);
        produced += chunk.byteLength;
        this.push(chunk);
      },
    });
    const { request } = tokenRequest((sent) => response(sent, 200, {}, endless));
    await expect(fetchToken(request)).rejects.toThrow(
      'the token endpoint of registry.example.com returned an invalid response',
    );
    expect(produced).toBeLessThanOrEqual(1024 * 1024 + 4 * chunk.byteLength);
  });

  it.each([
    ['an HTML page with status 200', '<html><body>token=leaked-secret</body></html>'],
    ['JSON that is cut short', '{"token":"leaked-secret"'],
    ['a JSON array', '["leaked-secret"]'],
    ['JSON without a token', '{"expires_in":300,"note":"leaked-secret"}'],
    ['an empty token', '{"token":"","note":"leaked-secret"}'],
  ])('refuses %s with an AuthError that never quotes the body', async (_name, body) => {
    const { request } = tokenRequest((sent) => response(sent, 200, { 'content-type': 'text/html' }, body));
    const error = (await fetchToken(request).catch((caught: unknown) => caught)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe('the token endpoint of registry.example.com returned an invalid response');
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain('leaked-secret');
  });
});
