import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InvalidContentError, NotFoundError, SizeLimitError, UsageError } from '../errors.js';
import { isValidDigest, parseManifest, readVerified, successors, validateDescriptor } from '../oci/index.js';
import { isManifestMediaType, MAX_MANIFEST_BYTES } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import {
  assertBlobDirectories,
  blobPath,
  blobState,
  LayoutDirectories,
  notARegularFile,
  openVerifiedBlob,
  writeBlob,
} from './layout/blob-files.js';
import {
  assertValidRefName,
  emptyLayoutIndex,
  type LayoutIndex,
  parseLayoutIndex,
  refNameOf,
  serializeLayoutIndex,
  withoutRefName,
  withTaggedEntry,
} from './layout/index-file.js';
import { partialBlobSize, writeBlobFrom } from './layout/ingest.js';
import {
  createFileIfAbsent,
  isErrorCode,
  readSmallFile,
  replaceFileAtomically,
} from './layout/small-files.js';
import type { DiskWriter, ManifestDeleter, TagLister, Untagger, WriteTarget } from './target.js';

/** How an OCI layout is opened. */
export interface OciLayoutOptions {
  /** Create the layout on the first write when the directory is missing or empty. */
  create?: boolean;
  /** The largest manifest (and `index.json`) read; defaults to MAX_MANIFEST_BYTES. */
  maxManifestBytes?: number;
}

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LAYOUT_VERSION = '1.0.0';
const MAX_LAYOUT_FILE_BYTES = 64 * 1024;

/** An OCI image layout directory (the image-spec's image layout): `oci-layout`, `index.json`, `blobs/`. */
export class OciLayoutTarget implements WriteTarget, TagLister, ManifestDeleter, Untagger, DiskWriter {
  readonly writesToDisk = true;
  #layoutReady: Promise<void> | undefined;
  #indexUpdates: Promise<void> = Promise.resolve();
  readonly #pushes = new Map<string, Promise<void>>();
  readonly #directories: LayoutDirectories;

  readonly #maxManifestBytes: number;

  constructor(
    readonly root: string,
    maxManifestBytes: number,
  ) {
    this.#maxManifestBytes = maxManifestBytes;
    this.#directories = new LayoutDirectories(root);
  }

  /** Ends an `await using` block; every write is finished before its call returns, so nothing is left to release. */
  async [Symbol.asyncDispose](): Promise<void> {}

  /**
   * A digest: the `index.json` entry for it, else the manifest blob itself. A tag: the entry whose
   * `org.opencontainers.image.ref.name` it is. An empty reference: the layout's only manifest.
   */
  async resolve(reference: string): Promise<Descriptor> {
    const index = await this.#readIndex();
    if (reference === '') return this.#soleManifest(index);
    if (isValidDigest(reference)) return this.#resolveDigest(index, reference);
    const entry = index.entries.find((candidate) => refNameOf(candidate.descriptor) === reference);
    if (entry === undefined) throw new NotFoundError(`tag ${reference} not found in OCI layout ${this.root}`);
    return withoutRefName(entry.descriptor);
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    return openVerifiedBlob(this.root, validateDescriptor(descriptor));
  }

  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    const checked = validateDescriptor(descriptor);
    this.#assertManifestSize(checked.digest, checked.size);
    return readVerified(await openVerifiedBlob(this.root, checked), checked, this.#maxManifestBytes);
  }

  /** Whether the layout holds `descriptor`. */
  async exists(descriptor: Descriptor): Promise<boolean> {
    const { state, size } = await blobState(blobPath(this.root, descriptor.digest));
    return state === 'file' && size === descriptor.size;
  }

  /** Concurrent pushes of one digest share a single write; a blob already stored is not rewritten. */
  async push(descriptor: Descriptor, content: Readable): Promise<void> {
    const checked = validateDescriptor(descriptor);
    const running = this.#pushes.get(checked.digest);
    if (running !== undefined) {
      await Promise.all([drain(content), running]);
      return;
    }
    const write = this.#store(checked, content).finally(() => this.#pushes.delete(checked.digest));
    this.#pushes.set(checked.digest, write);
    await write;
  }

  /** The bytes of a blob kept in the ingest directory by an interrupted copy. */
  async partialSize(descriptor: Descriptor): Promise<number> {
    return partialBlobSize(this.root, validateDescriptor(descriptor));
  }

