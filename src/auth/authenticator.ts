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

/** The error for a refused request: no credential, a wrong one, or one without the scopes. */
function refusal(
  registry: string,
  credential: Credential | undefined,
  scopes: string[],
  challenge: Challenge,
): AuthError {
  if (credential === undefined) {
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
}

/**
 * Answers registry challenges. After the first 401 the scheme is remembered, so later requests
 * carry their Authorization up front; Bearer tokens are cached per service and scope set until
 * they expire, and concurrent requests needing the same token share one fetch.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  return new RegistryAuthenticator(options);
}

class RegistryAuthenticator implements Authenticator {
  readonly #options: AuthenticatorOptions;
  readonly #now: () => number;
  readonly #tokens = new Map<string, Promise<Token>>();
  #learned: Challenge | undefined;
  #credential: Promise<Credential | undefined> | undefined;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get #registry(): string {
    return this.#options.registry;
  }

  #lookup(): Promise<Credential | undefined> {
    this.#credential ??= this.#options.credentials(this.#registry);
    return this.#credential;
  }

  async #refusal(scopes: string[], challenge: Challenge): Promise<AuthError> {
    return refusal(this.#registry, await this.#lookup(), scopes, challenge);
  }

  #startFetch(key: string, bearer: BearerChallenge, scopes: string[]): Promise<Token> {
    const pending = this.#lookup().then((found) =>
      fetchToken({
        send: this.#options.send,
        registry: this.#registry,
        registryOrigin: this.#options.origin,
        challenge: bearer,
        scopes,
        credential: found,
        now: this.#now(),
      }),
    );
    this.#tokens.set(key, pending);
    pending.catch(() => {
      if (this.#tokens.get(key) === pending) this.#tokens.delete(key);
    });
    return pending;
  }

  /** A live token for the scopes, other than `rejected` (one the registry just refused). */
  async #tokenFor(bearer: BearerChallenge, scopes: string[], rejected?: string): Promise<Token> {
    const key = `${bearer.service ?? ''}\n${scopes.join(' ')}`;
    const cached = this.#tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.value !== rejected && token.expiresAt - EXPIRY_SKEW_MS > this.#now()) return token;
      // Another request may have started the replacement while this one waited.
      const current = this.#tokens.get(key);
      if (current && current !== cached) return current;
    }
    return this.#startFetch(key, bearer, scopes);
  }

  async #authorize(
    request: HttpRequest,
    scopes: string[],
    rejected?: string,
  ): Promise<{ request: HttpRequest; sent: Sent }> {
    const learned = this.#learned;
    if (learned?.scheme === 'bearer') {
      // The token fetch is shared by concurrent requests: this one may stop waiting, the fetch goes on.
      const token = await abortable(this.#tokenFor(learned, scopes, rejected), request.signal);
      return {
        request: withAuthorization(request, `Bearer ${token.value}`),
        sent: { scheme: 'bearer', token: token.value },
      };
    }
    if (learned?.scheme === 'basic') {
      const found = await abortable(this.#lookup(), request.signal);
      if (found?.username !== undefined) {
        return { request: withAuthorization(request, basicAuthorization(found)), sent: { scheme: 'basic' } };
      }
    }
    return { request, sent: { scheme: 'none' } };
  }

  /**
   * What to do about a 401: the scopes and rejected token to retry with, or an error. A retry must
   * be able to change something — a first answer, more scopes, or a fresh token once.
   */
  async #answer(
    response: HttpResponse,
    sent: Sent,
    scopes: string[],
    refreshed: boolean,
  ): Promise<{ challenge: Challenge; scopes: string[]; rejected?: string }> {
    const challenge = chooseChallenge(response, this.#registry);
    this.#learned = challenge;
    if (challenge.scheme === 'basic') {
      if (sent.scheme === 'basic' || (await this.#lookup())?.username === undefined) {
        throw await this.#refusal(scopes, challenge);
      }
      return { challenge, scopes };
    }
    const merged = mergeScopes(scopes, challenge.scopes);
    if (sent.scheme !== 'bearer' || merged.join(' ') !== scopes.join(' '))
      return { challenge, scopes: merged };
    // Same scopes: a stale token deserves one refresh; a token that lacks the scope does not.
    if (challenge.error === 'insufficient_scope' || refreshed) throw await this.#refusal(merged, challenge);
    return { challenge, scopes: merged, rejected: sent.token };
  }

  readonly send: Send = async (original) => {
    const { origin, send } = this.#options;
    if (original.url.origin !== origin) return send(original);
    let scopes = mergeScopes(original.scopes ?? []);
    let { request, sent } = await this.#authorize(original, scopes);
    let response = await send(request);
    let refreshed = false;
    for (let retry = 0; response.status === 401 && response.url.origin === origin; retry++) {
      discardBody(response);
      const next = await this.#answer(response, sent, scopes, refreshed);
      if (retry >= MAX_AUTH_RETRIES) throw await this.#refusal(next.scopes, next.challenge);
      if (!isReplayable(original)) {
        throw new AuthError(
          `${this.#registry} asked to authenticate again and the upload could not be re-sent after re-authentication`,
          { hint: 'retry with a file source; the credentials are then sent up front' },
        );
      }
      scopes = next.scopes;
      refreshed ||= next.rejected !== undefined;
      ({ request, sent } = await this.#authorize(original, scopes, next.rejected));
      response = await send(request);
    }
    return response;
  };

  readonly verify = async ({ signal }: SignalOptions = {}): Promise<{ identityToken?: string }> => {
    const registry = this.#registry;
    const response = await this.send({ method: 'GET', url: new URL('/v2/', this.#options.origin), signal });
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
    const found = await abortable(this.#lookup(), signal);
    const learned = this.#learned;
    if (learned?.scheme !== 'bearer' || found?.username === undefined || found.password === undefined)
      return {};
    const token = await fetchToken({
      send: (request) => this.#options.send({ ...request, signal }),
      registry,
      registryOrigin: this.#options.origin,
      challenge: learned,
      scopes: [],
      credential: found,
      now: this.#now(),
      offline: true,
    });
    return token.refreshToken ? { identityToken: token.refreshToken } : {};
  };
}
