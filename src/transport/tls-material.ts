import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { UsageError } from '../errors.js';
import type { TransportOptions } from './types.js';

/** The TLS options of one origin's connections. */
export interface TlsSettings {
  rejectUnauthorized: boolean;
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

interface HostMaterial {
  cas: string[];
  cert?: Buffer;
  key?: Buffer;
}

const defaultCertsDir = '/etc/docker/certs.d';

async function readGiven(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Docker's per-host directory `certsDir/HOST[:PORT]/`: `*.crt` are CAs, `client.cert` + `client.key` a client certificate. */
async function readHostDirectory(directory: string): Promise<HostMaterial> {
  const names = await readdir(directory).catch(() => [] as string[]);
  const cas = await Promise.all(
    names
      .filter((name) => name.endsWith('.crt'))
      .sort()
      .map((name) => readGiven(join(directory, name), 'CA certificate').then(String)),
  );
  const hasCert = names.includes('client.cert');
  if (hasCert !== names.includes('client.key')) {
    throw new UsageError(`${directory} holds only one of client.cert and client.key`, {
      hint: 'a client certificate needs both files',
    });
  }
  if (!hasCert) return { cas };
  return {
    cas,
    cert: await readGiven(join(directory, 'client.cert'), 'client certificate'),
    key: await readGiven(join(directory, 'client.key'), 'client key'),
  };
}

/**
 * TLS settings per host, read on first use and cached: verification on unless `insecure`; extra
 * CAs (`caFile`, certs.d) added to Node's default roots; a client certificate from certs.d, or
 * from `certFile`/`keyFile` for every host the user addressed (never for a redirect target).
 */
export class TlsMaterial {
  readonly #options: TransportOptions;
  readonly #hosts = new Map<string, Promise<HostMaterial>>();
  #global: Promise<{ ca?: string; cert?: Buffer; key?: Buffer }> | undefined;

  constructor(options: TransportOptions) {
    if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
      throw new UsageError('--cert-file and --key-file go together');
    }
    this.#options = options;
  }

  #readGlobal(): Promise<{ ca?: string; cert?: Buffer; key?: Buffer }> {
    const { caFile, certFile, keyFile } = this.#options;
    this.#global ??= (async () => ({
      ...(caFile ? { ca: String(await readGiven(caFile, 'CA file')) } : {}),
      ...(certFile && keyFile
        ? {
            cert: await readGiven(certFile, 'client certificate'),
            key: await readGiven(keyFile, 'client key'),
          }
        : {}),
    }))();
    return this.#global;
  }

  #readHost(host: string): Promise<HostMaterial> {
    let material = this.#hosts.get(host);
    if (!material) {
      material = readHostDirectory(join(this.#options.certsDir ?? defaultCertsDir, host));
      this.#hosts.set(host, material);
    }
    return material;
  }

  /** `url.host` is docker's directory name: `HOST` or `HOST:PORT`. */
  async forOrigin(url: URL, crossOrigin: boolean): Promise<TlsSettings> {
    const [global, host] = await Promise.all([this.#readGlobal(), this.#readHost(url.host)]);
    const extraCas = [...(global.ca ? [global.ca] : []), ...host.cas];
    const identity = !crossOrigin && global.cert && global.key ? global : host;
    return {
      rejectUnauthorized: this.#options.insecure !== true,
      ...(extraCas.length > 0 ? { ca: [...rootCertificates, ...extraCas] } : {}),
      ...(identity.cert && identity.key ? { cert: identity.cert, key: identity.key } : {}),
    };
  }
}
