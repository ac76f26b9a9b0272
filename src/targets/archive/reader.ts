import { createHash, type Hash } from 'node:crypto';
import { pipeline, Readable, Transform, Writable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { InvalidContentError, NotFoundError } from '../../errors.js';
import {
  digestOf,
  isValidDigest,
  MAX_MANIFEST_BYTES,
  MediaType,
  readVerified,
  validateDescriptor,
  verifiedFrom,
} from '../../oci/index.js';
import type { Descriptor, ImageManifest } from '../../oci/types.js';
import type { ReadTarget } from '../target.js';
import { MAX_ARCHIVE_MANIFEST_BYTES, parseArchiveManifest } from './docker-manifest.js';
import { selectImage, tryNormaliseImageName } from './image-names.js';
import type { TarFile, TarIndex } from './tar-index.js';

/** Docker's media type of an uncompressed layer (as `docker save` stores them); media-types.ts lists only gzip. */
export const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

/** One image of the archive: its names (normalised RepoTags), its config file and layer files. */
export interface ArchiveImage {
  names: string[];
  config: TarFile;
  layers: TarFile[];
}

interface HashedFile {
  digest: string;
  size: number;
  /** The first bytes, enough to recognise gzip and zstd. */
  magic: Buffer;
  /** The digest and size of the file gzipped, when the reader compresses layers. */
  gzip?: { digest: string; size: number };
}

type Located =
  | { kind: 'manifest'; bytes: Buffer }
  | { kind: 'blob'; file: TarFile }
  | { kind: 'gzip'; file: TarFile };

export interface ArchiveReadOptions {
  /**
   * Serve plain-tar layers gzipped (as skopeo and crane push them): the manifest names the
   * compressed layers, so its digest differs from the uncompressed one. Each layer is compressed
   * once to learn its digest and again, identically, when it is read.
   */
  compressLayers?: boolean;
}

/** The one gzip setting used for both passes over a layer, so they give the same bytes. */
const gzipLayer = () => createGzip();

/** A sink that hashes what it is given and counts it. */
function hashSink(hash: Hash, count: (n: number) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      count(chunk.byteLength);
      done();
    },
  });
}

const MAGIC_BYTES = 4;

