import { AuthError, TugError } from '../errors.js';
import { discardBody, readBodyText } from '../transport/index.js';
import type { HttpResponse, Send } from '../transport/types.js';
import { validateRealm } from './realm.js';
import type { BearerChallenge, Credential } from './types.js';

export { validateRealm } from './realm.js';

export const MAX_TOKEN_RESPONSE = 1024 * 1024;
/** A token said to live less than this is treated as living this long (clients do the same). */
export const MIN_TOKEN_LIFETIME_MS = 60_000;
const clientId = 'tug';

export interface Token {
  value: string;
  /** Local clock; a token's `issued_at` is not trusted, as the two clocks may disagree. */
  expiresAt: number;
  /** Granted by the password grant with offline access: the identity token `login` may store. */
  refreshToken?: string;
}

export interface TokenRequest {
  send: Send;
  registry: string;
  registryOrigin: string;
  challenge: BearerChallenge;
  scopes: readonly string[];
  credential?: Credential | undefined;
  now: number;
  /** For login: ask for a refresh token (OAuth2 password grant, offline access). */
  offline?: boolean;
}

interface TokenResponse {
  token?: unknown;
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
}

function invalidResponse(registry: string): AuthError {
  return new AuthError(`the token endpoint of ${registry} returned an invalid response`);
}

/** The body is never quoted in an error: it may hold a token. */
async function parseTokenResponse(response: HttpResponse, registry: string, now: number): Promise<Token> {
  let body: unknown;
  try {
    body = JSON.parse(await readBodyText(response, MAX_TOKEN_RESPONSE));
  } catch {
    throw invalidResponse(registry);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidResponse(registry);
  const fields = body as TokenResponse;
  const value =
    typeof fields.access_token === 'string' && fields.access_token !== ''
      ? fields.access_token
      : fields.token;
  if (typeof value !== 'string' || value === '') throw invalidResponse(registry);
  const lifetimeMs =
    typeof fields.expires_in === 'number' && Number.isFinite(fields.expires_in)
      ? fields.expires_in * 1000
      : 0;
  return {
    value,
    expiresAt: now + Math.max(lifetimeMs, MIN_TOKEN_LIFETIME_MS),
    ...(typeof fields.refresh_token === 'string' && fields.refresh_token !== ''
      ? { refreshToken: fields.refresh_token }
      : {}),
  };
}

function basicAuthorization(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64')}`;
}

function oauthPost(request: TokenRequest, realm: URL, form: Record<string, string>): Promise<HttpResponse> {
  const params = new URLSearchParams(form);
  if (request.challenge.service) params.set('service', request.challenge.service);
  if (request.scopes.length > 0) params.set('scope', request.scopes.join(' '));
  params.set('client_id', clientId);
  return request.send({
    method: 'POST',
    url: realm,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(params.toString()),
  });
}

function basicGet(request: TokenRequest, realm: URL): Promise<HttpResponse> {
  const url = new URL(realm);
  if (request.challenge.service) url.searchParams.set('service', request.challenge.service);
  for (const scope of request.scopes) url.searchParams.append('scope', scope);
  const { credential } = request;
  const headers =
    credential?.username !== undefined ? { authorization: basicAuthorization(credential) } : undefined;
  return request.send({ method: 'GET', url, ...(headers ? { headers } : {}) });
}

/** Whether a realm answered the OAuth2 password grant with "I have no such endpoint or grant". */
async function lacksPasswordGrant(response: HttpResponse): Promise<boolean> {
  if (response.status === 404 || response.status === 405) {
    discardBody(response);
    return true;
  }
  if (response.status !== 400) return false;
  const text = await readBodyText(response, 64 * 1024).catch(() => '');
  return text.includes('unsupported_grant_type');
}

interface SentTokenRequest {
  response: HttpResponse;
  /** OAuth2 realms answer a refused grant with 400 (`invalid_grant`), not 401. */
  oauth: boolean;
}

/**
 * Sends the token request: identity tokens by the OAuth2 refresh_token grant; a password by GET
 * with Basic (docker's way), or for login by the password grant with offline access, falling back
 * to GET when the realm has no OAuth2 endpoint; else an anonymous GET.
 */
async function requestToken(request: TokenRequest, realm: URL): Promise<SentTokenRequest> {
  const { credential } = request;
  if (credential?.identityToken) {
    const response = await oauthPost(request, realm, {
      grant_type: 'refresh_token',
      refresh_token: credential.identityToken,
    });
    return { response, oauth: true };
  }
  if (request.offline && credential?.username !== undefined) {
    const response = await oauthPost(request, realm, {
      grant_type: 'password',
      username: credential.username,
      password: credential.password ?? '',
      access_type: 'offline',
    });
    if (!(await lacksPasswordGrant(response))) return { response, oauth: true };
  }
  return { response: await basicGet(request, realm), oauth: false };
}

/** A token for a Bearer challenge. The realm is validated before anything is sent to it. */
export async function fetchToken(request: TokenRequest): Promise<Token> {
  const realm = validateRealm(request.challenge.realm, request.registryOrigin, request.registry);
  const { response, oauth } = await requestToken(request, realm);
  const { status } = response;
  if (status === 401 || status === 403 || (oauth && status === 400)) {
    discardBody(response);
    const { credential } = request;
    if (credential?.username === undefined && credential?.identityToken === undefined) {
      throw new AuthError(`${request.registry} requires authentication`, {
        hint: `run \`tug login ${request.registry}\``,
      });
    }
    throw new AuthError(
      `authentication failed for ${request.registry}: the token service answered HTTP ${status}`,
      { hint: `check the username and password, or run \`tug login ${request.registry}\`` },
    );
  }
  if (status !== 200) {
    discardBody(response);
    throw new TugError(`the token endpoint of ${request.registry} answered HTTP ${status}`, {
      code: 'SERVER',
      transient: status >= 500,
    });
  }
  return parseTokenResponse(response, request.registry, request.now);
}
