import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openDockerArchive } from '../../src/targets/docker-archive.js';
import { buildImageLayout } from '../fixtures/images.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}
interface Manifest {
  mediaType?: string;
  config: Blob;
  layers: Blob[];
}

const blobPath = (layout: string, digest: string) =>
  join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));

/** The image a single-manifest OCI layout holds, read with node:fs alone. */
async function readLayoutImage(layout: string) {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Blob[] };
  const root = index.manifests[0]!;
  const manifestBytes = await readFile(blobPath(layout, root.digest));
  const manifest = JSON.parse(manifestBytes.toString()) as Manifest;
  const config = JSON.parse(await readFile(blobPath(layout, manifest.config.digest), 'utf8')) as {
    rootfs: { diff_ids: string[] };
  };
  return { root, manifest, config, diffIds: config.rootfs.diff_ids };
}

async function streamBytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('docker-archive interop with skopeo', () => {
  it('reads an archive skopeo wrote: the same config digest, and layers whose contents are the diff_ids', async () => {
    const image = await buildImageLayout({ layers: 2 });
    const original = await readLayoutImage(image.layoutDir);
    const file = join(await tempDir(), 'from-skopeo.tar');
    await skopeo([
      'copy',
      `oci:${image.layoutDir}:${image.tag}`,
      `docker-archive:${file}:example.com/tug/app:v1`,
    ]);

    const archive = await openDockerArchive(file, 'read', { imageName: 'example.com/tug/app:v1' });
    const root = await archive.resolve('');
    const manifest = JSON.parse(Buffer.from(await archive.fetchBytes(root)).toString()) as Manifest;
    expect(manifest.config.digest).toBe(original.manifest.config.digest);
    expect(manifest.layers.map((layer) => layer.digest)).toEqual(original.diffIds);
    for (const [i, layer] of manifest.layers.entries()) {
      const stored = await readFile(blobPath(image.layoutDir, original.manifest.layers[i]!.digest));
      expect(await streamBytes(await archive.fetch(layer))).toEqual(gunzipSync(stored));
    }
  });

  // skopeo re-serialises a Docker config when it converts to OCI (its own archives too), so
  // the config digest is compared where skopeo reads the archive as is, the content after the copy.
  it.each([
    ['OCI', false],
    ['Docker', true],
  ])(
    'writes an archive of a %s image that skopeo inspects and copies to an OCI layout with the same config and diff_ids',
    async (_flavour, docker) => {
      const image = await buildImageLayout({ layers: 2, docker });
      const original = await readLayoutImage(image.layoutDir);
      const directory = await tempDir();
      const file = join(directory, 'from-tug.tar');

      const archive = await openDockerArchive(file, 'write');
      const { manifest } = original;
      await Promise.all(
        [manifest.config, ...manifest.layers].map((blob) =>
          archive.push(blob, createReadStream(blobPath(image.layoutDir, blob.digest))),
        ),
      );
      await archive.push(original.root, createReadStream(blobPath(image.layoutDir, original.root.digest)));
      await archive.tag(original.root, 'example.com/tug/app:v2');
      await archive.close();

      const raw = JSON.parse(
        (await skopeo(['inspect', '--raw', `docker-archive:${file}`])).stdout,
      ) as Manifest;
      expect(raw.config.digest).toBe(manifest.config.digest);
      const inspected = JSON.parse(
        (await skopeo(['inspect', `docker-archive:${file}:example.com/tug/app:v2`])).stdout,
      ) as {
        Layers: string[];
      };
      expect(inspected.Layers).toEqual(original.diffIds);

      const out = join(directory, 'layout');
      await skopeo(['copy', `docker-archive:${file}`, `oci:${out}:copied`]);
      const copied = await readLayoutImage(out);
      expect(copied.config).toEqual(original.config);
      expect(copied.diffIds).toEqual(original.diffIds);
    },
  );
});