  /** Continues a blob from the part kept in the ingest directory (`content` starts at `offset`). */
  async pushFrom(descriptor: Descriptor, offset: number, content: Readable): Promise<void> {
    const checked = validateDescriptor(descriptor);
    const running = this.#pushes.get(checked.digest);
    if (running !== undefined) {
      content.destroy();
      await running;
      return;
    }
    const write = (async () => {
      await this.#ensureLayout();
      const { state } = await blobState(blobPath(this.root, checked.digest));
      if (state === 'file') return drain(content);
      if (state === 'other') {
        content.destroy();
        throw notARegularFile(checked.digest, this.root);
      }
      await writeBlobFrom(this.#directories, checked, offset, content);
    })().finally(() => this.#pushes.delete(checked.digest));
    this.#pushes.set(checked.digest, write);
    await write;
  }

  /** Names a stored manifest in `index.json`, replacing the entry that held the name before. */
  async tag(descriptor: Descriptor, reference: string): Promise<void> {
    assertValidRefName(reference);
    const checked = validateDescriptor(descriptor);
    if (!(await this.exists(checked))) {
      throw new NotFoundError(`cannot tag ${reference}: ${checked.digest} is not in OCI layout ${this.root}`);
    }
    await this.#ensureLayout();
    await this.#updateIndex((index) => withTaggedEntry(index, checked, reference));
  }

  /**
   * Removes index entries: a tag removes the entry of that name, a digest every entry of that
   * manifest. Then the blobs of its graph that no remaining entry reaches are removed; blobs other
   * images share stay.
   */
  async deleteManifest(reference: string): Promise<Descriptor> {
    const byDigest = isValidDigest(reference);
    if (!byDigest) assertValidRefName(reference);
    const named = (entry: LayoutIndex['entries'][number]) =>
      byDigest ? entry.descriptor.digest === reference : refNameOf(entry.descriptor) === reference;
    let removed: Descriptor | undefined;
    let remaining: Descriptor[] = [];
    await this.#updateIndex((index) => {
      const match = index.entries.find(named);
      if (match === undefined) {
        throw new NotFoundError(
          `${byDigest ? 'manifest' : 'tag'} ${reference} not found in OCI layout ${this.root}`,
        );
      }
      removed = withoutRefName(match.descriptor);
      const kept = index.entries.filter((entry) => !named(entry));
      remaining = kept.map((entry) => entry.descriptor);
      return { document: index.document, entries: kept };
    });
    if (removed === undefined) throw new NotFoundError(`${reference} not found in OCI layout ${this.root}`);
    const reachable = new Set<string>();
    for (const descriptor of remaining) await this.#collectGraph(descriptor, reachable);
    const graph = new Set<string>();
    await this.#collectGraph(removed, graph);
    for (const digest of graph) {
      if (!reachable.has(digest)) await rm(blobPath(this.root, digest), { force: true });
    }
    return removed;
  }

  /** Adds the digests of `descriptor`'s graph that the layout holds to `into`; missing blobs are passed over. */
  async #collectGraph(descriptor: Descriptor, into: Set<string>): Promise<void> {
    if (into.has(descriptor.digest) || !(await this.exists(descriptor))) return;
    into.add(descriptor.digest);
    if (!isManifestMediaType(descriptor.mediaType)) return;
    const { manifest } = parseManifest(await this.fetchBytes(descriptor), descriptor.mediaType);
    for (const child of successors(manifest)) await this.#collectGraph(child, into);
  }

  /** Drops the `index.json` entry named `reference`; the blobs stay, as other entries may share them. */
  async untag(reference: string): Promise<Descriptor> {
    const entry = (await this.#readIndex()).entries.find(
      (candidate) => refNameOf(candidate.descriptor) === reference,
    );
    if (entry === undefined) throw new NotFoundError(`tag ${reference} not found in OCI layout ${this.root}`);
    await this.#updateIndex((index) => ({
      document: index.document,
      entries: index.entries.filter((other) => refNameOf(other.descriptor) !== reference),
    }));
    return withoutRefName(entry.descriptor);
  }

  /** The tags of the layout's index. */
  async *tags(): AsyncIterable<string> {
    const index = await this.#readIndex();
    const names = index.entries.flatMap((entry) => refNameOf(entry.descriptor) ?? []);
    yield* new Set(names);
  }

  async #store(descriptor: Descriptor, content: Readable): Promise<void> {
    await this.#ensureLayout();
    const { state } = await blobState(blobPath(this.root, descriptor.digest));
    if (state === 'file') return drain(content);
    if (state === 'other') {
      content.destroy();
      throw notARegularFile(descriptor.digest, this.root);
    }
    await writeBlob(this.#directories, descriptor, content);
  }

  #soleManifest(index: LayoutIndex): Descriptor {
    const [only, ...others] = index.entries;
    if (only === undefined) throw new NotFoundError(`OCI layout ${this.root} holds no manifest`);
    if (others.length > 0) {
      const tags = index.entries.flatMap((entry) => refNameOf(entry.descriptor) ?? []);
      throw new UsageError(
        `OCI layout ${this.root} holds ${index.entries.length} manifests: name one by tag or digest`,
        {
          hint: tags.length > 0 ? `tags in the layout: ${tags.join(', ')}` : undefined,
        },
      );
    }
    return withoutRefName(only.descriptor);
  }

  async #resolveDigest(index: LayoutIndex, digest: string): Promise<Descriptor> {
    const entry = index.entries.find((candidate) => candidate.descriptor.digest === digest);
    if (entry !== undefined) return withoutRefName(entry.descriptor);
    const { state, size } = await blobState(blobPath(this.root, digest));
    if (state === 'absent')
      throw new NotFoundError(`manifest ${digest} not found in OCI layout ${this.root}`);
    if (state === 'other') throw notARegularFile(digest, this.root);
    this.#assertManifestSize(digest, size);
    const bytes = await readVerified(await openVerifiedBlob(this.root, { digest, size }), { digest, size });
    const { mediaType, manifest } = parseManifest(bytes);
    const artifactType = manifest.artifactType;
    return artifactType === undefined
      ? { mediaType, digest, size }
      : { mediaType, digest, size, artifactType };
  }

  #assertManifestSize(digest: string, size: number): void {
    if (size > this.#maxManifestBytes) {
      throw new SizeLimitError(
        `manifest ${digest} is ${size} bytes, over the limit of ${this.#maxManifestBytes}`,
      );
    }
  }

  async #readIndex(): Promise<LayoutIndex> {
    const path = join(this.root, INDEX_FILE);
    const bytes = await readSmallFile(path, this.#maxManifestBytes);
    return bytes === undefined ? emptyLayoutIndex() : parseLayoutIndex(bytes, path);
  }

  /** Read-modify-write of `index.json`, one at a time within this process, each an atomic replace. */
  #updateIndex(change: (index: LayoutIndex) => LayoutIndex): Promise<void> {
    const update = this.#indexUpdates.then(async () => {
      const next = change(await this.#readIndex());
      await replaceFileAtomically(join(this.root, INDEX_FILE), serializeLayoutIndex(next));
    });
    this.#indexUpdates = update.catch(() => undefined);
    return update;
  }

  #ensureLayout(): Promise<void> {
    this.#layoutReady ??= this.#createLayoutFiles().catch((error: unknown) => {
      this.#layoutReady = undefined;
      throw error;
    });
    return this.#layoutReady;
  }

  async #createLayoutFiles(): Promise<void> {
    await assertRegularFiles(this.root, [LAYOUT_FILE, INDEX_FILE]);
    await assertBlobDirectories(this.root);
    await mkdir(this.root, { recursive: true });
    await createFileIfAbsent(
      join(this.root, LAYOUT_FILE),
      `${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`,
    );
    await createFileIfAbsent(join(this.root, INDEX_FILE), serializeLayoutIndex(emptyLayoutIndex()));
  }
}

