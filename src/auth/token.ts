import { AuthError } from '../errors.js';
import { discardBody, isPrivateAddress, readBodyText } from '../transport/index.js';
import type { HttpResponse, Send } from '../transport/types.js';
import type { BearerChallenge, Credential } from './types.js';

export const MAX_TOKEN_RESPONSE = 1024 * 1024;
/** A token said to live less than this is treated as living this long (clients do the same). */
export const MIN_TOKEN_LIFETIME_MS = 60_000;

export interface Token {
  value: string;
  expiresAt: number;
  refreshToken?: string;
}

/**
 * Where a registry may send credentials: an http(s) realm, never HTTPS → HTTP, and never from a
 * public registry to a loopback, link-local or private address. Checked before any request.
 */
export function validateRealm(realm: string, registryOrigin: string, registry: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new AuthError(`${registry} named an invalid token realm "${realm.slice(0, 100)}"`);
  }
  const origin = new URL(registryOrigin);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AuthError(`refusing the token realm ${url.protocol}//${url.host} of ${registry}: not http(s)`);
  }
  if (origin.protocol === 'https:' && url.protocol === 'http:') {
    throw new AuthError(`refusing the plain-HTTP token realm ${url.host} of the HTTPS registry ${registry}`);
  }
  if (!isPrivateAddress(origin.hostname) && isPrivateAddress(url.hostname)) {
    throw new AuthError(`refusing the token realm ${url.host} of ${registry}: a private address`);
  }
  return url;
}

interface TokenResponse {
  token?: unknown;
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
}

async function parseTokenResponse(response: HttpResponse, registry: string, now: number): Promise<Token> {
  let body: TokenResponse;
  try {
    body = JSON.parse(await readBodyText(response, MAX_TOKEN_RESPONSE)) as TokenResponse;
  } catch {
    throw new AuthError(`the token endpoint of ${registry} returned an invalid response`);
  }
  const value = typeof body.access_token === 'string' && body.access_token ? body.access_token : body.token;
  if (typeof value !== 'string' || value === '') {
    throw new AuthError(`the token endpoint of ${registry} returned no token`);
  }
  const lifetime =
    typeof body.expires_in === 'number' && Number.isFinite(body.expires_in) ? body.expires_in * 1000 : 0;
  return {
    value,
    expiresAt: now + Math.max(lifetime, MIN_TOKEN_LIFETIME_MS),
    ...(typeof body.refresh_token === 'string' ? { refreshToken: body.refresh_token } : {}),
  };
}

function refused(registry: string, status: number): AuthError {
  return new AuthError(`authentication failed for ${registry} (HTTP ${status} from the token service)`, {
    hint: `check the username and password, or run: tug login ${registry}`,
  });
}

export interface TokenRequest {
  send: Send;
  registry: string;
  registryOrigin: string;
  challenge: BearerChallenge;
  scopes: string[];
  credential?: Credential;
  now: number;
  /** For login: ask for a refresh token (OAuth2 password grant, offline access). */
  offline?: boolean;
}

function basic(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64')}`;
}

async function oauthPost(
  request: TokenRequest,
  realm: URL,
  form: Record<string, string>,
): Promise<HttpResponse> {
  const params = new URLSearchParams({ ...form, client_id: 'tug' });
  if (request.challenge.service) params.set('service', request.challenge.service);
  if (request.scopes.length > 0) params.set('scope', request.scopes.join(' '));
  return request.send({
    method: 'POST',
    url: realm,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(params.toString()),
  });
}

async function basicGet(request: TokenRequest, realm: URL): Promise<HttpResponse> {
  const url = new URL(realm);
  if (request.challenge.service) url.searchParams.set('service', request.challenge.service);
  for (const scope of request.scopes) url.searchParams.append('scope', scope);
  const { credential } = request;
  const headers = credential?.username !== undefined ? { authorization: basic(credential) } : undefined;
  return request.send({ method: 'GET', url, headers });
}

/**
 * A token for the challenge: identity tokens by the OAuth2 refresh_token grant; a password by GET
 * with Basic (docker's way), or for login by the password grant with a fall back to GET when the
 * realm has no OAuth2 endpoint; else anonymously.
 */
export async function fetchToken(request: TokenRequest): Promise<Token> {
  const realm = validateRealm(request.challenge.realm, request.registryOrigin, request.registry);
  const { credential } = request;
  let response: HttpResponse;
  if (credential?.identityToken) {
    response = await oauthPost(request, realm, {
      grant_type: 'refresh_token',
      refresh_token: credential.identityToken,
    });
  } else if (request.offline && credential?.username !== undefined) {
    response = await oauthPost(request, realm, {
      grant_type: 'password',
      username: credential.username,
      password: credential.password ?? '',
      access_type: 'offline',
    });
    if (response.status === 404 || response.status === 405 || response.status === 400) {
      discardBody(response);
      response = await basicGet(request, realm);
    }
  } else {
    response = await basicGet(request, realm);
  }
  if (response.status === 401 || response.status === 403) {
    discardBody(response);
    throw refused(request.registry, response.status);
  }
  if (response.status !== 200) {
    discardBody(response);
    throw new AuthError(`the token service of ${request.registry} answered HTTP ${response.status}`);
  }
  return parseTokenResponse(response, request.registry, request.now);
}
