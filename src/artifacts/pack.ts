import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as createPack, type Header, type Pack } from 'tar-stream';
import { MediaType } from '../oci/index.js';
import type { Descriptor } from '../oci/types.js';
import { Annotation } from './annotations.js';
import { hashing } from './file-blob.js';

/**
 * Every packed entry gets this time and no owner, so a directory packs to the same bytes twice;
 * modes keep their permission bits only (no setuid, setgid or sticky bit).
 */
const fixedTime = new Date(0);

type EntryHeader = Partial<Header> & Pick<Header, 'name'>;

function header(name: string, fields: Partial<Header>): EntryHeader {
  return { name, mtime: fixedTime, uid: 0, gid: 0, uname: '', gname: '', ...fields };
}

/** One entry: a file's content streamed from `source`, or an entry with no content. */
function writeEntry(pack: Pack, entry: EntryHeader, source?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    if (!source) {
      pack.entry(entry, '', done);
      return;
    }
    const sink = pack.entry(entry, done);
    createReadStream(source)
      .on('error', (error) => {
        sink.destroy(error);
        reject(error);
      })
      .pipe(sink);
  });
}

/** Adds `directory` under the name `prefix`, children sorted by name, depth first. */
async function addTree(pack: Pack, directory: string, prefix: string): Promise<void> {
  const mode = (await stat(directory)).mode & 0o777;
  await writeEntry(pack, header(`${prefix}/`, { type: 'directory', mode }));
  const children = (await readdir(directory)).sort();
  for (const child of children) {
    const path = join(directory, child);
    const name = posix.join(prefix, child);
    const stats = await lstat(path);
    if (stats.isDirectory()) await addTree(pack, path, name);
    else if (stats.isSymbolicLink()) {
      await writeEntry(pack, header(name, { type: 'symlink', linkname: await readlink(path), mode: 0o777 }));
    } else if (stats.isFile()) {
      await writeEntry(
        pack,
        header(name, { type: 'file', size: stats.size, mode: stats.mode & 0o777 }),
        path,
      );
    }
  }
}

export interface PackedDirectory {
  path: string;
  descriptor: Descriptor;
  remove(): Promise<void>;
}

/**
 * Packs a directory as tar+gzip into a private temporary file, the way oras does: the layer is
 * titled `name`, marked for unpacking, and carries the digest of the uncompressed tar.
 */
export async function packDirectory(directory: string, name: string): Promise<PackedDirectory> {
  const workspace = await mkdtemp(join(tmpdir(), 'tug-pack-'));
  const path = join(workspace, 'layer.tar.gz');
  const remove = () => rm(workspace, { recursive: true, force: true });
  const tarHash = createHash('sha256');
  const gzipHash = createHash('sha256');
  let size = 0;
  const pack = createPack();
  const fill = async () => {
    try {
      await addTree(pack, directory, name.replace(/\/+$/, ''));
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
      throw error;
    }
  };
  try {
    await Promise.all([
      pipeline(
        pack,
        hashing(tarHash),
        createGzip(),
        hashing(gzipHash, (n) => {
          size += n;
        }),
        createWriteStream(path, { mode: 0o600 }),
      ),
      fill(),
    ]);
  } catch (error) {
    await remove();
    throw error;
  }
  const descriptor: Descriptor = {
    mediaType: MediaType.ociLayerGzip,
    digest: `sha256:${gzipHash.digest('hex')}`,
    size,
    annotations: {
      [Annotation.contentDigest]: `sha256:${tarHash.digest('hex')}`,
      [Annotation.unpack]: 'true',
      [Annotation.title]: name,
    },
  };
  return { path, descriptor, remove };
}
