import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { pack as createPack } from 'tar-stream';
import { NotFoundError, TugError, UsageError } from '../../errors.js';
import {
  createVerifier,
  isIndex,
  isIndexMediaType,
  isManifestMediaType,
  isValidDigest,
  MAX_MANIFEST_BYTES,
  MediaType,
  parseDigest,
  parseManifest,
  readVerified,
  validateDescriptor,
} from '../../oci/index.js';
import type { Descriptor } from '../../oci/types.js';
import type { Closable, WriteTarget } from '../target.js';
import type { ArchiveImageEntry } from './docker-manifest.js';
import { normaliseImageName, selectImage, splitImageName } from './image-names.js';
import { DockerArchiveReader } from './reader.js';
import { TarIndex } from './tar-index.js';

/** An image whose manifest was pushed: the archive entries of its config and layers, and its names. */
interface WrittenImage {
  descriptor: Descriptor;
  bytes: Uint8Array;
  config: string;
  layers: string[];
  /** The legacy ID of the top layer: the hex of its digest. */
  topLayer: string | undefined;
  names: string[];
}

const imageConfigMediaTypes = new Set<string>([MediaType.dockerConfig, MediaType.ociConfig]);
/** Entries get a fixed time, so the same image writes the same archive twice. */
const ENTRY_TIME = new Date(0);

const onePlatformOnly = () =>
  new UsageError('docker-archive holds one platform: pick one', {
    hint: 'to keep every platform, copy to an OCI layout: oci:DIR',
    option: 'platforms',
  });

/** Entry names as skopeo writes them: `<hex>.json` for a config, `<hex>.tar` for a layer (stored as given). */
function entryName(descriptor: Descriptor): string {
  const { hex } = parseDigest(descriptor.digest);
  return imageConfigMediaTypes.has(descriptor.mediaType) ? `${hex}.json` : `${hex}.tar`;
}

/**
 * Writes a `docker save` tarball that `docker load`, `podman load` and skopeo read. Blobs are
 * appended one at a time to a temporary tar beside FILE, each verified while it streams; image
 * manifests only record which entries make an image; `close()` adds `manifest.json` and
 * `repositories` and renames the tar onto FILE. A failed push spoils the archive: `close()` then
 * removes the temporary file and leaves FILE untouched, as it does when no image was pushed.
 */
export class DockerArchiveWriter implements WriteTarget, Closable {
  readonly #pack = createPack();
  readonly #output: Promise<void>;
  readonly #pushes = new Map<string, Promise<void>>();
  readonly #written = new Map<string, string>();
  readonly #images: WrittenImage[] = [];
  #appends: Promise<void> = Promise.resolve();
  #failure: unknown;
  #closing: Promise<void> | undefined;

  readonly #temporary: string;
  readonly #imageName: string | undefined;
  readonly #existing: HeldImage[];

  private constructor(
    readonly path: string,
    temporary: string,
    file: Awaited<ReturnType<typeof open>>,
    imageName: string | undefined,
    /** The images the file already holds; writing must not drop any of them. */
    existing: HeldImage[],
  ) {
    this.#temporary = temporary;
    this.#imageName = imageName;
    this.#existing = existing;
    this.#output = pipelineAsync(this.#pack, createWriteStream(temporary, { fd: file, flush: true }));
    this.#output.catch((error: unknown) => this.#fail(error));
  }

  /** Creates the temporary file `FILE.tmp-*` beside `path` at once, so a bad directory fails early. */
  static async create(path: string, imageName?: string): Promise<DockerArchiveWriter> {
    const name = imageName === undefined ? undefined : normaliseImageName(imageName);
    const existing = await existingImages(path);
    if (name !== undefined) {
      const named = existing.filter((image) => image.names.length > 0);
      assertNothingDropped(path, named, [{ names: [name], config: '' }]);
    }
    const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    return new DockerArchiveWriter(path, temporary, await open(temporary, 'wx', 0o644), name, existing);
  }

  async resolve(reference: string): Promise<Descriptor> {
    if (isValidDigest(reference)) return this.#writtenImage(reference).descriptor;
    return selectImage(this.#images, reference === '' ? (this.#imageName ?? '') : reference, this.path)
      .descriptor;
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    return Readable.from([await this.fetchBytes(descriptor)]);
  }

  /** Only manifests can be read back: blobs are inside a tar that is not finished yet. */
  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    return this.#writtenImage(descriptor.digest).bytes;
  }

  async exists(descriptor: Descriptor): Promise<boolean> {
    return (
      this.#written.has(descriptor.digest) ||
      this.#images.some((image) => image.descriptor.digest === descriptor.digest)
    );
  }

