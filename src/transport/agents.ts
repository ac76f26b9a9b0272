import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { type Dispatcher, Pool, ProxyAgent } from 'undici';
import type { Timeouts, TransportOptions } from './types.js';

interface TlsMaterial {
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

const defaultCertsDir = '/etc/docker/certs.d';

async function readIfPresent(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch(() => undefined);
}

/** Docker's per-host TLS directory: `*.crt` are CAs, `client.cert` + `client.key` a client certificate. */
async function certsDirMaterial(certsDir: string, host: string): Promise<TlsMaterial> {
  const directory = join(certsDir, host);
  const names = await readdir(directory).catch(() => [] as string[]);
  const cas = await Promise.all(
    names.filter((name) => name.endsWith('.crt')).map((name) => readFile(join(directory, name), 'utf8')),
  );
  const material: TlsMaterial = {};
  if (cas.length > 0) material.ca = cas;
  if (names.includes('client.cert') && names.includes('client.key')) {
    material.cert = await readFile(join(directory, 'client.cert'));
    material.key = await readFile(join(directory, 'client.key'));
  }
  return material;
}

/** Whether NO_PROXY (curl's rules: `*`, host, `.suffix`, host:port) exempts this host. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((rawEntry) => {
      const entry = rawEntry.toLowerCase();
      if (entry === '*') return true;
      const [name = '', entryPort] = entry.replace(/^\[|\]$/g, '').split(/:(?=\d+$)/);
      if (entryPort && entryPort !== port) return false;
      const bare = name.replace(/^\*?\./, '');
      return host === bare || host.endsWith(`.${bare}`);
    });
}

export function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (bypassesProxy(url, env.NO_PROXY ?? env.no_proxy)) return undefined;
  const proxy =
    url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  return proxy || undefined;
}

/**
 * One keep-alive dispatcher per origin, created on first use with that origin's TLS material
 * (defaults, --ca-file, --cert-file/--key-file, certs.d) and proxy.
 */
export class DispatcherPool {
  readonly #dispatchers = new Map<string, Promise<Dispatcher>>();
  readonly #options: TransportOptions;
  readonly #timeouts: Timeouts;

  constructor(options: TransportOptions, timeouts: Timeouts) {
    this.#options = options;
    this.#timeouts = timeouts;
  }

  /** `anonymous`: for a request that followed a redirect off its origin, so --cert-file stays home. */
  get(url: URL, anonymous = false): Promise<Dispatcher> {
    const key = `${anonymous ? 'anonymous ' : ''}${url.origin}`;
    let dispatcher = this.#dispatchers.get(key);
    if (!dispatcher) {
      dispatcher = this.#create(url, anonymous);
      this.#dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }

  async #tls(url: URL, anonymous: boolean): Promise<Record<string, unknown>> {
    if (url.protocol !== 'https:') return {};
    const options = this.#options;
    const hostMaterial = await certsDirMaterial(options.certsDir ?? defaultCertsDir, url.host);
    const extraCas = [
      ...(options.caFile ? [await readFile(options.caFile, 'utf8')] : []),
      ...(hostMaterial.ca ?? []),
    ];
    const cert = options.certFile && !anonymous ? await readIfPresent(options.certFile) : hostMaterial.cert;
    const key = options.keyFile && !anonymous ? await readIfPresent(options.keyFile) : hostMaterial.key;
    return {
      rejectUnauthorized: options.insecure !== true,
      ...(extraCas.length > 0 ? { ca: [...rootCertificates, ...extraCas] } : {}),
      ...(cert && key ? { cert, key } : {}),
    };
  }

  async #create(url: URL, anonymous: boolean): Promise<Dispatcher> {
    const tls = await this.#tls(url, anonymous);
    const common = {
      keepAliveTimeout: 30_000,
      headersTimeout: this.#timeouts.headersMs,
      bodyTimeout: this.#timeouts.bodyIdleMs,
    };
    const proxy = proxyFor(url, this.#options.env ?? process.env);
    if (proxy) {
      return new ProxyAgent({
        uri: proxy,
        requestTls: { ...tls, timeout: this.#timeouts.connectMs },
        ...common,
      });
    }
    return new Pool(url.origin, { ...common, connect: { ...tls, timeout: this.#timeouts.connectMs } });
  }

  async close(): Promise<void> {
    const dispatchers = await Promise.all(this.#dispatchers.values());
    this.#dispatchers.clear();
    // destroy, not close: a command that ends (or is interrupted) waits for no response it abandoned.
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.destroy()));
  }
}
