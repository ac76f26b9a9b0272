import { AuthError, TugError } from '../errors.js';
import { abortable, type SignalOptions } from '../signal.js';
import { discardBody, isReplayable } from '../transport/index.js';
import type { HttpRequest, HttpResponse, Send } from '../transport/types.js';
import { mergeScopes, parseChallenges, parseScope } from './challenge.js';
import { fetchToken, type Token } from './token.js';
import type { BearerChallenge, Challenge, Credential, CredentialLookup } from './types.js';

export interface AuthenticatorOptions {
  /** As the user names it (`docker.io`, `127.0.0.1:5000`): for credential lookup and messages. */
  registry: string;
  /** The registry's base URL origin; credentials go only here and to its validated token realm. */
  origin: string;
  /** The transport stack without auth. */
  send: Send;
  credentials: CredentialLookup;
  now?: () => number;
}

export interface Authenticator {
  /**
   * Sends with auth for `request.scopes`: reuses a cached token or Basic credential, answers a 401
   * challenge, and retries (only when the body is replayable or absent), at most twice.
   */
  send: Send;
  /**
   * For `login`: GET /v2/ and complete the handshake with the credential; AuthError when refused.
   * Where the registry's token service hands out refresh tokens (OAuth2 password grant with
   * offline access), the result carries one, so login can store it instead of the password.
   */
  verify(options?: SignalOptions): Promise<{ identityToken?: string }>;
}

/** A token this close to its expiry is not sent any more. */
const EXPIRY_SKEW_MS = 10_000;
const MAX_AUTH_RETRIES = 2;

/** What went out with a request, to judge the 401 that came back. */
type Sent = { scheme: 'none' } | { scheme: 'basic' } | { scheme: 'bearer'; token: string };

function basicAuthorization(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64')}`;
}

/** `repository:a:pull,push` → `pull,push on a`. */
function describeScopes(scopes: readonly string[]): string {
  return scopes
    .map((scope) => {
      const { resource, actions } = parseScope(scope);
      return `${actions.join(',') || 'access'} on ${resource.replace(/^repository:/, '')}`;
    })
    .join(', ');
}

function repositoriesOf(scopes: readonly string[]): string {
  return scopes.map((scope) => parseScope(scope).resource.replace(/^repository:/, '')).join(', ');
}

function withAuthorization(request: HttpRequest, value: string | undefined): HttpRequest {
  return value ? { ...request, headers: { ...request.headers, authorization: value } } : request;
}

/** The challenge to answer: Bearer when offered, else Basic. */
function chooseChallenge(response: HttpResponse, registry: string): Challenge {
  const header = response.headers['www-authenticate'];
  if (!header) throw new AuthError(`${registry} answered 401 without a WWW-Authenticate challenge`);
  const challenges = parseChallenges(header);
  const chosen = challenges.find((challenge) => challenge.scheme === 'bearer') ?? challenges[0];
  if (!chosen) throw new AuthError(`${registry} asked for an authentication scheme tug does not support`);
  return chosen;
}