  /** A blob becomes a tar entry; an image manifest records an image; an index is refused. */
  async push(descriptor: Descriptor, content: Readable): Promise<void> {
    if (this.#closing !== undefined) {
      content.destroy();
      throw new UsageError(`docker-archive ${this.path} is already closed`);
    }
    try {
      const checked = validateDescriptor(descriptor);
      if (isManifestMediaType(checked.mediaType)) await this.#recordImage(checked, content);
      else await this.#storeBlob(checked, content);
    } catch (error) {
      content.destroy();
      this.#fail(error);
      throw error;
    }
  }

  /**
   * Names a pushed image: `NAME:TAG` as given (normalised), a bare tag joined to the repository of
   * the archive's image name. A bare tag with no image name to join leaves the image unnamed, as
   * skopeo does; `docker load` then reports it by ID.
   */
  async tag(descriptor: Descriptor, reference: string): Promise<void> {
    const image = this.#writtenImage(descriptor.digest);
    const name = this.#imageNameFor(reference);
    if (name === undefined) return;
    for (const other of this.#images) other.names = other.names.filter((existing) => existing !== name);
    image.names.push(name);
  }

  close(): Promise<void> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  /** Closes the archive at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #imageNameFor(reference: string): string | undefined {
    if (reference.includes('/') || reference.includes(':')) return normaliseImageName(reference);
    if (this.#imageName === undefined) return undefined;
    return normaliseImageName(`${splitImageName(this.#imageName).repository}:${reference}`);
  }

  #writtenImage(digest: string): WrittenImage {
    const image = this.#images.find((candidate) => candidate.descriptor.digest === digest);
    if (image === undefined) {
      throw new NotFoundError(`${digest} is not a manifest written to docker-archive ${this.path}`, {
        hint: 'blobs in a docker-archive being written cannot be read back until it is closed',
      });
    }
    return image;
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
  }

  /** Concurrent pushes of one digest share one entry. */
  #storeBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    const running = this.#pushes.get(descriptor.digest);
    if (running !== undefined) {
      content.destroy();
      return running;
    }
    const name = entryName(descriptor);
    const append = this.#enqueue(() => this.#appendEntry(name, descriptor, content)).then(() => {
      this.#written.set(descriptor.digest, name);
    });
    this.#pushes.set(descriptor.digest, append);
    return append;
  }

  async #recordImage(descriptor: Descriptor, content: Readable): Promise<void> {
    if (isIndexMediaType(descriptor.mediaType)) throw onePlatformOnly();
    const bytes = await readVerified(content, descriptor, MAX_MANIFEST_BYTES);
    const { manifest } = parseManifest(bytes, descriptor.mediaType);
    if (isIndex(manifest)) throw onePlatformOnly();
    if (!imageConfigMediaTypes.has(manifest.config.mediaType)) {
      throw new UsageError(
        `docker-archive holds container images; ${descriptor.digest} is an artifact (config ${manifest.config.mediaType})`,
        { hint: 'copy artifacts to a registry or an OCI layout: oci:DIR' },
      );
    }
    const config = this.#entryOf(manifest.config);
    const layers = manifest.layers.map((layer) => this.#entryOf(layer));
    const top = manifest.layers.at(-1);
    if (this.#images.some((image) => image.descriptor.digest === descriptor.digest)) return;
    this.#images.push({
      descriptor,
      bytes,
      config,
      layers,
      topLayer: top && parseDigest(top.digest).hex,
      names: [],
    });
  }

  #entryOf(descriptor: Descriptor): string {
    const name = this.#written.get(descriptor.digest);
    if (name === undefined) {
      throw new NotFoundError(`${descriptor.digest} is not in docker-archive ${this.path}`, {
        hint: 'push the config and layers before the manifest that refers to them',
      });
    }
    return name;
  }

  /** Tar entries are written one after another; a spoilt archive takes no more. */
  #enqueue(append: () => Promise<void>): Promise<void> {
    const next = this.#appends.then(() => {
      if (this.#failure !== undefined) {
        throw new TugError(`docker-archive ${this.path} is not written: an earlier push failed`, {
          cause: this.#failure,
        });
      }
      return append();
    });
    this.#appends = next.catch(() => undefined);
    return next;
  }

  #appendEntry(name: string, expected: Descriptor, content: Readable): Promise<void> {
    return new Promise((resolve, reject) => {
      const sink = this.#pack.entry(
        { name, size: expected.size, mode: 0o644, mtime: ENTRY_TIME, type: 'file' },
        (error) => (error ? reject(error) : resolve()),
      );
      const verified = pipeline(content, createVerifier(expected), (error) => {
        if (!error) return;
        reject(error);
        sink.destroy(error);
      });
      sink.on('error', reject);
      verified.pipe(sink);
    });
  }

  async #finish(): Promise<void> {
    await this.#appends;
    if (this.#failure !== undefined || this.#images.length === 0) {
      this.#pack.destroy();
      await this.#output.catch(() => undefined);
      await rm(this.#temporary, { force: true });
      return;
    }
    try {
      this.#nameUnnamedImage();
      assertNothingDropped(this.path, this.#existing, this.#images);
      await this.#appendDocument('manifest.json', this.#archiveManifest());
      await this.#appendLegacyLayers();
      await this.#appendDocument('repositories', this.#repositories());
      this.#pack.finalize();
      await this.#output;
      await rename(this.#temporary, this.path);
    } catch (error) {
      this.#pack.destroy();
      await rm(this.#temporary, { force: true });
      throw error;
    }
  }

  /** The archive's image name goes to the last image pushed when the copy named none. */
  #nameUnnamedImage(): void {
    const last = this.#images.at(-1);
    if (
      this.#imageName !== undefined &&
      last !== undefined &&
      this.#images.every((image) => image.names.length === 0)
    ) {
      last.names.push(this.#imageName);
    }
  }

  #archiveManifest(): ArchiveImageEntry[] {
    return this.#images.map((image) => ({
      Config: image.config,
      RepoTags: image.names,
      Layers: image.layers,
    }));
  }

  /** The legacy `{"name": {"tag": "<top layer id>"}}` map; the top layer is named by its digest's hex. */
  #repositories(): Record<string, Record<string, string>> {
    const repositories: Record<string, Record<string, string>> = {};
    for (const image of this.#images) {
      const top = image.topLayer;
      if (top === undefined) continue;
      for (const name of image.names) {
        const { repository, tag } = splitImageName(name);
        repositories[repository] = { ...repositories[repository], [tag]: top };
      }
    }
    return repositories;
  }

  /**
   * `repositories` names each image by its top layer's legacy directory (`ID/layer.tar`,
   * `ID/json`, `ID/VERSION`), as docker save writes it; the layer.tar is a link to the stored
   * layer, so no byte is stored twice.
   */
  async #appendLegacyLayers(): Promise<void> {
    const tops = new Set(
      this.#images.flatMap((image) => (image.names.length > 0 && image.topLayer ? [image.topLayer] : [])),
    );
    for (const id of tops) {
      await this.#appendHeader({ name: `${id}/`, type: 'directory', mode: 0o755, mtime: ENTRY_TIME });
      await this.#appendDocument(`${id}/VERSION`, '1.0', false);
      await this.#appendDocument(`${id}/json`, { id });
      await this.#appendHeader({
        name: `${id}/layer.tar`,
        type: 'symlink',
        linkname: `../${id}.tar`,
        mode: 0o644,
        mtime: ENTRY_TIME,
      });
    }
  }

  #appendHeader(header: Parameters<ReturnType<typeof createPack>['entry']>[0]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pack.entry(header, (error) => (error ? reject(error) : resolve()));
    });
  }

  #appendDocument(name: string, document: unknown, json = true): Promise<void> {
    const bytes = Buffer.from(json ? JSON.stringify(document) : String(document));
    return new Promise((resolve, reject) => {
      this.#pack.entry({ name, size: bytes.byteLength, mode: 0o644, mtime: ENTRY_TIME }, bytes, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }
}

/** An image an existing archive holds: its names and the entry of its config. */
interface HeldImage {
  names: string[];
  config: string;
}

/** The images of the archive at `path`; none when there is no file or it is empty. */
async function existingImages(path: string): Promise<HeldImage[]> {
  const info = await stat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined || (info.isFile() && info.size === 0)) return [];
  if (!info.isFile()) throw new UsageError(`docker-archive ${path} is not a regular file`);
  try {
    const reader = await DockerArchiveReader.open(await TarIndex.scan(path));
    return reader.images.map((image) => ({ names: image.names, config: image.config.name }));
  } catch (error) {
    throw new UsageError(`${path} exists and is not a docker-archive: tug will not replace it`, {
      cause: error,
      hint: 'write to a new file, or remove it first',
    });
  }
}

/**
 * A docker-archive is written whole, so writing to an existing one replaces it. That is refused
 * unless every image it holds is written again: a named one under all of its names, an unnamed
 * one with the same config (a re-run of the same copy). A second image would otherwise silently
 * drop the first.
 */
function assertNothingDropped(path: string, existing: HeldImage[], written: HeldImage[]): void {
  const writtenNames = new Set(written.flatMap((image) => image.names));
  const dropped = existing.filter((image) =>
    image.names.length === 0
      ? !written.some((other) => other.config === image.config)
      : image.names.some((name) => !writtenNames.has(name)),
  );
  if (dropped.length === 0) return;
  const held = existing.map((image) => image.names.join(', ') || 'an unnamed image');
  throw new UsageError(`docker-archive ${path} already holds ${held.join('; ')}: writing would replace it`, {
    hint: 'a docker-archive is written whole: write to a new file or remove this one; oci-archive: and oci: add images to what they hold',
  });
}
