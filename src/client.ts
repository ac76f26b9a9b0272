import { attachArtifact } from './artifacts/attach.js';
import type { PulledFile } from './artifacts/file-target.js';
import { type FileSpec, prepareArtifact } from './artifacts/prepare.js';
import { pullFiles } from './artifacts/pull.js';
import { copyWithReferrers, listReferrers } from './artifacts/referrers.js';
import { createCredentialLookup } from './auth/credentials/lookup.js';
import type { Credential, CredentialLookup } from './auth/types.js';
import { type CopyEvents, type CopyOutcome, type CopyResult, copyGraph, copyImage } from './copy/index.js';
import { AbortedError, TugError } from './errors.js';
import { type ParsedManifest, parseManifest, parsePlatform } from './oci/index.js';
import type { Descriptor } from './oci/types.js';
import { destinationTag, sourceTag } from './ref/destination-tag.js';
import { formatReference, parseReference } from './ref/index.js';
import { registryApiHost } from './ref/parse.js';
import type { Reference } from './ref/types.js';
import { RegistryClient } from './registry/client.js';
import { openReadTarget, openWriteTarget, targetReference } from './targets/open.js';
import { resolveIn } from './targets/resolve.js';
import { isTagLister, type ReadTarget } from './targets/target.js';
import { createTransport, type Transport } from './transport/index.js';
import type { RetryPolicy, Timeouts } from './transport/types.js';

/** How a {@link Client} reaches registries. Every field is optional. */
export interface ClientOptions {
  /** The docker config file credentials are read from; default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  registryConfig?: string;
  /** Registries (`localhost:5000`) spoken to over plain HTTP; `true` for every registry. */
  plainHttp?: boolean | readonly string[];
  /** Skip TLS certificate verification (still HTTPS). */
  insecure?: boolean;
  /** A CA bundle (PEM file) trusted for every registry. */
  caFile?: string;
  /** A client certificate and its key (PEM files) for mutual TLS. */
  certFile?: string;
  keyFile?: string;
  /** One credential for every registry, or a lookup by registry host; default: the docker config, then the OS keychain. */
  credentials?: Credential | CredentialLookup;
  /** Transfers at once in a copy, push or pull; default 6. */
  concurrency?: number;
  userAgent?: string;
  timeouts?: Partial<Timeouts>;
  retry?: Partial<RetryPolicy>;
  /** Environment for proxies and the docker config location; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Called with what a person should know but that does not stop the call (an unreadable credential helper). */
  onWarning?: (message: string) => void;
}

/** One line of progress, as `tug --progress json` prints it. */
export type ProgressEvent =
  | { event: 'started'; digest: string; size: number; mediaType: string }
  | { event: 'bytes'; digest: string; bytes: number }
  | { event: CopyOutcome; digest: string; size: number };

/** What every call that moves content accepts. */
export interface TransferOptions {
  /** Stops the call: it rejects with an `ABORTED` error whose cause is the signal's reason. */
  signal?: AbortSignal;
  /** Called for every node started, every chunk of bytes, every node done. */
  onProgress?: (event: ProgressEvent) => void;
}

/** Options of {@link Client.copy}. */
export interface ClientCopyOptions extends TransferOptions {
  /**
   * Platforms to copy out of an index; all when absent. One: that platform's manifest. Several: a
   * new index with only their entries, unchanged (a platform the index lacks is `NOT_FOUND`).
   */
  platforms?: readonly string[];
  /** Copy the referrers (signatures, SBOMs) of every manifest too, recursively, like `cp -r`. */
  referrers?: boolean;
  /** Tags to give the copy at the destination besides the one its reference names. */
  tags?: readonly string[];
  /** Check every node at the destination instead of skipping a sub-graph whose root exists. */
  checkEveryNode?: boolean;
}

/** The root that was copied (or pushed) and what moved. */
export interface TransferResult {
  digest: string;
  mediaType: string;
  size: number;
  /** Bytes that flowed from the source to the destination. */
  bytes: number;
  copied: number;
  skipped: number;
  mounted: number;
}

/** A manifest or index as stored: its exact bytes, its descriptor, and the parsed document. */
export interface ManifestContent {
  descriptor: Descriptor;
  bytes: Uint8Array;
  mediaType: string;
  manifest: ParsedManifest['manifest'];
}

/** A file to push: its path, media type, and the name it is pulled under (default: the path). */
export interface PushFile {
  path: string;
  mediaType?: string;
  title?: string;
}