/**
 * Opens the layout at `path`. Without `create`, a missing directory is a NotFoundError and a
 * directory without `oci-layout` an InvalidContentError; with it, a missing or empty directory is
 * accepted and the layout files are written on the first push or tag.
 */
export async function openOciLayout(path: string, options: OciLayoutOptions = {}): Promise<OciLayoutTarget> {
  const create = options.create ?? false;
  const target = new OciLayoutTarget(path, options.maxManifestBytes ?? MAX_MANIFEST_BYTES);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    if (!isErrorCode(error, 'ENOENT')) throw error;
    if (create && looksLikeTarball(path)) {
      throw new UsageError(`oci:${path} would create a directory named like a tarball`, {
        hint: `a tarred OCI layout is written with oci-archive:${path}`,
      });
    }
    if (create) return target;
    throw new NotFoundError(`no OCI layout at ${path}`);
  }
  if (!isDirectory) {
    throw new InvalidContentError(`${path} is not a directory, so not an OCI layout`, {
      hint: looksLikeTarball(path)
        ? `a tarred OCI layout is ${create ? 'written' : 'read'} with oci-archive:${path}`
        : undefined,
    });
  }
  const layoutFile = await readSmallFile(join(path, LAYOUT_FILE), MAX_LAYOUT_FILE_BYTES);
  if (layoutFile === undefined) {
    if (create && (await readdir(path)).length === 0) return target;
    throw new InvalidContentError(`${path} is not an OCI layout: it has no ${LAYOUT_FILE} file`, {
      hint: create ? 'write to a new or empty directory' : undefined,
    });
  }
  assertSupportedLayout(layoutFile, path);
  return target;
}

function looksLikeTarball(path: string): boolean {
  return /\.(tar|tar\.gz|tgz)$/i.test(path);
}

function assertSupportedLayout(bytes: Uint8Array, path: string): void {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new InvalidContentError(`${join(path, LAYOUT_FILE)} is not valid JSON`);
  }
  const version =
    typeof document === 'object' && document !== null
      ? Reflect.get(document, 'imageLayoutVersion')
      : undefined;
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new InvalidContentError(`${path} has an unsupported imageLayoutVersion ${JSON.stringify(version)}`);
  }
}

/** Refuses a layout file that is there but is a symlink or not a regular file; absent is fine. */
async function assertRegularFiles(root: string, names: string[]): Promise<void> {
  for (const name of names) {
    const path = join(root, name);
    const info = await lstat(path).catch((error: unknown) => {
      if (isErrorCode(error, 'ENOENT') || isErrorCode(error, 'ENOTDIR')) return undefined;
      throw error;
    });
    if (info !== undefined && !info.isFile()) {
      throw new InvalidContentError(`${path} is a symbolic link or not a regular file`);
    }
  }
}

async function drain(content: Readable): Promise<void> {
  content.resume();
  await finished(content);
}