/** A layer's media type from its first bytes: docker save stores plain tars, other writers may compress. */
function layerMediaType(magic: Buffer): string {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return MediaType.dockerLayerGzip;
  if (magic.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return MediaType.ociLayerZstd;
  return DOCKER_LAYER_TAR;
}

/**
 * A `docker save` tarball read as a target. Its images have no registry manifest, so one is
 * synthesised per image: a Docker schema2 manifest whose config and layers are the files as
 * stored. Their digests need one pass over each file; that pass runs on the first resolve and
 * its result is kept.
 */
export class DockerArchiveReader implements ReadTarget {
  readonly #hashes = new Map<string, Promise<HashedFile>>();
  readonly #synthesised = new Map<ArchiveImage, Promise<Descriptor>>();
  readonly #manifests = new Map<string, Buffer>();
  readonly #blobs = new Map<string, TarFile>();
  readonly #gzipped = new Map<string, TarFile>();

  readonly #index: TarIndex;
  readonly #imageName: string | undefined;
  readonly #options: ArchiveReadOptions;

  constructor(
    index: TarIndex,
    readonly images: readonly ArchiveImage[],
    imageName: string | undefined,
    options: ArchiveReadOptions = {},
  ) {
    this.#index = index;
    this.#imageName = imageName;
    this.#options = options;
  }

  /** Ends an `await using` block; each read opens and closes the file itself. */
  async [Symbol.asyncDispose](): Promise<void> {}

  get path(): string {
    return this.#index.path;
  }

  /** How many plain-tar layers the synthesised manifests name gzipped (with `compressLayers`). */
  get compressedLayerCount(): number {
    return this.#gzipped.size;
  }

  /** Reads `manifest.json` of an indexed archive; a named image must be in it. */
  static async open(
    index: TarIndex,
    imageName?: string,
    options: ArchiveReadOptions = {},
  ): Promise<DockerArchiveReader> {
    if (!index.has('manifest.json')) {
      throw new InvalidContentError(`${index.path} is not a docker-archive: it has no manifest.json`, {
        hint: 'an OCI image layout is read with oci:DIR',
      });
    }
    const entries = parseArchiveManifest(
      await index.read(index.file('manifest.json'), MAX_ARCHIVE_MANIFEST_BYTES),
      index.path,
    );
    const images = entries.map((entry) => ({
      names: entry.RepoTags.flatMap((tag) => tryNormaliseImageName(tag) ?? []),
      config: index.file(entry.Config),
      layers: entry.Layers.map((layer) => index.file(layer)),
    }));
    if (imageName !== undefined) selectImage(images, imageName, index.path);
    return new DockerArchiveReader(index, images, imageName, options);
  }

  /**
   * The synthesised manifest of an image: an empty reference names the image the archive was
   * opened with (or its only image), a `NAME:TAG` picks by name, a digest by manifest digest.
   */
  async resolve(reference: string): Promise<Descriptor> {
    if (isValidDigest(reference)) {
      for (const image of this.images) {
        const descriptor = await this.#synthesise(image);
        if (descriptor.digest === reference) return descriptor;
      }
      throw new NotFoundError(`manifest ${reference} not found in docker-archive ${this.path}`);
    }
    return this.#synthesise(
      selectImage(this.images, reference === '' ? (this.#imageName ?? '') : reference, this.path),
    );
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    const checked = validateDescriptor(descriptor);
    const source = this.#open(await this.#locate(checked.digest));
    return verifiedFrom(source, checked);
  }

  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    const checked = validateDescriptor(descriptor);
    return readVerified(this.#open(await this.#locate(checked.digest)), checked, MAX_MANIFEST_BYTES);
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    try {
      await this.#locate(descriptor.digest);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  #open(located: Located): Readable {
    if (located.kind === 'manifest') return Readable.from([located.bytes]);
    if (located.kind === 'blob') return this.#index.open(located.file);
    return pipeline(this.#index.open(located.file), gzipLayer(), () => undefined);
  }

  /** A digest the archive holds; the images not synthesised yet are, before it is declared absent. */
  async #locate(digest: string): Promise<Located> {
    let found = this.#lookup(digest);
    if (found === undefined) {
      for (const image of this.images) await this.#synthesise(image);
      found = this.#lookup(digest);
    }
    if (found === undefined) throw new NotFoundError(`${digest} not found in docker-archive ${this.path}`);
    return found;
  }

  #lookup(digest: string): Located | undefined {
    const bytes = this.#manifests.get(digest);
    if (bytes !== undefined) return { kind: 'manifest', bytes };
    const file = this.#blobs.get(digest);
    if (file !== undefined) return { kind: 'blob', file };
    const gzipped = this.#gzipped.get(digest);
    return gzipped === undefined ? undefined : { kind: 'gzip', file: gzipped };
  }

  #synthesise(image: ArchiveImage): Promise<Descriptor> {
    let pending = this.#synthesised.get(image);
    if (pending === undefined) {
      pending = this.#buildManifest(image);
      this.#synthesised.set(image, pending);
    }
    return pending;
  }

  async #buildManifest(image: ArchiveImage): Promise<Descriptor> {
    const config = await this.#hash(image.config);
    const layers: Descriptor[] = [];
    for (const file of image.layers) {
      const layer = await this.#hash(file, this.#options.compressLayers === true);
      const mediaType = layerMediaType(layer.magic);
      if (layer.gzip && mediaType === DOCKER_LAYER_TAR) {
        this.#gzipped.set(layer.gzip.digest, file);
        layers.push({ mediaType: MediaType.dockerLayerGzip, ...layer.gzip });
      } else {
        layers.push({ mediaType, digest: layer.digest, size: layer.size });
      }
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: config.digest, size: config.size },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = digestOf(bytes);
    this.#manifests.set(digest, bytes);
    return { mediaType: MediaType.dockerManifest, digest, size: bytes.byteLength };
  }

  /** One streaming pass over a file, shared by every image that holds it. */
  #hash(file: TarFile, compress = false): Promise<HashedFile> {
    let pending = this.#hashes.get(file.name);
    if (pending === undefined) {
      pending = this.#hashFile(file, compress);
      this.#hashes.set(file.name, pending);
    }
    return pending;
  }

  async #hashFile(file: TarFile, compress: boolean): Promise<HashedFile> {
    const hash = createHash('sha256');
    let magic = Buffer.alloc(0);
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (magic.byteLength < MAGIC_BYTES) magic = Buffer.concat([magic, chunk]).subarray(0, MAGIC_BYTES);
        hash.update(chunk);
        size += chunk.byteLength;
        done(null, chunk);
      },
    });
    const gzipHash = createHash('sha256');
    let gzipSize = 0;
    const count = (n: number) => {
      gzipSize += n;
    };
    await (compress
      ? pipelineAsync(this.#index.open(file), tap, gzipLayer(), hashSink(gzipHash, count))
      : pipelineAsync(
          this.#index.open(file),
          tap,
          new Writable({ write: (_chunk, _encoding, done) => done() }),
        ));
    if (size !== file.size)
      throw new InvalidContentError(`docker-archive ${this.path}: "${file.name}" is cut short`);
    const digest = `sha256:${hash.digest('hex')}`;
    this.#blobs.set(digest, file);
    const gzip = compress ? { digest: `sha256:${gzipHash.digest('hex')}`, size: gzipSize } : undefined;
    return { digest, size, magic, ...(gzip ? { gzip } : {}) };
  }
}