/**
 * Answers registry challenges. After the first 401 the scheme is remembered, so later requests
 * carry their Authorization up front; Bearer tokens are cached per service and scope set until
 * they expire, and concurrent requests needing the same token share one fetch.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now;
  const { registry } = options;
  const tokens = new Map<string, Promise<Token>>();
  let learned: Challenge | undefined;
  let credential: Promise<Credential | undefined> | undefined;

  const lookup = () => {
    credential ??= options.credentials(registry);
    return credential;
  };

  const startFetch = (key: string, bearer: BearerChallenge, scopes: string[]): Promise<Token> => {
    const pending = lookup().then((found) =>
      fetchToken({
        send: options.send,
        registry,
        registryOrigin: options.origin,
        challenge: bearer,
        scopes,
        credential: found,
        now: now(),
      }),
    );
    tokens.set(key, pending);
    pending.catch(() => {
      if (tokens.get(key) === pending) tokens.delete(key);
    });
    return pending;
  };

  /** A live token for the scopes, other than `rejected` (one the registry just refused). */
  const tokenFor = async (bearer: BearerChallenge, scopes: string[], rejected?: string): Promise<Token> => {
    const key = `${bearer.service ?? ''}\n${scopes.join(' ')}`;
    const cached = tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.value !== rejected && token.expiresAt - EXPIRY_SKEW_MS > now()) return token;
      // Another request may have started the replacement while this one waited.
      const current = tokens.get(key);
      if (current && current !== cached) return current;
    }
    return startFetch(key, bearer, scopes);
  };

  const authorize = async (
    request: HttpRequest,
    scopes: string[],
    rejected?: string,
  ): Promise<{ request: HttpRequest; sent: Sent }> => {
    if (learned?.scheme === 'bearer') {
      // The token fetch is shared by concurrent requests: this one may stop waiting, the fetch goes on.
      const token = await abortable(tokenFor(learned, scopes, rejected), request.signal);
      return {
        request: withAuthorization(request, `Bearer ${token.value}`),
        sent: { scheme: 'bearer', token: token.value },
      };
    }
    if (learned?.scheme === 'basic') {
      const found = await abortable(lookup(), request.signal);
      if (found?.username !== undefined) {
        return { request: withAuthorization(request, basicAuthorization(found)), sent: { scheme: 'basic' } };
      }
    }
    return { request, sent: { scheme: 'none' } };
  };

  const refusal = async (scopes: string[], challenge: Challenge): Promise<AuthError> => {
    const found = await lookup();
    if (found === undefined) {
      return new AuthError(`${registry} requires authentication`, { hint: `run \`tug login ${registry}\`` });
    }
    if (challenge.scheme === 'basic' || scopes.length === 0) {
      return new AuthError(`authentication failed for ${registry}`, {
        hint: `check the username and password, or run \`tug login ${registry}\``,
      });
    }
    return new AuthError(`access denied to ${repositoriesOf(scopes)}: need ${describeScopes(scopes)}`, {
      code: 'DENIED',
      hint: `check that the account used for ${registry} has this permission`,
    });
  };

  /**
   * What to do about a 401: the scopes and rejected token to retry with, or an error. A retry must
   * be able to change something — a first answer, more scopes, or a fresh token once.
   */
  const answer = async (
    response: HttpResponse,
    sent: Sent,
    scopes: string[],
    refreshed: boolean,
  ): Promise<{ challenge: Challenge; scopes: string[]; rejected?: string }> => {
    const challenge = chooseChallenge(response, registry);
    learned = challenge;
    if (challenge.scheme === 'basic') {
      if (sent.scheme === 'basic' || (await lookup())?.username === undefined) {
        throw await refusal(scopes, challenge);
      }
      return { challenge, scopes };
    }
    const merged = mergeScopes(scopes, challenge.scopes);
    if (sent.scheme !== 'bearer' || merged.join(' ') !== scopes.join(' '))
      return { challenge, scopes: merged };
    // Same scopes: a stale token deserves one refresh; a token that lacks the scope does not.
    if (challenge.error === 'insufficient_scope' || refreshed) throw await refusal(merged, challenge);
    return { challenge, scopes: merged, rejected: sent.token };
  };

  const send: Send = async (original) => {
    if (original.url.origin !== options.origin) return options.send(original);
    let scopes = mergeScopes(original.scopes ?? []);
    let { request, sent } = await authorize(original, scopes);
    let response = await options.send(request);
    let refreshed = false;
    for (let retry = 0; response.status === 401 && response.url.origin === options.origin; retry++) {
      discardBody(response);
      const next = await answer(response, sent, scopes, refreshed);
      if (retry >= MAX_AUTH_RETRIES) throw await refusal(next.scopes, next.challenge);
      if (!isReplayable(original)) {
        throw new AuthError(
          `${registry} asked to authenticate again and the upload could not be re-sent after re-authentication`,
          { hint: 'retry with a file source; the credentials are then sent up front' },
        );
      }
      scopes = next.scopes;
      refreshed ||= next.rejected !== undefined;
      ({ request, sent } = await authorize(original, scopes, next.rejected));
      response = await options.send(request);
    }
    return response;
  };

  return {
    send,
    async verify({ signal }: SignalOptions = {}) {
      const response = await send({ method: 'GET', url: new URL('/v2/', options.origin), signal });
      discardBody(response);
      if (response.status === 401 || response.status === 403) {
        throw new AuthError(`authentication failed for ${registry} (HTTP ${response.status})`, {
          hint: `check the username and password, or run \`tug login ${registry}\``,
        });
      }
      if (response.status !== 200) {
        throw new TugError(`${registry} answered HTTP ${response.status} at /v2/; is it a registry?`, {
          code: 'SERVER',
        });
      }
      const found = await abortable(lookup(), signal);
      if (learned?.scheme !== 'bearer' || found?.username === undefined || found.password === undefined)
        return {};
      const token = await fetchToken({
        send: (request) => options.send({ ...request, signal }),
        registry,
        registryOrigin: options.origin,
        challenge: learned,
        scopes: [],
        credential: found,
        now: now(),
        offline: true,
      });
      return token.refreshToken ? { identityToken: token.refreshToken } : {};
    },
  };
}
