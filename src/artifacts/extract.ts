import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readlink, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as createExtract, type Extract } from 'tar-stream';
import { SizeLimitError } from '../errors.js';
import { type LinkReader, linkEscape, linksOnDisk, makeParents } from './confined-fs.js';
import { confinedPath, PathTraversalError } from './safe-path.js';

/** Caps on what an unpacked directory layer may expand to. */
export interface ExtractLimits {
  /** Most bytes a layer may unpack to. */
  maxBytes: number;
  /** Most uncompressed bytes per compressed byte, checked once `ratioFloor` bytes are out. */
  maxRatio: number;
  ratioFloor: number;
}

export const defaultExtractLimits: ExtractLimits = {
  maxBytes: 16 * 1024 ** 3,
  maxRatio: 200,
  ratioFloor: 64 * 1024 ** 2,
};

export interface ExtractOptions {
  limits?: Partial<ExtractLimits>;
  /** Told what was skipped or changed (an entry type that is not unpacked). */
  warn?: (message: string) => void;
  /**
   * The title of a directory layer: every entry must be this directory or lie under it, and is
   * unpacked relative to it (`docs/a` becomes `a`), so the layer never touches its siblings.
   */
  prefix?: string;
  /**
   * Where the unpacked directory will be moved: to `at` below `root`. Links are resolved as they
   * will be there, through what is on disk under `root`. By default, the unpacked directory is the root.
   */
  placement?: { root: string; at: string };
}

export interface Extracted {
  /** Every symbolic link unpacked, relative to the directory. */
  links: string[];
}

/** A pass-through that reports each chunk's size; `onBytes` may throw to stop the stream. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        onBytes(chunk.byteLength);
        done(null, chunk);
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/** Write only: create, refuse an existing name, never follow a link in the last component. */
const createOnly = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Permission bits only: setuid, setgid and sticky bits are dropped, and the umask applies. */
const fileMode = (mode: number | undefined) => (mode ?? 0o644) & 0o777;
/** A directory stays open to its owner, or its own children could not be unpacked. */
const directoryMode = (mode: number | undefined) => ((mode ?? 0o755) & 0o777) | 0o700;

/**
 * Where an entry goes below the directory: a relative path, or '' for the directory itself.
 * Throws when the name leaves the directory or, for a layer, lies outside its title.
 */
function entryPath(name: string, prefix: string | undefined): string {
  const normal = posix.normalize(name).replace(/\/+$/, '');
  if (normal === '.' || normal === '') return '';
  if (prefix === undefined) return confinedPath(name);
  if (normal === prefix) return '';
  if (!normal.startsWith(`${prefix}/`)) {
    throw new PathTraversalError(`refusing to unpack ${name}: it lies outside ${prefix}/`);
  }
  return confinedPath(normal.slice(prefix.length + 1));
}

/** Looks links up under the unpacked directory for its own paths, and under the placement root for the rest. */
function placedLinks(root: string, placement: ExtractOptions['placement']): { read: LinkReader; at: string } {
  if (!placement) return { read: linksOnDisk(root), at: '' };
  const inside = linksOnDisk(root);
  const outside = linksOnDisk(placement.root);
  const base = placement.at.split('/');
  return {
    at: placement.at,
    read: (components) =>
      components.length > base.length && base.every((part, i) => components[i] === part)
        ? inside(components.slice(base.length))
        : outside(components),
  };
}

/** Counters for both sides of the gunzip that stop the unpacking past the size or the expansion ratio. */
function expansionGuard(limits: ExtractLimits): {
  compressed: (n: number) => void;
  uncompressed: (n: number) => void;
} {
  let compressed = 0;
  let uncompressed = 0;
  return {
    compressed: (n) => {
      compressed += n;
    },
    uncompressed: (n) => {
      uncompressed += n;
      if (uncompressed > limits.maxBytes) {
        throw new SizeLimitError(`uncompressed size limit exceeded: over ${limits.maxBytes} bytes`, {
          hint: 'raise the limit if you trust this artifact',
          option: 'maxUnpackSize',
        });
      }
      if (uncompressed > limits.ratioFloor && uncompressed > compressed * limits.maxRatio) {
        throw new SizeLimitError(
          `uncompressed size limit exceeded: expands more than ${limits.maxRatio} times`,
          {
            hint: 'raise the limit if you trust this artifact',
            option: 'maxUnpackRatio',
          },
        );
      }
    },
  };
}

/** A directory at `path`, made when missing; anything else there is refused. */
async function makeDirectory(path: string, mode: number, name: string): Promise<void> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) await mkdir(path, { mode });
  else if (!stats.isDirectory())
    throw new PathTraversalError(`refusing to unpack ${name}/: it is not a directory`);
}

/** One entry as the tar reader yields it: its header, and its content as a stream. */
type TarEntry = Extract extends AsyncIterable<infer E> ? E : never;