/** Options of {@link Client.push} and {@link Client.attach}. */
export interface PushOptions extends TransferOptions {
  artifactType?: string;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** A config file; default the empty config. */
  config?: { path: string; mediaType?: string };
}

/** Options of {@link Client.pull}. */
export interface PullFilesOptions extends TransferOptions {
  /** The directory the files are written to. */
  output: string;
  /** Pull the manifest of this platform out of an index. */
  platform?: string;
  /** Refuse to replace files that exist. */
  keepOldFiles?: boolean;
  /** Trust titles that leave the output directory. */
  allowPathTraversal?: boolean;
  /** Caps on what an unpacked directory layer may expand to. */
  maxUnpackSize?: number;
  maxUnpackRatio?: number;
}

/** Options of calls that only read. */
export interface ReadOptions {
  signal?: AbortSignal;
  /** Narrow an index to the manifest of this platform (`linux/arm64`). */
  platform?: string;
}

/**
 * A registry client for programs: copy images between registries, OCI layouts and docker-archives,
 * push and pull artifacts, read manifests, tags and referrers. References are the CLI's
 * (`host/repo:tag`, `host/repo@sha256:…`, `oci:DIR[:TAG]`, `docker-archive:FILE[:NAME:TAG]`).
 * Connections, tokens and TLS material are shared by every call; `close()` (or `await using`) ends them.
 */
export class Client {
  readonly #options: ClientOptions;
  #transport: Transport | undefined;
  #registry: RegistryClient | undefined;

  constructor(options: ClientOptions = {}) {
    this.#options = options;
  }

