import { Readable } from 'node:stream';
import { DigestMismatchError, SizeLimitError, TransportError } from '../errors.js';
import {
  digestOf,
  isManifestMediaType,
  MAX_MANIFEST_BYTES,
  manifestMediaTypes,
  parseDigest,
  parseManifest,
} from '../oci/index.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { formatRepository } from '../ref/format.js';
import type { RepositoryName } from '../ref/types.js';
import { abortable, cleanupSignal, type SignalOptions } from '../signal.js';
import {
  closeBody,
  discardBody,
  headerValue,
  pacedChunks,
  readBodyBytes,
  readBodyJson,
  sameOrigin,
} from '../transport/index.js';
import type { HttpMethod, HttpRequest, HttpResponse, RequestBody } from '../transport/types.js';
import type { RegistryConnection } from './connection.js';
import { downloadBlob } from './download.js';
import { errorFromResponse, PreconditionFailedError } from './errors.js';
import { paginate } from './pagination.js';
import { type BlobUpload, openUpload } from './upload.js';

/** Caps and sizes a repository works with. */
export interface RepositoryOptions {
  maxManifestBytes: number;
  pageSize: number;
  maxPages: number;
  /** Blobs up to this size go in one streamed PUT; larger ones in chunks. */
  monolithicUploadMax: number;
  chunkSize: number;
}

export const defaultRepositoryOptions: RepositoryOptions = {
  maxManifestBytes: MAX_MANIFEST_BYTES,
  pageSize: 1000,
  maxPages: 10_000,
  monolithicUploadMax: 256 * 1024 * 1024,
  chunkSize: 16 * 1024 * 1024,
};

/** A manifest pushed, and the digest the registry answered with. */
export interface PushedManifest {
  descriptor: Descriptor;
  /** The registry said, with `OCI-Subject`, that it indexed the manifest's subject (referrers API). */
  subjectIndexed: boolean;
}

const acceptManifests = manifestMediaTypes.join(', ');

/** `4 MiB` for whole mebibytes, else bytes: sizes in messages. */
function formatSize(bytes: number): string {
  const mebibyte = 1024 * 1024;
  return bytes % mebibyte === 0 ? `${bytes / mebibyte} MiB` : `${bytes} bytes`;
}

/** A HEAD's Content-Length is the descriptor's size, or absent. */
function sizeAgrees(response: HttpResponse, size: number): boolean {
  const length = headerValue(response, 'content-length');
  return length === undefined || Number(length) === size;
}

function bareMediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim() || undefined;
}

/** One repository of a registry: manifests, blobs, uploads, mounts, tags, referrers. */
export class Repository {
  readonly #connect: () => Promise<RegistryConnection>;
  readonly #options: RepositoryOptions;

  constructor(
    readonly name: RepositoryName,
    connect: () => Promise<RegistryConnection>,
    options: Partial<RepositoryOptions> = {},
  ) {
    this.#connect = connect;
    this.#options = { ...defaultRepositoryOptions, ...options };
  }

