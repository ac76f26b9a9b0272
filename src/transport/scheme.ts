import { PromiseCache } from '../promise-cache.js';
import { isLoopbackHost, registryApiHost } from '../ref/parse.js';
import { discardBody } from './body.js';
import { NetworkError } from './network-error.js';
import type { Send } from './types.js';

/** How a registry's base URL is found: fixed, or HTTPS tried first with plain HTTP as the fallback. */
export type SchemePlan = { kind: 'fixed'; url: URL } | { kind: 'probe'; https: URL; http: URL };

/**
 * `docker.io` is served by registry-1.docker.io; `plainHttp` means http:// everywhere; loopback
 * hosts (docker's and crane's "insecure registries") are probed; anything else is https://.
 */
export function schemePlan(registry: string, plainHttp: boolean): SchemePlan {
  const host = registryApiHost(registry);
  if (plainHttp) return { kind: 'fixed', url: new URL(`http://${host}`) };
  const https = new URL(`https://${host}`);
  if (!isLoopbackHost(registry)) return { kind: 'fixed', url: https };
  return { kind: 'probe', https, http: new URL(`http://${host}`) };
}

/** A TLS attempt that failed because the server does not speak TLS (not an untrusted certificate). */
function spokePlainHttp(error: unknown): boolean {
  return (
    error instanceof NetworkError && (error.failure === 'not-tls' || error.failure === 'handshake-closed')
  );
}

/**
 * Decides the base URL of each registry once per transport. A loopback server that speaks TLS
 * with an untrusted certificate is an error, never a downgrade; concurrent callers share a probe.
 */
export class SchemeResolver {
  readonly #known = new PromiseCache<URL>();
  readonly #send: Send;
  readonly #plainHttp: boolean;
  readonly #answersPlainHttp: ((https: URL) => Promise<boolean>) | undefined;

  /**
   * `send` should make one attempt: a plain-HTTP answer to TLS is the expected outcome, not a fault.
   * `answersPlainHttp`, when given, is asked first, and a yes settles the scheme without the probe.
   */
  constructor(send: Send, plainHttp: boolean, answersPlainHttp?: (https: URL) => Promise<boolean>) {
    this.#send = send;
    this.#plainHttp = plainHttp;
    this.#answersPlainHttp = answersPlainHttp;
  }

  baseUrl(registry: string): Promise<URL> {
    // A failed probe (registry not up yet) is not remembered.
    return this.#known.get(registry, () => this.#decide(registry));
  }

  async #decide(registry: string): Promise<URL> {
    const plan = schemePlan(registry, this.#plainHttp);
    if (plan.kind === 'fixed') return plan.url;
    if (await this.#answersPlainHttp?.(plan.https)) return plan.http;
    try {
      discardBody(await this.#send({ method: 'GET', url: new URL('/v2/', plan.https) }));
      return plan.https;
    } catch (error) {
      if (spokePlainHttp(error)) return plan.http;
      throw error;
    }
  }
}