  /** Copies an image, index or artifact (everything under it) from `source` to `destination`. */
  async copy(source: string, destination: string, options: ClientCopyOptions = {}): Promise<TransferResult> {
    const { signal } = options;
    return aborting('copy', signal, async () => {
      const from = parseReference(source);
      const to = parseReference(destination);
      await using src = await this.#openRead(from);
      await using dst = await openWriteTarget(to, this.#open());
      const tag = destinationTag(to, sourceTag(from));
      const result = await copyImage(src, dst, targetReference(from), {
        platforms: (options.platforms ?? []).map(parsePlatform),
        copier: options.referrers ? copyWithReferrers : copyGraph,
        tags: [...(tag ? [tag] : []), ...(options.tags ?? [])],
        concurrency: this.#options.concurrency,
        checkEveryNode: options.checkEveryNode,
        signal,
        events: progressEvents(options.onProgress),
      });
      return transferResult(result);
    });
  }

  /** The descriptor a reference names (`{ digest, mediaType, size }`). */
  async resolve(reference: string, options: ReadOptions = {}): Promise<Descriptor> {
    return aborting('resolve', options.signal, async () => {
      const ref = parseReference(reference);
      await using target = await this.#openRead(ref);
      return resolved(target, ref, options);
    });
  }

  /** The manifest or index a reference names: the exact bytes, parsed, with its descriptor. */
  async manifest(reference: string, options: ReadOptions = {}): Promise<ManifestContent> {
    const { signal } = options;
    return aborting('manifest', signal, async () => {
      const ref = parseReference(reference);
      await using target = await this.#openRead(ref);
      const descriptor = await resolved(target, ref, { ...options, readsManifest: true });
      const bytes = await target.fetchBytes(descriptor, { signal });
      const { mediaType, manifest } = parseManifest(bytes, descriptor.mediaType);
      return { descriptor, bytes, mediaType, manifest };
    });
  }

  /**
   * The content of one blob of the repository `reference` names (a config, a small layer), read
   * whole and verified against `descriptor`'s size and digest.
   */
  async blob(
    reference: string,
    descriptor: Descriptor,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const { signal } = options;
    return aborting('blob', signal, async () => {
      await using target = await this.#openRead(parseReference(reference));
      const chunks: Buffer[] = [];
      for await (const chunk of await target.fetch(descriptor, { signal })) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    });
  }

  /** The tags of a repository (`host/repo`), of an OCI layout, or of a docker-archive, page by page. */
  async *tags(reference: string, options: { signal?: AbortSignal } = {}): AsyncIterable<string> {
    const { signal } = options;
    const ref = parseReference(reference);
    await using target = await aborting('tags', signal, () => this.#openRead(ref));
    if (!isTagLister(target)) {
      throw new TugError(`${formatReference(ref)} cannot list tags`, { code: 'UNSUPPORTED' });
    }
    yield* abortingIterable('tags', signal, target.tags({ signal }));
  }

  /** Pushes files as one artifact (as oras does) and tags it as the reference says. */
  async push(
    reference: string,
    files: readonly PushFile[],
    options: PushOptions = {},
  ): Promise<TransferResult> {
    const { signal } = options;
    return aborting('push', signal, async () => {
      const ref = parseReference(reference);
      const prepared = await prepareArtifact({
        files: files.map(fileSpec),
        artifactType: options.artifactType,
        config: options.config,
        annotations: { manifest: options.annotations },
      });
      try {
        await using destination = await openWriteTarget(ref, this.#open());
        const tag = destinationTag(ref);
        const result = await copyGraph(prepared.source, destination, prepared.manifest.descriptor, {
          concurrency: this.#options.concurrency,
          signal,
          tags: tag ? [tag] : [],
          events: progressEvents(options.onProgress),
        });
        return transferResult(result);
      } finally {
        await prepared.cleanup();
      }
    });
  }

  /** Pulls an artifact of named files into `output`; the files written, in the order they completed. */
  async pull(reference: string, options: PullFilesOptions): Promise<PulledFile[]> {
    const { signal } = options;
    return aborting('pull', signal, async () => {
      const ref = parseReference(reference);
      await using target = await this.#openRead(ref);
      const descriptor = await resolved(target, ref, { ...options, readsManifest: true });
      const { files } = await pullFiles(target, descriptor, {
        output: options.output,
        reference: formatReference(ref),
        keepOldFiles: options.keepOldFiles,
        allowPathTraversal: options.allowPathTraversal,
        warn: this.#options.onWarning,
        limits: {
          ...(options.maxUnpackSize ? { maxBytes: options.maxUnpackSize } : {}),
          ...(options.maxUnpackRatio ? { maxRatio: options.maxUnpackRatio } : {}),
        },
        concurrency: this.#options.concurrency,
        signal,
        events: progressEvents(options.onProgress),
      });
      return files;
    });
  }

  /** Pushes files as an artifact whose subject is the manifest `reference` names: a signature, an SBOM. */
  async attach(
    reference: string,
    files: readonly PushFile[],
    options: PushOptions & { platform?: string },
  ): Promise<TransferResult> {
    const { signal } = options;
    return aborting('attach', signal, async () => {
      const ref = parseReference(reference);
      await using destination = await openWriteTarget(ref, this.#open());
      const found = await resolved(destination, ref, options);
      const subject = { mediaType: found.mediaType, digest: found.digest, size: found.size };
      const prepared = await prepareArtifact({
        files: files.map(fileSpec),
        artifactType: options.artifactType,
        config: options.config,
        annotations: { manifest: options.annotations },
        subject,
      });
      try {
        const result = await attachArtifact(destination, subject, prepared, {
          concurrency: this.#options.concurrency,
          signal,
          events: progressEvents(options.onProgress),
        });
        return transferResult(result);
      } finally {
        await prepared.cleanup();
      }
    });
  }

  /** The manifests whose subject is the one `reference` names, of `artifactType` when given. */
  async *referrers(
    reference: string,
    options: ReadOptions & { artifactType?: string } = {},
  ): AsyncIterable<Descriptor> {
    const { signal } = options;
    const found = await aborting('referrers', signal, async () => {
      const ref = parseReference(reference);
      await using target = await this.#openRead(ref);
      return listReferrers(target, await resolved(target, ref, options), options.artifactType, { signal });
    });
    yield* found;
  }

  /** Gives the manifest `reference` names more tags in the same repository; its descriptor. */
  async tag(
    reference: string,
    tags: readonly string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Descriptor> {
    const { signal } = options;
    return aborting('tag', signal, async () => {
      const ref = parseReference(reference);
      await using target = await openWriteTarget(ref, this.#open());
      const descriptor = await target.resolve(targetReference(ref), { signal });
      for (const tag of tags) await target.tag(descriptor, tag, { signal });
      return descriptor;
    });
  }

  /** Deletes the manifest a registry reference names (by digest, or the one its tag points at); its digest. */
  async delete(reference: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const { signal } = options;
    return aborting('delete', signal, async () => {
      const ref = parseReference(reference);
      if (ref.kind !== 'registry') {
        throw new TugError(`${formatReference(ref)}: only manifests in a registry can be deleted`, {
          code: 'UNSUPPORTED',
        });
      }
      const repository = this.#registryClient().repository(ref);
      const { digest } = await repository.resolve(targetReference(ref), { signal });
      await repository.deleteManifest(digest, { signal });
      return digest;
    });
  }

  /** Ends the connections. The client can be used again afterwards; it then reconnects. */
  async close(): Promise<void> {
    const transport = this.#transport;
    const registry = this.#registry;
    this.#transport = undefined;
    this.#registry = undefined;
    await registry?.close();
    await transport?.close();
  }

  /** Closes the client at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #registryClient(): RegistryClient {
    if (!this.#registry) {
      const transport = this.#transportOf();
      this.#registry = new RegistryClient({ transport, credentials: this.#credentials() });
    }
    return this.#registry;
  }

  #transportOf(): Transport {
    if (!this.#transport) {
      const { plainHttp, insecure, caFile, certFile, keyFile, env, userAgent, retry, timeouts } =
        this.#options;
      const transport = createTransport({
        plainHttp: plainHttp === true,
        insecure,
        caFile,
        certFile,
        keyFile,
        env,
        userAgent,
        retry,
        timeouts,
      });
      this.#transport = Array.isArray(plainHttp) ? withPlainHttp(transport, plainHttp) : transport;
    }
    return this.#transport;
  }

  #credentials(): CredentialLookup {
    const given = this.#options.credentials;
    if (typeof given === 'function') return given;
    return createCredentialLookup({
      configPath: this.#options.registryConfig,
      env: this.#options.env,
      warn: this.#options.onWarning,
      ...(given ? { flags: given } : {}),
    });
  }

  #open() {
    return { registry: async () => this.#registryClient() };
  }

  #openRead(ref: Reference): Promise<ReadTarget & AsyncDisposable> {
    return openReadTarget(ref, this.#open());
  }
}

/**
 * The descriptor `ref` names in `target`, narrowed to one platform when asked. With `readsManifest`
 * the caller reads the manifest next, and a registry is asked for it in the same request.
 */
async function resolved(
  target: ReadTarget,
  ref: Reference,
  options: { platform?: string; signal?: AbortSignal; readsManifest?: boolean },
): Promise<Descriptor> {
  const { platform, readsManifest, signal } = options;
  const { descriptor } = await resolveIn(target, targetReference(ref), {
    ...(platform ? { platform: parsePlatform(platform) } : {}),
    readsManifest,
    signal,
  });
  return descriptor;
}

/** Runs `work`; once `signal` has aborted, whatever stopped it becomes an `ABORTED` error naming `operation`. */
async function aborting<T>(
  operation: string,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  try {
    signal?.throwIfAborted();
    return await work();
  } catch (error) {
    if (signal?.aborted) throw new AbortedError(operation, signal.reason);
    throw error;
  }
}

/** `items`, ending with an `ABORTED` error naming `operation` once `signal` has aborted. */
async function* abortingIterable<T>(
  operation: string,
  signal: AbortSignal | undefined,
  items: AsyncIterable<T>,
): AsyncIterable<T> {
  try {
    for await (const item of items) {
      signal?.throwIfAborted();
      yield item;
    }
  } catch (error) {
    if (signal?.aborted) throw new AbortedError(operation, signal.reason);
    throw error;
  }
}

function fileSpec(file: PushFile): FileSpec {
  return { path: file.path, mediaType: file.mediaType, title: file.title };
}

function transferResult(result: CopyResult): TransferResult {
  const { root, bytes, copied, skipped, mounted } = result;
  return { digest: root.digest, mediaType: root.mediaType, size: root.size, bytes, copied, skipped, mounted };
}

function progressEvents(onProgress: ((event: ProgressEvent) => void) | undefined): CopyEvents | undefined {
  if (!onProgress) return undefined;
  return {
    onStart: ({ digest, size, mediaType }) => onProgress({ event: 'started', digest, size, mediaType }),
    onBytes: ({ digest }, bytes) => onProgress({ event: 'bytes', digest, bytes }),
    onDone: ({ digest, size }, outcome) => onProgress({ event: outcome, digest, size }),
  };
}

/** The same transport, with plain HTTP for the listed registries only. */
function withPlainHttp(transport: Transport, hosts: readonly string[]): Transport {
  const plain = new Set(hosts);
  return {
    send: transport.send,
    baseUrl: async (registry) =>
      plain.has(registry) ? new URL(`http://${registryApiHost(registry)}`) : transport.baseUrl(registry),
    close: () => transport.close(),
  };
}
