import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as createPack, type Pack } from 'tar-stream';
import { UsageError } from '../../errors.js';
import { createVerifier } from '../../oci/index.js';
import type { Descriptor } from '../../oci/types.js';
import { isErrorCode, temporaryPathBeside } from '../layout/small-files.js';
import { type OciLayoutTarget, openOciLayout } from '../oci-layout.js';
import type { Closable, TagLister, Untagger, WriteTarget } from '../target.js';
import { OciArchiveReader } from './oci-archive-reader.js';
import { TarIndex } from './tar-index.js';

/** Entries get a fixed time, so the same layout tars to the same bytes twice. */
const ENTRY_TIME = new Date(0);
const BLOB_ENTRY = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

/**
 * Writes a tarred OCI layout (`oci-archive:`), as skopeo and podman write it. The layout is built
 * in a hidden directory beside FILE by the layout target; `close()` tars it into a temporary file
 * and renames that onto FILE, so FILE is never half written. An existing archive is unpacked into
 * the directory first (each blob verified), so writing a tag keeps the images it already holds,
 * as `oci:` does. A failed push spoils the write: `close()` then leaves FILE as it was.
 */
export class OciArchiveWriter implements WriteTarget, TagLister, Untagger, Closable {
  #changed = false;
  #failure: unknown;
  #closing: Promise<void> | undefined;

  readonly #directory: string;
  readonly #layout: OciLayoutTarget;

  private constructor(
    readonly path: string,
    directory: string,
    layout: OciLayoutTarget,
  ) {
    this.#directory = directory;
    this.#layout = layout;
  }

  static async create(path: string): Promise<OciArchiveWriter> {
    const existing = await stat(path).catch((error: unknown) => {
      if (isErrorCode(error, 'ENOENT')) return undefined;
      throw error;
    });
    if (existing?.isDirectory()) {
      throw new UsageError(`oci-archive ${path} is a directory`, {
        hint: `an OCI layout directory is written with oci:${path}`,
      });
    }
    const directory = await mkdtemp(join(dirname(path), `.${basename(path)}.tug-`));
    try {
      if (existing !== undefined && existing.size > 0) await unpackLayout(path, directory);
      return new OciArchiveWriter(path, directory, await openOciLayout(directory, { create: true }));
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  resolve(reference: string): Promise<Descriptor> {
    return this.#layout.resolve(reference);
  }

  fetch(descriptor: Descriptor): Promise<Readable> {
    return this.#layout.fetch(descriptor);
  }

  fetchBytes(descriptor: Descriptor): Promise<Uint8Array> {
    return this.#layout.fetchBytes(descriptor);
  }

  exists(descriptor: Descriptor): Promise<boolean> {
    return this.#layout.exists(descriptor);
  }

  tags(): AsyncIterable<string> {
    return this.#layout.tags();
  }

  push(descriptor: Descriptor, content: Readable): Promise<void> {
    return this.#change(() => this.#layout.push(descriptor, content));
  }

  tag(descriptor: Descriptor, reference: string): Promise<void> {
    return this.#change(() => this.#layout.tag(descriptor, reference));
  }

  untag(reference: string): Promise<Descriptor> {
    return this.#change(() => this.#layout.untag(reference));
  }

  close(): Promise<void> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  /** Closes the archive at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #change<T>(write: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new UsageError(`oci-archive ${this.path} is already closed`);
    try {
      const result = await write();
      this.#changed = true;
      return result;
    } catch (error) {
      this.#failure ??= error;
      throw error;
    }
  }

  async #finish(): Promise<void> {
    try {
      if (this.#changed && this.#failure === undefined) await packLayout(this.#directory, this.path);
    } finally {
      await rm(this.#directory, { recursive: true, force: true });
    }
  }
}

/** Copies the layout files of an existing archive into `directory`; any other entry is left out. */
async function unpackLayout(path: string, directory: string): Promise<void> {
  const tar = await TarIndex.scan(path, 'oci-archive');
  await OciArchiveReader.open(tar);
  for (const name of tar.fileNames()) {
    const blob = BLOB_ENTRY.exec(name);
    if (blob === null && name !== 'oci-layout' && name !== 'index.json') continue;
    const file = tar.file(name);
    const target = join(directory, ...name.split('/'));
    await mkdir(dirname(target), { recursive: true });
    const source = tar.open(file);
    const output = createWriteStream(target, { flags: 'wx', mode: 0o644 });
    if (blob === null) await pipeline(source, output);
    else await pipeline(source, createVerifier({ digest: `${blob[1]}:${blob[2]}`, size: file.size }), output);
  }
}

/** Tars the layout in `directory` into a temporary file beside `path`, then renames it onto `path`. */
async function packLayout(directory: string, path: string): Promise<void> {
  const temporary = temporaryPathBeside(path);
  const pack = createPack();
  const output = pipeline(pack, createWriteStream(temporary, { flags: 'wx', mode: 0o644, flush: true }));
  try {
    await Promise.all([output, appendLayout(pack, directory)]);
    await rename(temporary, path);
  } catch (error) {
    pack.destroy();
    await output.catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

async function appendLayout(pack: Pack, directory: string): Promise<void> {
  await appendFile(pack, directory, 'oci-layout');
  await appendFile(pack, directory, 'index.json');
  await appendDirectory(pack, 'blobs');
  for (const algorithm of (await readdir(join(directory, 'blobs')).catch(() => [])).sort()) {
    await appendDirectory(pack, `blobs/${algorithm}`);
    for (const hex of (await readdir(join(directory, 'blobs', algorithm))).sort()) {
      if (BLOB_ENTRY.test(`blobs/${algorithm}/${hex}`))
        await appendFile(pack, directory, `blobs/${algorithm}/${hex}`);
    }
  }
  pack.finalize();
}

function appendDirectory(pack: Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name: `${name}/`, type: 'directory', mode: 0o755, mtime: ENTRY_TIME }, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

async function appendFile(pack: Pack, directory: string, name: string): Promise<void> {
  const path = join(directory, ...name.split('/'));
  const { size } = await stat(path);
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry({ name, size, mode: 0o644, mtime: ENTRY_TIME, type: 'file' }, (error) =>
      error ? reject(error) : resolve(),
    );
    pipeline(createReadStream(path), sink).catch(reject);
  });
}