  get #pull(): string[] {
    return [`repository:${this.name.repository}:pull`];
  }

  get #push(): string[] {
    return [`repository:${this.name.repository}:pull,push`];
  }

  #describe(what: string): string {
    return `${what} ${formatRepository(this.name)}`;
  }

  /** A tag or digest of this repository as a user writes it: `host/name:tag` or `host/name@digest`. */
  #named(reference: string): string {
    return `${formatRepository(this.name)}${reference.includes(':') ? '@' : ':'}${reference}`;
  }

  /** Reaches the registry (which scheme it speaks) without a request of this repository's own. */
  async connect(options: SignalOptions = {}): Promise<void> {
    await abortable(this.#connect(), options.signal);
  }

  async #request(
    method: HttpMethod,
    path: string,
    scopes: string[],
    extra: Partial<HttpRequest> = {},
  ): Promise<{ request: HttpRequest; response: HttpResponse }> {
    const { send, baseUrl } = await abortable(this.#connect(), extra.signal);
    const url = path.startsWith('http')
      ? new URL(path)
      : new URL(`/v2/${this.name.repository}/${path}`, baseUrl);
    const request: HttpRequest = { method, url, scopes, ...extra };
    return { request, response: await send(request) };
  }

  async #fail(operation: string, request: HttpRequest, response: HttpResponse): Promise<never> {
    throw await errorFromResponse(operation, request, response);
  }

  /** A tag or digest to its descriptor: HEAD, then GET when the registry does not give the digest. */
  async resolve(reference: string, options: SignalOptions = {}): Promise<Descriptor> {
    const operation = this.#describe(`resolve ${reference} in`);
    const { request, response } = await this.#request('HEAD', `manifests/${reference}`, this.#pull, {
      headers: { accept: acceptManifests },
      signal: options.signal,
    });
    discardBody(response);
    if (response.status !== 200) return this.#fail(operation, request, response);
    const digest = headerValue(response, 'docker-content-digest');
    const size = Number(headerValue(response, 'content-length'));
    const mediaType = bareMediaType(headerValue(response, 'content-type'));
    if (digest && Number.isSafeInteger(size) && mediaType && isManifestMediaType(mediaType)) {
      parseDigest(digest);
      if (reference.includes(':') && digest !== reference) throw new DigestMismatchError(reference, digest);
      return { mediaType, digest, size };
    }
    return (await this.fetchManifest(reference, options)).descriptor;
  }

  /** A manifest's exact bytes, capped before they are read and verified against their digest. */
  async fetchManifest(
    reference: string | Descriptor,
    options: SignalOptions = {},
  ): Promise<{ descriptor: Descriptor; bytes: Uint8Array; etag?: string }> {
    const wanted = typeof reference === 'string' ? reference : reference.digest;
    const byDigest = wanted.includes(':');
    const operation = this.#describe(`get manifest ${wanted} from`);
    const { request, response } = await this.#request('GET', `manifests/${wanted}`, this.#pull, {
      headers: { accept: acceptManifests },
      signal: options.signal,
    });
    if (response.status !== 200) return this.#fail(operation, request, response);
    const cap = this.#options.maxManifestBytes;
    const tooLarge = () =>
      new SizeLimitError(`manifest too large: ${this.#named(wanted)} is over ${formatSize(cap)}`);
    const declared = Number(headerValue(response, 'content-length'));
    if (Number.isFinite(declared) && declared > cap) {
      closeBody(response.body);
      throw tooLarge();
    }
    const bytes = await readBodyBytes(response, cap).catch((error: unknown) => {
      throw error instanceof SizeLimitError ? tooLarge() : error;
    });
    const digest = digestOf(bytes);
    if (byDigest && digest !== wanted) throw new DigestMismatchError(wanted, digest);
    const headerDigest = headerValue(response, 'docker-content-digest');
    if (headerDigest && headerDigest !== digest) throw new DigestMismatchError(headerDigest, digest);
    const { mediaType } = parseManifest(bytes, headerValue(response, 'content-type'));
    const etag = headerValue(response, 'etag');
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes, ...(etag ? { etag } : {}) };
  }

  /**
   * PUT a manifest. With a `precondition` the registry is asked to store it only if the tag is
   * still at that version (`If-Match`) or does not exist yet (`If-None-Match: *`); a registry that
   * refuses answers 412, thrown as PreconditionFailedError. Registries that ignore the headers store it.
   */
  async pushManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    precondition?: { ifMatch: string } | { ifNoneMatch: '*' },
    options: SignalOptions = {},
  ): Promise<PushedManifest> {
    const cap = this.#options.maxManifestBytes;
    if (bytes.byteLength > cap) {
      throw new SizeLimitError(
        `manifest too large: ${formatSize(bytes.byteLength)}, over the ${formatSize(cap)} limit`,
        { hint: 'registries only promise to accept manifests up to 4 MiB' },
      );
    }
    const digest = digestOf(bytes);
    const operation = this.#describe(`put manifest ${reference} to`);
    const conditions: Record<string, string> =
      precondition === undefined
        ? {}
        : 'ifMatch' in precondition
          ? { 'if-match': precondition.ifMatch }
          : { 'if-none-match': precondition.ifNoneMatch };
    const { request, response } = await this.#request('PUT', `manifests/${reference}`, this.#push, {
      headers: { 'content-type': mediaType, ...conditions },
      body: bytes,
      signal: options.signal,
    });
    if (response.status === 412) {
      discardBody(response);
      throw new PreconditionFailedError(`${this.#describe(reference)} changed while tug was updating it`);
    }
    if (response.status !== 201 && response.status !== 200) return this.#fail(operation, request, response);
    discardBody(response);
    const answered = headerValue(response, 'docker-content-digest');
    if (answered && answered !== digest) throw new DigestMismatchError(digest, answered);
    return {
      descriptor: { mediaType, digest, size: bytes.byteLength },
      subjectIndexed: headerValue(response, 'oci-subject') !== undefined,
    };
  }

  /** Deletes a manifest by digest. */
  deleteManifest(digest: string, options: SignalOptions = {}): Promise<void> {
    return this.#delete('manifests', digest, options);
  }

  /** Whether the registry holds a manifest or blob with this digest and size. */
  async exists(descriptor: Descriptor, options: SignalOptions = {}): Promise<boolean> {
    const kind = isManifestMediaType(descriptor.mediaType) ? 'manifests' : 'blobs';
    parseDigest(descriptor.digest);
    const { request, response } = await this.#request('HEAD', `${kind}/${descriptor.digest}`, this.#pull, {
      headers: kind === 'manifests' ? { accept: acceptManifests } : {},
      signal: options.signal,
    });
    discardBody(response);
    // A registry that holds other bytes under this digest (a size that differs) does not hold it.
    if (response.status === 200) return sizeAgrees(response, descriptor.size);
    if (response.status === 404) return false;
    return this.#fail(this.#describe(`check ${descriptor.digest} in`), request, response);
  }

  /** The size of a blob known only by digest. */
  async statBlob(digest: string, options: SignalOptions = {}): Promise<Descriptor> {
    parseDigest(digest);
    const { request, response } = await this.#request('HEAD', `blobs/${digest}`, this.#pull, {
      signal: options.signal,
    });
    discardBody(response);
    if (response.status !== 200) return this.#fail(this.#describe(`blob ${digest} in`), request, response);
    const size = Number(headerValue(response, 'content-length'));
    if (!Number.isSafeInteger(size) || size < 0)
      throw new TransportError(`${request.url.host} gave no size for ${digest}`);
    return { mediaType: 'application/octet-stream', digest, size };
  }

  /** One GET of a blob, from `offset` on (with Range) when it is not zero. */
  async #getBlob(
    descriptor: Descriptor,
    offset: number,
    signal: AbortSignal | undefined,
  ): Promise<{ response: HttpResponse; skip: number }> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const { request, response } = await this.#request('GET', `blobs/${descriptor.digest}`, this.#pull, {
      headers,
      signal,
    });
    if (response.status === 206 && offset > 0) {
      const range = /^bytes (\d+)-/.exec(headerValue(response, 'content-range') ?? '');
      if (Number(range?.[1]) !== offset) {
        closeBody(response.body);
        throw new TransportError(`${request.url.host} resumed ${descriptor.digest} at the wrong offset`);
      }
      return { response, skip: 0 };
    }
    if (response.status !== 200)
      return this.#fail(this.#describe(`get blob ${descriptor.digest} from`), request, response);
    const declared = Number(headerValue(response, 'content-length'));
    if (Number.isFinite(declared) && declared > descriptor.size) {
      closeBody(response.body);
      throw new SizeLimitError(
        `size exceeds descriptor: ${descriptor.digest} is served as ${declared} bytes, not ${descriptor.size}`,
      );
    }
    // A server that ignores Range sends everything again: the bytes already hashed are skipped.
    return { response, skip: offset };
  }

  /** The blob as a stream that fails on a size or digest mismatch before it ends; resumed when a connection breaks. */
  async fetchBlob(descriptor: Descriptor, options: SignalOptions = {}): Promise<Readable> {
    const { signal } = options;
    parseDigest(descriptor.digest);
    return downloadBlob({
      descriptor,
      first: await this.#getBlob(descriptor, 0, signal),
      resume: (offset) => this.#getBlob(descriptor, offset, signal),
      host: async () => (await this.#connect()).baseUrl.host,
      signal,
    });
  }

  /**
   * The blob's bytes from `offset` on (with Range), unverified: for a receiver that holds the
   * first `offset` bytes and verifies the whole. More than the rest of the blob is a size error.
   */
  async fetchBlobFrom(
    descriptor: Descriptor,
    offset: number,
    options: SignalOptions = {},
  ): Promise<Readable> {
    parseDigest(descriptor.digest);
    const { response, skip } = await this.#getBlob(descriptor, offset, options.signal);
    const rest = descriptor.size - offset;
    async function* chunks(): AsyncGenerator<Buffer> {
      let skipping = skip;
      let sent = 0;
      try {
        for await (let chunk of pacedChunks(response)) {
          if (skipping > 0) {
            const dropped = Math.min(skipping, chunk.byteLength);
            skipping -= dropped;
            chunk = chunk.subarray(dropped);
          }
          sent += chunk.byteLength;
          if (sent > rest) {
            throw new SizeLimitError(
              `size exceeds descriptor: ${descriptor.digest} is longer than ${descriptor.size} bytes`,
            );
          }
          if (chunk.byteLength > 0) yield chunk;
        }
      } finally {
        closeBody(response.body);
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** Uploads a blob, monolithic or in chunks. */
  async pushBlob(descriptor: Descriptor, body: RequestBody, options: SignalOptions = {}): Promise<void> {
    await (await this.openBlobUpload(descriptor, options)).send(body);
  }

  /** Opens the upload session of a blob whose bytes are not at hand yet; `send` gives them. */
  async openBlobUpload(descriptor: Descriptor, options: SignalOptions = {}): Promise<BlobUpload> {
    parseDigest(descriptor.digest);
    const connection = await abortable(this.#connect(), options.signal);
    return openUpload({
      connection,
      repository: this.name.repository,
      descriptor,
      scopes: this.#push,
      monolithicMax: this.#options.monolithicUploadMax,
      chunkSize: this.#options.chunkSize,
      describe: (what) => this.#describe(what),
      signal: options.signal,
    });
  }

  /** Cross-repository mount; false when the registry declines (the caller then uploads). */
  async mountBlob(
    descriptor: Descriptor,
    fromRepository: string,
    options: SignalOptions = {},
  ): Promise<boolean> {
    parseDigest(descriptor.digest);
    const query = new URLSearchParams({ mount: descriptor.digest, from: fromRepository });
    const { baseUrl } = await abortable(this.#connect(), options.signal);
    const scopes = [`repository:${fromRepository}:pull`, ...this.#push];
    const { response } = await this.#request('POST', `blobs/uploads/?${query}`, scopes, {
      signal: options.signal,
    });
    discardBody(response);
    if (response.status === 201) {
      const answered = headerValue(response, 'docker-content-digest');
      return answered === undefined || answered === descriptor.digest;
    }
    const location = headerValue(response, 'location');
    if (response.status === 202 && location) {
      const session = new URL(location, baseUrl);
      if (sameOrigin(session, baseUrl)) {
        const cancelled = await this.#request('DELETE', session.toString(), this.#push, {
          signal: cleanupSignal(options.signal),
        }).catch(() => undefined);
        if (cancelled) discardBody(cancelled.response);
      }
    }
    return false;
  }

  /**
   * Deletes a tag alone (distribution-spec's DELETE of a tag). False when the registry has no tag
   * deletion: distribution 2.8 answers 400 DIGEST_INVALID, others 405 UNSUPPORTED or 404.
   */
  async deleteTag(tag: string, options: SignalOptions = {}): Promise<boolean> {
    const scopes = [`repository:${this.name.repository}:delete`];
    const { request, response } = await this.#request(
      'DELETE',
      `manifests/${encodeURIComponent(tag)}`,
      scopes,
      {
        signal: options.signal,
      },
    );
    if (response.status === 202 || response.status === 200) {
      discardBody(response);
      return true;
    }
    if ([400, 404, 405, 501].includes(response.status)) {
      discardBody(response);
      return false;
    }
    return this.#fail(this.#describe(`delete tag ${tag} from`), request, response);
  }

  /** Deletes a blob by digest. */
  deleteBlob(digest: string, options: SignalOptions = {}): Promise<void> {
    return this.#delete('blobs', digest, options);
  }

  async #delete(kind: 'manifests' | 'blobs', digest: string, options: SignalOptions): Promise<void> {
    parseDigest(digest);
    const scopes = [`repository:${this.name.repository}:delete`];
    const { request, response } = await this.#request('DELETE', `${kind}/${digest}`, scopes, {
      signal: options.signal,
    });
    if (response.status !== 202 && response.status !== 200) {
      const what = kind === 'manifests' ? 'manifest' : 'blob';
      return this.#fail(this.#describe(`delete ${what} ${digest} from`), request, response);
    }
    discardBody(response);
  }

  /** Every tag, following Link pages (or `last=` when a full page has no Link), bounded and de-duplicated. */
  async *tags(options: SignalOptions = {}): AsyncIterable<string> {
    const connection = await abortable(this.#connect(), options.signal);
    const first = new URL(
      `/v2/${this.name.repository}/tags/list?n=${this.#options.pageSize}`,
      connection.baseUrl,
    );
    yield* paginate(connection, first, 'tags', this.#pull, this.#describe('list tags of'), {
      ...this.#options,
      signal: options.signal,
    });
  }

  /** The registry's referrers API, or undefined when it has none (404): the caller then uses the tag schema. */
  async referrers(
    subject: Descriptor,
    artifactType?: string,
    options: SignalOptions = {},
  ): Promise<Descriptor[] | undefined> {
    parseDigest(subject.digest);
    const path = `referrers/${subject.digest}${artifactType ? `?${new URLSearchParams({ artifactType })}` : ''}`;
    const { request, response } = await this.#request('GET', path, this.#pull, { signal: options.signal });
    if (response.status === 404 || response.status === 400 || response.status === 405) {
      discardBody(response);
      return undefined;
    }
    if (response.status !== 200)
      return this.#fail(this.#describe(`list referrers of ${subject.digest} in`), request, response);
    const index = await readBodyJson<Partial<ImageIndex>>(response, this.#options.maxManifestBytes);
    const manifests = Array.isArray(index.manifests) ? index.manifests : [];
    return artifactType ? manifests.filter((entry) => entry.artifactType === artifactType) : manifests;
  }
}
