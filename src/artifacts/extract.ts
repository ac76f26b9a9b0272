import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as createExtract } from 'tar-stream';
import { SizeLimitError } from '../errors.js';
import { confinedPath, linkStaysInside, PathTraversalError } from './safe-path.js';

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

/** Creates the parents of `relative` inside `root`, refusing to pass through any symlink. */
export async function ensureParents(root: string, relative: string, created: Set<string>): Promise<void> {
  let current = '';
  for (const part of posix.dirname(relative).split('/')) {
    if (part === '.' || part === '') continue;
    current = current ? `${current}/${part}` : part;
    if (created.has(current)) continue;
    const path = join(root, current);
    const stats = await lstat(path).catch(() => undefined);
    if (stats?.isSymbolicLink()) {
      throw new PathTraversalError(`refusing to write "${relative}": "${current}" is a symbolic link`);
    }
    if (!stats) await mkdir(path, { mode: 0o755 });
    else if (!stats.isDirectory())
      throw new PathTraversalError(`refusing to write "${relative}": "${current}" is not a directory`);
    created.add(current);
  }
}

/**
 * Unpacks a gzipped tar into `root`, which must be a new, empty directory. Every name is confined
 * to `root`; links may point only inside it; devices and fifos are skipped; the uncompressed size
 * and the expansion ratio are capped, so a decompression bomb stops early.
 */
export async function extractTarGzip(
  source: Readable,
  root: string,
  options: ExtractOptions = {},
): Promise<void> {
  const limits = { ...defaultExtractLimits, ...options.limits };
  const warn = options.warn ?? (() => {});
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
  const created = new Set<string>();
  const seen = new Set<string>();
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
      const name = confinedPath(header.name);
      if (seen.has(name) && header.type !== 'directory') {
        warn(`skipping a second entry named "${name}"`);
        entry.resume();
        continue;
      }
      seen.add(name);
      const path = join(root, name);
      await ensureParents(root, name, created);
      switch (header.type) {
        case 'directory':
          if (!created.has(name)) {
            const stats = await lstat(path).catch(() => undefined);
            if (stats && !stats.isDirectory())
              throw new PathTraversalError(`refusing to write "${name}/": not a directory`);
            if (!stats) await mkdir(path, { mode: 0o755 });
            created.add(name);
          }
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file':
          await pipeline(
            entry,
            createWriteStream(path, { flags: 'wx', mode: header.mode & 0o111 ? 0o755 : 0o644 }),
          );
          break;
        case 'symlink':
          if (!linkStaysInside(name, header.linkname)) {
            throw new PathTraversalError(
              `refusing the link "${name}" -> "${header.linkname}": it points outside`,
            );
          }
          await symlink(header.linkname, path);
          entry.resume();
          break;
        case 'link': {
          const target = confinedPath(header.linkname);
          const stats = await lstat(join(root, target)).catch(() => undefined);
          if (!stats?.isFile() || !seen.has(target)) {
            throw new PathTraversalError(
              `refusing the hard link "${name}" -> "${header.linkname}": no such file in the archive`,
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
  })();
  try {
    await Promise.all([unpacking, writing]);
  } catch (error) {
    source.destroy();
    extract.destroy();
    throw error;
  }
}
