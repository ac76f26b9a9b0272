import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { UsageError } from '../errors.js';
import type { TransportOptions } from './types.js';

/** The TLS options of one origin's connections. */
export interface TlsSettings {
  rejectUnauthorized: boolean;
  /**
   * The extra CAs and the client certificate, built into one context that every connection of the
   * origin shares. Given as `ca`, `cert` and `key`, they were built again for each connection, and
   * extra CAs mean parsing every root certificate again: some 40 ms of CPU per connection.
   */
  secureContext?: SecureContext;
}

interface HostMaterial {
  cas: string[];
  cert?: Buffer;
  key?: Buffer;
}

/**
 * Where per-host TLS directories are looked for, in order; the first that has a directory for the
 * host is used, as the containers tools do: the user's own, then docker's, then the containers
 * tools' system directory.
 */
export function defaultCertsDirs(env: NodeJS.ProcessEnv): string[] {
  return [
    join(env.HOME ?? homedir(), '.config', 'containers', 'certs.d'),
    '/etc/docker/certs.d',
    '/etc/containers/certs.d',
  ];
}

async function readGiven(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The text of a CA file, refused when it holds no certificate (a private key given by mistake). */
function checkedCaPem(text: string, path: string): string {
  if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new UsageError(`the CA file ${path} holds a private key, not a certificate`, {
      hint: 'give the PEM certificate of the CA that signed the registry (a client key goes with the client certificate)',
    });
  }
  throw new UsageError(`the CA file ${path} is not a PEM certificate (no BEGIN CERTIFICATE block)`);
}

/**
 * Docker's per-host directory `certsDir/HOST[:PORT]/`: `*.crt` are CAs, and any `NAME.cert` with
 * its `NAME.key` is a client certificate (the first pair by name is used). Undefined when the
 * directory does not exist.
 */
async function readHostDirectory(directory: string): Promise<HostMaterial | undefined> {
  let names: string[];
  try {
    names = (await readdir(directory)).sort();
  } catch {
    return undefined;
  }
  const cas = await Promise.all(
    names
      .filter((name) => name.endsWith('.crt'))
      .map((name) => readGiven(join(directory, name), 'CA certificate').then(String)),
  );
  const certs = names.filter((name) => name.endsWith('.cert')).map((name) => name.slice(0, -'.cert'.length));
  const keys = names.filter((name) => name.endsWith('.key')).map((name) => name.slice(0, -'.key'.length));
  const unpaired = [
    ...certs.filter((base) => !keys.includes(base)).map((base) => `${base}.cert has no ${base}.key`),
    ...keys.filter((base) => !certs.includes(base)).map((base) => `${base}.key has no ${base}.cert`),
  ];
  if (unpaired.length > 0) {
    throw new UsageError(`in ${directory}, ${unpaired.join('; ')}`, {
      hint: 'a client certificate needs both files',
    });
  }
  const [pair] = certs;
  if (pair === undefined) return { cas };
  return {
    cas,
    cert: await readGiven(join(directory, `${pair}.cert`), 'client certificate'),
    key: await readGiven(join(directory, `${pair}.key`), 'client key'),
  };
}

/** The first certs.d root with a directory for `host`; no material when none has one. */
async function readHost(roots: string[], host: string): Promise<HostMaterial> {
  for (const root of roots) {
    const material = await readHostDirectory(join(root, host));
    if (material) return material;
  }
  return { cas: [] };
}

/** What Node's secure context holds natively: how its own `ca` option adds each certificate. */
interface NativeContext {
  addCACert(pem: string): void;
}

function nativeOf(context: SecureContext): NativeContext | undefined {
  const native = (context as { context?: Partial<NativeContext> }).context;
  return typeof native?.addCACert === 'function' ? (native as NativeContext) : undefined;
}

