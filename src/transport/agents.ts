import type { Dispatcher } from 'undici';
import { UsageError } from '../errors.js';
import { PromiseCache } from '../promise-cache.js';
import { proxyFor } from './proxy.js';
import { redactUrl } from './redact.js';
import { largeReads } from './socket-reads.js';
import { TlsMaterial } from './tls-material.js';
import { answersPlainHttp } from './tls-probe.js';
import type { Timeouts, TransportOptions } from './types.js';
import { loadProxyAgent, Pool } from './undici.js';

export { bypassesProxy, proxyFor } from './proxy.js';

const keepAliveMs = 30_000;

/**
 * One keep-alive dispatcher per origin, created on first use with that origin's TLS settings
 * and proxy, and reused by every later request to it.
 */
export class DispatcherPool {
  readonly #dispatchers = new PromiseCache<Dispatcher>();
  readonly #options: TransportOptions;
  readonly #timeouts: Timeouts;
  readonly #tls: TlsMaterial;

  constructor(options: TransportOptions, timeouts: Timeouts) {
    this.#options = options;
    this.#timeouts = timeouts;
    this.#tls = new TlsMaterial(options);
  }

  /**
   * Whether `url`'s server answers a TLS handshake in plain HTTP (see {@link answersPlainHttp}),
   * asked only of a server reached directly: through a proxy, the probe goes as every request does.
   */
  async answersPlainHttp(url: URL): Promise<boolean> {
    if (this.#proxyFor(url)) return false;
    return answersPlainHttp(url, this.#timeouts);
  }

  #proxyFor(url: URL): string | undefined {
    return proxyFor(url, this.#options.env ?? process.env);
  }

  /** `crossOrigin`: a request that followed a redirect off its origin, so the --cert-file identity stays home. */
  get(url: URL, crossOrigin = false): Promise<Dispatcher> {
    const key = `${crossOrigin ? 'cross-origin ' : ''}${url.origin}`;
    return this.#dispatchers.get(key, () => this.#create(url, crossOrigin));
  }

  async #create(url: URL, crossOrigin: boolean): Promise<Dispatcher> {
    const tls = url.protocol === 'https:' ? await this.#tls.forOrigin(url, crossOrigin) : {};
    const common = {
      keepAliveTimeout: keepAliveMs,
      headersTimeout: this.#timeouts.headersMs,
      bodyTimeout: this.#timeouts.bodyIdleMs,
    };
    const proxy = this.#proxyFor(url);
    if (!proxy) {
      const reads = url.protocol === 'http:' ? largeReads() : {};
      return new Pool(url.origin, {
        ...common,
        connect: { ...tls, ...reads, timeout: this.#timeouts.connectMs },
      });
    }
    const ProxyAgent = await loadProxyAgent();
    try {
      return new ProxyAgent({
        uri: proxy,
        proxyTls: { timeout: this.#timeouts.connectMs },
        requestTls: { ...tls, timeout: this.#timeouts.connectMs },
        ...common,
      });
    } catch (error) {
      throw new UsageError(`invalid proxy URL ${redactUrl(proxy)}`, {
        hint: 'check HTTP_PROXY, HTTPS_PROXY and NO_PROXY',
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    const settled = await Promise.allSettled(this.#dispatchers.values());
    this.#dispatchers.clear();
    // destroy, not close: a command that ends (or is interrupted) waits for no response it abandoned.
    await Promise.all(
      settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.destroy()] : [])),
    );
  }
}
