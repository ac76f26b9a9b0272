import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { NotFoundError, TugError, UsageError } from '../errors.js';
import { isManifestMediaType, MAX_MANIFEST_BYTES, readVerified } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { writeFileAtomically } from '../targets/atomic-file.js';
import type { WriteTarget } from '../targets/target.js';
import { Annotation } from './annotations.js';
import { type ExtractLimits, ensureParents, extractTarGzip } from './extract.js';
import { confinedPath } from './safe-path.js';

/** How a pull writes files. */
export interface FileTargetOptions {
  /** Refuse to replace files that exist. */
  keepOldFiles?: boolean;
  /** Trust titles that leave the directory (oras's --allow-path-traversal). */
  allowPathTraversal?: boolean;
  limits?: Partial<ExtractLimits>;
  /** Told what was skipped or changed while unpacking. */
  warn?: (message: string) => void;
  /** File names for untitled layers, by digest (a Helm chart's .tgz). */
  names?: ReadonlyMap<string, string>;
}

/** A file written by a pull, as the command reports it. */
export interface PulledFile {
  path: string;
  descriptor: Descriptor;
}

/**
 * Where `pull` copies to: each layer titled with `org.opencontainers.image.title` becomes a file
 * (or, when marked, an unpacked directory) under `root`, appearing under its final name only once
 * complete and verified. Manifests stay in memory so the walk can read them.
 */
export class FileTarget implements WriteTarget {
  readonly pulled: PulledFile[] = [];
  readonly #documents = new Map<string, Uint8Array>();
  readonly #created = new Set<string>();

  constructor(
    readonly root: string,
    readonly options: FileTargetOptions = {},
  ) {}

  async resolve(reference: string): Promise<Descriptor> {
    throw new NotFoundError(`a directory of pulled files has no reference ${reference}`);
  }

  async fetch(descriptor: Descriptor): Promise<Readable> {
    return Readable.from([await this.fetchBytes(descriptor)]);
  }

  async fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    const bytes = this.#documents.get(descriptor.digest);
    if (!bytes) throw new NotFoundError(`${descriptor.digest} was not pulled into memory`);
    return bytes;
  }

  /** A directory has no use for untitled blobs (configs, unnamed layers): reporting them present skips their download. */
  async exists(descriptor: Descriptor): Promise<boolean> {
    if (isManifestMediaType(descriptor.mediaType)) return this.#documents.has(descriptor.digest);
    return this.#title(descriptor) === undefined;
  }

  async push(descriptor: Descriptor, content: Readable): Promise<void> {
    const title = this.#title(descriptor);
    if (title === undefined) {
      this.#documents.set(descriptor.digest, await readVerified(content, descriptor, MAX_MANIFEST_BYTES));
      return;
    }
    await mkdir(this.root, { recursive: true });
    const name = this.options.allowPathTraversal ? title : confinedPath(title);
    await ensureParents(this.root, name, this.#created);
    const path = join(this.root, name);
    await this.#refuseOverwrite(name, path);
    if (descriptor.annotations?.[Annotation.unpack] === 'true') await this.#unpack(content, name);
    else await writeFileAtomically(path, content);
    this.pulled.push({ path: name, descriptor });
  }

  async tag(_descriptor: Descriptor, reference: string): Promise<void> {
    throw new UsageError(`pulled files cannot be tagged (${reference})`);
  }

  #title(descriptor: Descriptor): string | undefined {
    return descriptor.annotations?.[Annotation.title] ?? this.options.names?.get(descriptor.digest);
  }

  async #refuseOverwrite(name: string, path: string): Promise<void> {
    if (!this.options.keepOldFiles) return;
    if (await lstat(path).catch(() => undefined)) {
      throw new TugError(`refusing to overwrite ${name}: old files are kept`, {
        code: 'CONFLICT',
        transient: false,
        option: 'keepOldFiles',
      });
    }
  }

  /** Unpacks into a private staging directory, then moves the result into place. */
  async #unpack(content: Readable, name: string): Promise<void> {
    const staging = join(this.root, `.tug-unpack-${randomBytes(6).toString('hex')}`);
    await mkdir(staging, { mode: 0o700 });
    try {
      await extractTarGzip(content, staging, { limits: this.options.limits, warn: this.options.warn });
      for (const entry of await readdir(staging)) {
        const destination = join(this.root, entry);
        await this.#refuseOverwrite(entry, destination);
        await rm(destination, { recursive: true, force: true });
        await rename(join(staging, entry), destination);
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    if (!(await lstat(join(this.root, name)).catch(() => undefined))) {
      this.options.warn?.(`the packed directory ${name} did not contain ${name}/`);
    }
  }
}