/**
 * A context that trusts Node's root store and `extraCas`. Given as `ca`, CAs replace the roots, so
 * the roots went with them as `tls.rootCertificates`, parsed again for every context (40 ms of CPU
 * here), and always Node's bundled list, even where `--use-openssl-ca` makes the system's the
 * roots. Added to a default context instead, the CAs go into a copy of the root store Node has
 * already parsed (1–2 ms). In both, as Node does, `NODE_EXTRA_CA_CERTS` is not in such a context.
 * A Node without the native method gets the documented `ca` list.
 */
function contextTrusting(extraCas: string[], identity: { cert?: Buffer; key?: Buffer }): SecureContext {
  const context = createSecureContext(identity);
  if (extraCas.length === 0) return context;
  const native = nativeOf(context);
  if (!native) return createSecureContext({ ...identity, ca: [...rootCertificates, ...extraCas] });
  for (const ca of extraCas) native.addCACert(ca);
  return context;
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
  #startupCas: Promise<string[]> | undefined;
  /** Node's roots and the start-up CAs, shared by every origin that has nothing of its own. */
  #startupContext: SecureContext | undefined;

  constructor(options: TransportOptions) {
    if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
      throw new UsageError('a client certificate and its key go together', { option: 'certFile' });
    }
    this.#options = options;
  }

  #readGlobal(): Promise<{ ca?: string; cert?: Buffer; key?: Buffer }> {
    const { caFile, certFile, keyFile } = this.#options;
    this.#global ??= (async () => ({
      ...(caFile ? { ca: checkedCaPem(String(await readGiven(caFile, 'CA file')), caFile) } : {}),
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
      const { certsDir, env } = this.#options;
      material = readHost(certsDir ? [certsDir] : defaultCertsDirs(env ?? process.env), host);
      this.#hosts.set(host, material);
    }
    return material;
  }

  /**
   * The certificates of `nodeExtraCaCerts`, read once, when a context first needs them. A file
   * that cannot be read is ignored with Node's own warning, as Node ignores it at start-up.
   */
  #readStartupCas(): Promise<string[]> {
    const file = this.#options.nodeExtraCaCerts;
    this.#startupCas ??=
      file === undefined
        ? Promise.resolve([])
        : readFile(file, 'utf8').then(
            (text) => [text],
            (error: unknown) => {
              process.emitWarning(
                `Ignoring extra certs from \`${file}\`, load failed: ${(error as Error).message}`,
              );
              return [];
            },
          );
    return this.#startupCas;
  }

  /** `url.host` is docker's directory name: `HOST` or `HOST:PORT`. */
  async forOrigin(url: URL, crossOrigin: boolean): Promise<TlsSettings> {
    const [global, host] = await Promise.all([this.#readGlobal(), this.#readHost(url.host)]);
    const extraCas = [...(global.ca ? [global.ca] : []), ...host.cas];
    const identity = !crossOrigin && global.cert && global.key ? global : host;
    const rejectUnauthorized = this.#options.insecure !== true;
    const withIdentity = identity.cert !== undefined && identity.key !== undefined;
    // The start-up CAs go where Node's default store would have held them: not beside extra CAs
    // (see contextTrusting), and not where nothing is verified.
    const startupCas = extraCas.length === 0 && rejectUnauthorized ? await this.#readStartupCas() : [];
    if (extraCas.length === 0 && !withIdentity) {
      if (startupCas.length === 0) return { rejectUnauthorized };
      this.#startupContext ??= contextTrusting(startupCas, {});
      return { rejectUnauthorized, secureContext: this.#startupContext };
    }
    try {
      const secureContext = contextTrusting(
        extraCas.length > 0 ? extraCas : startupCas,
        withIdentity ? { cert: identity.cert, key: identity.key } : {},
      );
      return { rejectUnauthorized, secureContext };
    } catch (error) {
      throw new UsageError(`the TLS files for ${url.host} cannot be used: ${(error as Error).message}`, {
        hint: `check caFile, certFile and keyFile, and the certs.d directory of ${url.host}`,
        option: withIdentity ? 'certFile' : 'caFile',
        cause: error,
      });
    }
  }
}
