import { constants, createWriteStream } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readlink, rename, rm } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, TugError, UsageError } from '../errors.js';
import { isManifestMediaType, MAX_MANIFEST_BYTES, readVerified } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import type { WriteTarget } from '../targets/target.js';
import { Annotation } from './annotations.js';
import { linkEscape, linksOnDisk, makeParents } from './confined-fs.js';
import { type ExtractLimits, extractTarGzip } from './extract.js';
import { confinedPath, PathTraversalError } from './safe-path.js';

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
  /** The manifest's layers: a blob that several layers share is pushed once, and written under each title. */
  layers?: readonly Descriptor[];
}

/** A file written by a pull, as the command reports it. */
export interface PulledFile {
  path: string;
  descriptor: Descriptor;
}

const isConfined = (name: string) => !(name === '..' || name.startsWith('../') || posix.isAbsolute(name));

const normalTitle = (title: string) => posix.normalize(title).replace(/\/+$/, '');

const ancestors = (title: string) => {
  const parts = title.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
};

/** Titles claimed so far, normalised. */
class Titles {
  readonly #titles = new Set<string>();
  readonly #parents = new Set<string>();

  claim(title: string): string {
    const name = normalTitle(title);
    if (this.#titles.has(name)) throw new TugError(`two layers are titled ${name}`);
    const outer = ancestors(name).find((parent) => this.#titles.has(parent));
    const inner = this.#parents.has(name)
      ? [...this.#titles].find((t) => t.startsWith(`${name}/`))
      : undefined;
    if (outer !== undefined || inner !== undefined) {
      const [parent, child] = outer !== undefined ? [outer, name] : [name, inner];
      throw new TugError(`the layer titled ${child} lies inside the layer titled ${parent}`);
    }
    this.#titles.add(name);
    for (const parent of ancestors(name)) this.#parents.add(parent);
    return name;
  }
}

/**
 * Refuses titles that would make the result depend on the order the layers arrive in: two
 * layers with one title (oras refuses them too), or one layer inside another's directory.
 */
export function refuseOverlappingTitles(titles: readonly string[]): void {
  const claimed = new Titles();
  for (const title of titles) claimed.claim(title);
}

/**
 * Where `pull` copies to: each layer titled with `org.opencontainers.image.title` becomes a file
 * (or, when marked, an unpacked directory) under `root`. Each layer is written into a private
 * staging directory first; moving it into place is done one layer at a time, with every
 * component below `root` checked on disk at that moment, and every link the pull made checked
 * again afterwards. Manifests stay in memory so the walk can read them.
 */
export class FileTarget implements WriteTarget {
  readonly pulled: PulledFile[] = [];
  readonly #documents = new Map<string, Uint8Array>();
  readonly #titles = new Titles();
  /** Links this pull made, relative to `root`. */
  readonly #links = new Set<string>();
  #placing: Promise<void> = Promise.resolve();

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
    const layers = this.#layersOf(descriptor);
    if (layers.length === 0) {
      this.#documents.set(descriptor.digest, await readVerified(content, descriptor, MAX_MANIFEST_BYTES));
      return;
    }
    const directory = descriptor.annotations?.[Annotation.unpack] === 'true';
    const names = layers.map(({ title }) =>
      this.#titles.claim(this.options.allowPathTraversal ? title : confinedPath(title)),
    );
    const [name, ...copies] = names as [string, ...string[]];
    if (directory && copies.length > 0) {
      throw new TugError(`one packed directory is titled both ${name} and ${copies[0]}`);
    }
    const confined = isConfined(name);
    const home = confined ? this.root : dirname(resolve(this.root, name));
    await mkdir(home, { recursive: true });
    const staging = await mkdtemp(join(home, '.tug-'));
    try {
      const staged = join(staging, 'content');
      let links: string[] = [];
      if (directory) {
        ({ links } = await extractTarGzip(content, staged, {
          limits: this.options.limits,
          warn: this.options.warn,
          prefix: name,
          ...(confined ? { placement: { root: this.root, at: name } } : {}),
        }));
      } else {
        await pipeline(content, createWriteStream(staged, { flags: 'wx', mode: 0o644 }));
      }
      for (const [i, copy] of copies.entries()) {
        const stagedCopy = join(staging, `copy-${i}`);
        await copyFile(staged, stagedCopy, constants.COPYFILE_EXCL);
        await this.#place(copy, stagedCopy, false, []);
      }
      await this.#place(name, staged, directory, links);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    for (const [i, path] of names.entries())
      this.pulled.push({ path, descriptor: layers[i]?.descriptor ?? descriptor });
  }

  async tag(_descriptor: Descriptor, reference: string): Promise<void> {
    throw new UsageError(`pulled files cannot be tagged (${reference})`);
  }

  #title(descriptor: Descriptor): string | undefined {
    return descriptor.annotations?.[Annotation.title] ?? this.options.names?.get(descriptor.digest);
  }

  /** The pushed layer first, then every other layer of the manifest with the same blob under another title. */
  #layersOf(descriptor: Descriptor): Array<{ title: string; descriptor: Descriptor }> {
    const found: Array<{ title: string; descriptor: Descriptor }> = [];
    for (const layer of [descriptor, ...(this.options.layers ?? [])]) {
      const title = this.#title(layer);
      if (layer.digest !== descriptor.digest || title === undefined) continue;
      if (!found.some((seen) => seen.title === title)) found.push({ title, descriptor: layer });
    }
    return found;
  }

  /** Moves one staged file or directory into place, with the other layers kept waiting. */
  #place(name: string, staged: string, directory: boolean, links: readonly string[]): Promise<void> {
    return this.#oneAtATime(async () => {
      const confined = isConfined(name);
      if (confined) await makeParents(this.root, name);
      await this.#replace(name, resolve(this.root, name), staged, directory);
      if (!confined) return;
      for (const link of links) this.#links.add(posix.join(name, link));
      await this.#checkLinks();
    });
  }

  #oneAtATime(task: () => Promise<void>): Promise<void> {
    const run = this.#placing.then(task);
    this.#placing = run.catch(() => undefined);
    return run;
  }

  /** Moves a staged file or directory to `destination`, replacing what is there (a link is replaced, never followed). */
  async #replace(name: string, destination: string, staged: string, directory: boolean): Promise<void> {
    const existing = await lstat(destination).catch(() => undefined);
    if (existing && this.options.keepOldFiles) {
      throw new TugError(`refusing to overwrite ${name}: old files are kept`, {
        code: 'CONFLICT',
        transient: false,
        option: 'keepOldFiles',
      });
    }
    if (existing?.isDirectory() && !directory) {
      throw new TugError(`refusing to replace the directory ${name} with a file`);
    }
    if (existing && directory) await rm(destination, { recursive: true, force: true });
    await rename(staged, destination);
  }

  /** Every link this pull made must still resolve inside `root` now that another layer is in place. */
  async #checkLinks(): Promise<void> {
    const read = linksOnDisk(this.root);
    for (const link of this.#links) {
      const path = join(this.root, link);
      const stats = await lstat(path).catch(() => undefined);
      if (!stats?.isSymbolicLink()) {
        this.#links.delete(link);
        continue;
      }
      const target = await readlink(path);
      const unsafe = await linkEscape(link, target, read);
      if (unsafe) {
        await rm(path, { force: true });
        this.#links.delete(link);
        throw new PathTraversalError(`refusing the link ${link} -> ${target}: ${unsafe}`);
      }
    }
  }
}
