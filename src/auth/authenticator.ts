import { AuthError } from '../errors.js';
import { discardBody, isReplayable } from '../transport/index.js';
import type { HttpRequest, HttpResponse, Send } from '../transport/types.js';
import { mergeScopes, parseChallenges } from './challenge.js';
import { fetchToken, type Token } from './token.js';
import type { BearerChallenge, Credential, CredentialLookup } from './types.js';

export interface AuthenticatorOptions {
  /** As the user names it (`docker.io`, `127.0.0.1:5000`): for credential lookup and messages. */
  registry: string;
  /** The registry's base URL origin; credentials go only here and to its validated token realm. */
  origin: string;
  send: Send;
  credentials: CredentialLookup;
  now?: () => number;
}

export interface Authenticator {
  send: Send;
  /** For `login`: completes the handshake at /v2/ with the credential, or throws AuthError. */
  verify(): Promise<void>;
}

const expirySkewMs = 10_000;

function basicHeader(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64')}`;
}

function repositoriesOf(scopes: readonly string[]): string {
  return scopes.map((scope) => scope.replace(/^repository:/, '')).join(', ') || 'the registry';
}

/**
 * Answers registry challenges: remembers the scheme after the first 401 so later requests carry
 * their Authorization up front, caches Bearer tokens per scope set until they expire (one fetch
 * shared by concurrent requests), and retries a request at most twice for auth.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, Promise<Token>>();
  let scheme: 'basic' | 'bearer' | undefined;
  let bearer: BearerChallenge | undefined;
  let credential: Promise<Credential | undefined> | undefined;

  const lookup = () => {
    credential ??= options.credentials(options.registry);
    return credential;
  };

  const tokenFor = async (scopes: string[], fresh: boolean): Promise<Token> => {
    const challenge = bearer!;
    const key = `${challenge.service ?? ''} ${scopes.join(' ')}`;
    const cached = tokens.get(key);
    if (cached && !fresh) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt - expirySkewMs > now()) return token;
    }
    const pending = lookup().then((found) =>
      fetchToken({
        send: options.send,
        registry: options.registry,
        registryOrigin: options.origin,
        challenge,
        scopes,
        credential: found,
        now: now(),
      }),
    );
    tokens.set(key, pending);
    pending.catch(() => tokens.delete(key));
    return pending;
  };

  const authorization = async (scopes: string[], fresh = false): Promise<string | undefined> => {
    if (scheme === 'bearer') return `Bearer ${(await tokenFor(scopes, fresh)).value}`;
    if (scheme === 'basic') {
      const found = await lookup();
      return found?.username !== undefined ? basicHeader(found) : undefined;
    }
    return undefined;
  };

  const withHeader = (request: HttpRequest, value: string | undefined): HttpRequest =>
    value ? { ...request, headers: { ...request.headers, authorization: value } } : request;

  const denied = async (request: HttpRequest, scopes: string[]): Promise<AuthError> => {
    const found = await lookup();
    if (!found) {
      return new AuthError(`${options.registry} requires authentication for ${repositoriesOf(scopes)}`, {
        hint: `run: tug login ${options.registry}`,
      });
    }
    if (scheme === 'basic' || request.url.pathname === '/v2/') {
      return new AuthError(`authentication failed for ${options.registry}`, {
        hint: `check the username and password, or run: tug login ${options.registry}`,
      });
    }
    return new AuthError(`access denied to ${repositoriesOf(scopes)} on ${options.registry}`, {
      hint: 'check that this account has the permission it needs',
    });
  };

  /** Learns from a 401; returns the scopes to ask for next time, or undefined when nothing changes. */
  const learn = (response: HttpResponse, scopes: string[]): string[] => {
    const header = response.headers['www-authenticate'];
    if (!header) throw new AuthError(`${options.registry} answered 401 without a challenge`);
    const challenges = parseChallenges(header);
    const offered = challenges.find((challenge) => challenge.scheme === 'bearer') ?? challenges[0];
    if (!offered)
      throw new AuthError(`${options.registry} asked for an authentication scheme tug does not know`);
    scheme = offered.scheme;
    if (offered.scheme === 'basic') return scopes;
    bearer = offered;
    return mergeScopes(scopes, offered.scopes);
  };

  const send: Send = async (request) => {
    if (request.url.origin !== options.origin) return options.send(request);
    let scopes = [...(request.scopes ?? [])];
    let response = await options.send(withHeader(request, await authorization(scopes)));
    for (let retry = 0; response.status === 401; retry++) {
      discardBody(response);
      const before = { scheme, scopes: scopes.join(' ') };
      scopes = learn(response, scopes);
      const learned = before.scheme !== scheme || before.scopes !== scopes.join(' ');
      const found = await lookup();
      // A second Basic refusal, or a second 401 that taught nothing new, will not change with more tries.
      const hopeless =
        retry >= 2 ||
        (scheme === 'basic' && (!found || before.scheme === 'basic')) ||
        (retry > 0 && !learned);
      if (hopeless) throw await denied(request, scopes);
      if (!isReplayable(request)) {
        throw new AuthError(
          `${options.registry} asked to authenticate again during an upload that cannot be re-sent`,
          {
            hint: 'retry the command; tug will send the credentials up front',
          },
        );
      }
      response = await options.send(
        withHeader(request, await authorization(scopes, before.scheme === 'bearer')),
      );
    }
    return response;
  };

  return {
    send,
    async verify() {
      const response = await send({ method: 'GET', url: new URL('/v2/', options.origin) });
      discardBody(response);
      if (response.status !== 200) {
        throw new AuthError(`${options.registry} refused the credentials (HTTP ${response.status})`);
      }
    },
  };
}
