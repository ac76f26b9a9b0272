import { TransportError } from '../errors.js';
import { isLoopbackHost, registryApiHost } from '../ref/parse.js';
import { discardBody } from './body.js';
import { notTlsErrors } from './send.js';
import type { Send } from './types.js';

function causeCode(error: TransportError): string | undefined {
  const cause = error.cause as { code?: string; cause?: { code?: string } } | undefined;
  return cause?.code ?? cause?.cause?.code;
}

/** True when a TLS attempt failed because the server answered in plain HTTP. */
function spokePlainHttp(error: unknown): boolean {
  if (!(error instanceof TransportError)) return false;
  const code = causeCode(error) ?? '';
  const message = String((error.cause as Error | undefined)?.message ?? '');
  return notTlsErrors.has(code) || /wrong version number|packet length too long|http request/i.test(message);
}

/**
 * Decides the base URL of each registry once. Loopback registries are what docker and crane call
 * insecure: HTTPS is tried, and plain HTTP used when the server does not speak TLS. A loopback
 * server that speaks TLS with an untrusted certificate is an error, never a downgrade.
 */
export class SchemeResolver {
  readonly #known = new Map<string, Promise<URL>>();

  constructor(
    readonly send: Send,
    readonly plainHttp: boolean,
  ) {}

  baseUrl(registry: string): Promise<URL> {
    let known = this.#known.get(registry);
    if (!known) {
      known = this.#decide(registry);
      this.#known.set(registry, known);
      known.catch(() => this.#known.delete(registry));
    }
    return known;
  }

  async #decide(registry: string): Promise<URL> {
    const host = registryApiHost(registry);
    if (this.plainHttp) return new URL(`http://${host}`);
    const https = new URL(`https://${host}`);
    if (!isLoopbackHost(registry)) return https;
    try {
      discardBody(await this.send({ method: 'GET', url: new URL('/v2/', https) }));
      return https;
    } catch (error) {
      if (spokePlainHttp(error)) return new URL(`http://${host}`);
      throw error;
    }
  }
}
