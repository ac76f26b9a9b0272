import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readlink, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as createExtract } from 'tar-stream';
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
  const limits = { ...defaultExtractLimits, ...options.limits };
  const warn = options.warn ?? (() => {});
  const prefix =
    options.prefix === undefined ? undefined : posix.normalize(options.prefix).replace(/\/+$/, '');
  const { read, at } = placedLinks(root, options.placement);
  const shown = (relative: string) => (at ? posix.join(at, relative) : relative);
  let compressed = 0;
  let uncompressed = 0;
  const checkLimits = (n: number) => {
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
  };
  const makeDirectory = async (path: string, mode: number, name: string) => {
    const stats = await lstat(path).catch(() => undefined);
    if (!stats) await mkdir(path, { mode });
    else if (!stats.isDirectory())
      throw new PathTraversalError(`refusing to unpack ${name}/: it is not a directory`);
  };
  const refuseLink = async (relative: string, target: string) => {
    const unsafe = await linkEscape(shown(relative), target, read);
    if (unsafe) throw new PathTraversalError(`refusing the link ${shown(relative)} -> ${target}: ${unsafe}`);
  };
  const seen = new Set<string>();
  const files = new Set<string>();
  const links: string[] = [];
  const extract = createExtract();
  const unpacking = pipeline(
    source,
    counter((n) => {
      compressed += n;
    }),
    createGunzip(),
    counter(checkLimits),
    extract,
  );
  const writing = (async () => {
    for await (const entry of extract) {
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
        continue;
      }
      if (seen.has(name) && header.type !== 'directory') {
        warn(`skipping a second entry named "${name}"`);
        entry.resume();
        continue;
      }
      seen.add(name);
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
          files.add(name);
          break;
        case 'symlink':
          await refuseLink(name, header.linkname ?? '');
          await symlink(header.linkname ?? '', path);
          links.push(name);
          entry.resume();
          break;
        case 'link': {
          const target = entryPath(header.linkname ?? '', prefix);
          if (files.has(target)) await makeParents(root, target);
          const stats = files.has(target) ? await lstat(join(root, target)) : undefined;
          if (!stats?.isFile()) {
            throw new PathTraversalError(
              `refusing the hard link ${shown(name)} -> ${header.linkname}: ${header.linkname} is not a file of this archive`,
            );
          }
          await link(join(root, target), path);
          entry.resume();
          break;
        }
        default:
          warn(`skipping "${name}": ${header.type} entries are not unpacked`);
          entry.resume();
      }
    }
    await makeDirectory(root, 0o755, prefix ?? '.');
    // A link planted before the links it climbs through looked safe when it was made.
    for (const relative of links) {
      const path = join(root, relative);
      const target = await readlink(path);
      await refuseLink(relative, target).catch(async (error: unknown) => {
        await rm(path, { force: true });
        throw error;
      });
    }
  })();
  try {
    await Promise.all([unpacking, writing]);
  } catch (error) {
    source.destroy();
    extract.destroy();
    throw error;
  }
  return { links };
}
