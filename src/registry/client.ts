import { createAuthenticator } from '../auth/authenticator.js';
import type { CredentialLookup } from '../auth/types.js';
import { PromiseCache } from '../promise-cache.js';
import type { RepositoryName } from '../ref/types.js';
import { abortable, type SignalOptions } from '../signal.js';
import { withOriginHeaders } from '../transport/extra-headers.js';
import { discardBody, type Transport } from '../transport/index.js';
import type { RegistryConnection } from './connection.js';
import { errorFromResponse } from './errors.js';
import { paginate } from './pagination.js';
import { defaultRepositoryOptions, Repository, type RepositoryOptions } from './repository.js';

/**
 * `maxManifestBytes` (default MAX_MANIFEST_BYTES), `pageSize` (`n` of tags and catalog pages,
 * default 1000), `maxPages` (default 10 000, an error past it) and the upload sizes are optional.
 */
export interface RegistryClientOptions extends Partial<RepositoryOptions> {
  transport: Transport;
  credentials: CredentialLookup;
  /** Extra request headers (lower-case names), sent only to each registry's own origin. */
  headers?: Record<string, string>;
}

interface Connection extends RegistryConnection {
  verify(options?: SignalOptions): Promise<{ identityToken?: string }>;
}

/**
 * The typed Distribution API client. One authenticated connection per registry, made on first use;
 * scopes travel with each request, so one client serves many repositories and hosts.
 */
export class RegistryClient {
  readonly #options: RegistryClientOptions;
  readonly #connections = new PromiseCache<Connection>();

  constructor(options: RegistryClientOptions) {
    this.#options = options;
  }

  #connect(registry: string): Promise<Connection> {
    return this.#connections.get(registry, async () => {
      const baseUrl = await this.#options.transport.baseUrl(registry);
      const authenticator = createAuthenticator({
        registry,
        origin: baseUrl.origin,
        send: withOriginHeaders(this.#options.transport.send, baseUrl.origin, this.#options.headers ?? {}),
        credentials: this.#options.credentials,
      });
      return { baseUrl, send: authenticator.send, verify: authenticator.verify };
    });
  }

  /** The repository `name` names, sharing this client's connections. */
  repository(name: RepositoryName): Repository {
    return new Repository(name, () => this.#connect(name.registry), this.#options);
  }

  /** The repositories of a registry, page by page. */
  async *catalog(registry: string, options: SignalOptions = {}): AsyncIterable<string> {
    const connection = await abortable(this.#connect(registry), options.signal);
    const pageSize = this.#options.pageSize ?? defaultRepositoryOptions.pageSize;
    const first = new URL(`/v2/_catalog?n=${pageSize}`, connection.baseUrl);
    yield* paginate(
      connection,
      first,
      'repositories',
      ['registry:catalog:*'],
      `list the repositories of ${registry}`,
      {
        pageSize,
        maxPages: this.#options.maxPages ?? defaultRepositoryOptions.maxPages,
        signal: options.signal,
      },
    );
  }

  /** `GET /v2/`: the registry answers the Distribution API, with these credentials if it asks for any. */
  async ping(registry: string, options: SignalOptions = {}): Promise<void> {
    const connection = await abortable(this.#connect(registry), options.signal);
    const request = {
      method: 'GET' as const,
      url: new URL('/v2/', connection.baseUrl),
      scopes: [],
      signal: options.signal,
    };
    const response = await connection.send(request);
    if (response.status !== 200) throw await errorFromResponse(`ping ${registry}`, request, response);
    discardBody(response);
  }

  /** For `login`: the registry accepts these credentials; an identity token when its token service offers one. */
  async verifyCredentials(
    registry: string,
    options: SignalOptions = {},
  ): Promise<{ identityToken?: string }> {
    return (await abortable(this.#connect(registry), options.signal)).verify(options);
  }

  /** Forgets the connections; the transport is closed by its owner. */
  async close(): Promise<void> {
    this.#connections.clear();
  }
}