/** Writes the entries of one archive under `root`, one at a time, and remembers what it wrote. */
class Unpacker {
  /** The symbolic links written, relative to the root. */
  readonly links: string[] = [];
  readonly #root: string;
  readonly #prefix: string | undefined;
  readonly #warn: (message: string) => void;
  readonly #read: LinkReader;
  readonly #at: string;
  readonly #seen = new Set<string>();
  readonly #files = new Set<string>();

  constructor(root: string, options: ExtractOptions) {
    this.#root = root;
    this.#prefix =
      options.prefix === undefined ? undefined : posix.normalize(options.prefix).replace(/\/+$/, '');
    this.#warn = options.warn ?? (() => {});
    ({ read: this.#read, at: this.#at } = placedLinks(root, options.placement));
  }

  #shown(relative: string): string {
    return this.#at ? posix.join(this.#at, relative) : relative;
  }

  async #refuseLink(relative: string, target: string): Promise<void> {
    const unsafe = await linkEscape(this.#shown(relative), target, this.#read);
    if (unsafe)
      throw new PathTraversalError(`refusing the link ${this.#shown(relative)} -> ${target}: ${unsafe}`);
  }

  async unpack(entry: TarEntry): Promise<void> {
    const root = this.#root;
    const prefix = this.#prefix;
    const { header } = entry;
    const name = entryPath(header.name, prefix);
    if (name === '') {
      if (header.type !== 'directory') {
        throw new PathTraversalError(
          `refusing to unpack ${header.name}: a directory layer must be a directory`,
        );
      }
      await makeDirectory(root, directoryMode(header.mode), header.name);
      entry.resume();
      return;
    }
    if (this.#seen.has(name) && header.type !== 'directory') {
      this.#warn(`skipping a second entry named "${name}"`);
      entry.resume();
      return;
    }
    this.#seen.add(name);
    await makeDirectory(root, 0o755, prefix ?? '.');
    await makeParents(root, name);
    const path = join(root, name);
    switch (header.type) {
      case 'directory':
        await makeDirectory(path, directoryMode(header.mode), name);
        entry.resume();
        break;
      case 'file':
      case 'contiguous-file':
        await pipeline(entry, (await open(path, createOnly, fileMode(header.mode))).createWriteStream());
        this.#files.add(name);
        break;
      case 'symlink':
        await this.#refuseLink(name, header.linkname ?? '');
        await symlink(header.linkname ?? '', path);
        this.links.push(name);
        entry.resume();
        break;
      case 'link': {
        const target = entryPath(header.linkname ?? '', prefix);
        if (this.#files.has(target)) await makeParents(root, target);
        const stats = this.#files.has(target) ? await lstat(join(root, target)) : undefined;
        if (!stats?.isFile()) {
          throw new PathTraversalError(
            `refusing the hard link ${this.#shown(name)} -> ${header.linkname}: ${header.linkname} is not a file of this archive`,
          );
        }
        await link(join(root, target), path);
        entry.resume();
        break;
      }
      default:
        this.#warn(`skipping "${name}": ${header.type} entries are not unpacked`);
        entry.resume();
    }
  }

  /** After the last entry: the root exists, and every link still resolves inside (else it is removed). */
  async finish(): Promise<void> {
    await makeDirectory(this.#root, 0o755, this.#prefix ?? '.');
    // A link planted before the links it climbs through looked safe when it was made.
    for (const relative of this.links) {
      const path = join(this.#root, relative);
      const target = await readlink(path);
      await this.#refuseLink(relative, target).catch(async (error: unknown) => {
        await rm(path, { force: true });
        throw error;
      });
    }
  }
}

/**
 * Unpacks a gzipped tar into `root` (created if missing; it should be new and private). Every
 * name is confined to `root`; nothing is written through a link; links must resolve inside,
 * through the links on disk, when the archive ends; hard links may only join two files of the
 * archive; devices and fifos are skipped; modes keep their permission bits, never an owner;
 * the uncompressed size and the expansion ratio are capped, so a decompression bomb stops early.
 */
export async function extractTarGzip(
  source: Readable,
  root: string,
  options: ExtractOptions = {},
): Promise<Extracted> {
  const guard = expansionGuard({ ...defaultExtractLimits, ...options.limits });
  const unpacker = new Unpacker(root, options);
  const extract = createExtract();
  const unpacking = pipeline(
    source,
    counter(guard.compressed),
    createGunzip(),
    counter(guard.uncompressed),
    extract,
  );
  const writing = (async () => {
    for await (const entry of extract) await unpacker.unpack(entry);
    await unpacker.finish();
  })();
  try {
    await Promise.all([unpacking, writing]);
  } catch (error) {
    source.destroy();
    extract.destroy();
    throw error;
  }
  return { links: unpacker.links };
}
