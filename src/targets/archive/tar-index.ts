import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as createExtract } from 'tar-stream';
import { InvalidContentError, NotFoundError, SizeLimitError } from '../../errors.js';
import { type ArchiveKind, archiveEntryName, symlinkTarget } from './entry-names.js';

/** The bytes of a regular file inside the archive: where its data starts, and how long it is. */
export interface TarFile {
  name: string;
  offset: number;
  size: number;
}

type IndexedEntry = { kind: 'file'; file: TarFile } | { kind: 'link'; target: string };

/** A tar block; an entry's data follows its 512-byte header. */
const TAR_HEADER_BYTES = 512;
/** Docker writes one link level for a shared layer; a longer chain is a loop or hostile. */
const MAX_LINK_HOPS = 16;

/**
 * The regular files and links of a tar file, found in one pass and never held in memory: each
 * file is read back later as a byte range of the tar.
 */
export class TarIndex {
  readonly #entries: ReadonlyMap<string, IndexedEntry>;

  private constructor(
    readonly path: string,
    entries: ReadonlyMap<string, IndexedEntry>,
    readonly kind: ArchiveKind,
  ) {
    this.#entries = entries;
  }

  /** Scans `path` once. Entry names that are absolute or climb out with `..` make the archive invalid. */
  static async scan(path: string, kind: ArchiveKind = 'docker-archive'): Promise<TarIndex> {
    const entries = new Map<string, IndexedEntry>();
    const extract = createExtract();
    const reading = pipeline(createReadStream(path), extract);
    const indexing = (async () => {
      for await (const entry of extract) {
        const { header } = entry;
        const name = archiveEntryName(header.name, path, kind);
        if (header.type === 'file' || header.type === 'contiguous-file') {
          entries.set(name, {
            kind: 'file',
            file: { name, offset: entry.offset + TAR_HEADER_BYTES, size: header.size },
          });
        } else if (header.type === 'symlink') {
          entries.set(name, { kind: 'link', target: symlinkTarget(name, header.linkname, path, kind) });
        } else if (header.type === 'link') {
          entries.set(name, { kind: 'link', target: archiveEntryName(header.linkname, path, kind) });
        }
        entry.resume();
      }
    })();
    try {
      await Promise.all([reading, indexing]);
    } catch (error) {
      extract.destroy();
      throw asArchiveError(error, path, kind);
    }
    return new TarIndex(path, entries, kind);
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The names of the regular files (links not followed). */
  *fileNames(): Iterable<string> {
    for (const [name, entry] of this.#entries) if (entry.kind === 'file') yield name;
  }

  /** The regular file `name` names, following links inside the archive. */
  file(name: string): TarFile {
    let current = archiveEntryName(name, this.path, this.kind);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const entry = this.#entries.get(current);
      if (entry === undefined)
        throw new InvalidContentError(`${this.kind} ${this.path} has no entry "${current}"`);
      if (entry.kind === 'file') return entry.file;
      current = entry.target;
    }
    throw new InvalidContentError(
      `${this.kind} ${this.path}: "${name}" is a chain of more than ${MAX_LINK_HOPS} links`,
    );
  }

  /** The data of one file, streamed from the tar. */
  open(file: TarFile): Readable {
    if (file.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: file.offset, end: file.offset + file.size - 1 });
  }

  /** A small file's bytes, refused over `maxBytes` before any read. */
  async read(file: TarFile, maxBytes: number): Promise<Buffer> {
    if (file.size > maxBytes) {
      throw new SizeLimitError(
        `${this.kind} ${this.path}: "${file.name}" is ${file.size} bytes, over the ${maxBytes}-byte limit`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of this.open(file)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (bytes.byteLength !== file.size) {
      throw new InvalidContentError(`${this.kind} ${this.path}: "${file.name}" is cut short`);
    }
    return bytes;
  }
}

/** A missing file is not found; a file tar-stream cannot parse is not a tar. */
function asArchiveError(error: unknown, path: string, kind: ArchiveKind): unknown {
  if (error instanceof InvalidContentError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new NotFoundError(`${kind} ${path} does not exist`, { cause: error });
  if (code !== undefined) return error;
  return new InvalidContentError(`${kind} ${path} is not a readable tar file: ${(error as Error).message}`, {
    cause: error,
  });
}
