import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

/** Writes `size` random bytes as a blob of the layout, streamed in 1 MiB chunks. */
async function randomBlob(layout: string, size: number, mediaType: string): Promise<Blob> {
  const temporary = join(layout, 'blobs', 'sha256', `.incoming-${Math.random().toString(16).slice(2)}`);
  const out = createWriteStream(temporary);
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < size; written += chunk.byteLength) {
    const piece = chunk.subarray(0, Math.min(chunk.byteLength, size - written));
    randomFillSync(piece);
    hash.update(piece);
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const digest = `sha256:${hash.digest('hex')}`;
  await rename(temporary, join(layout, 'blobs', 'sha256', digest.slice(7)));
  return { mediaType, digest, size };
}

async function jsonBlob(layout: string, value: unknown, mediaType: string): Promise<Blob> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.byteLength };
}

async function image(layout: string, layers: number, layerSize: number, architecture: string): Promise<Blob> {
  const layerBlobs: Blob[] = [];
  for (let i = 0; i < layers; i++) {
    layerBlobs.push(await randomBlob(layout, layerSize, 'application/vnd.oci.image.layer.v1.tar+gzip'));
  }
  const config = await jsonBlob(
    layout,
    {
      architecture,
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layerBlobs.map((layer) => layer.digest) },
    },
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: layerBlobs,
  };
  return jsonBlob(layout, manifest, manifest.mediaType);
}

/**
 * An OCI layout of random, incompressible layers (the worst case for a transfer), tagged `bench`.
 * With two architectures it is a two-platform index.
 */
export async function benchLayout(options: {
  layers: number;
  layerSize: number;
  architectures?: string[];
}): Promise<string> {
  const layout = await mkdtemp(join(tmpdir(), 'tug-bench-data-'));
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const architectures = options.architectures ?? ['amd64'];
  const manifests = [];
  for (const architecture of architectures) {
    manifests.push({
      ...(await image(layout, options.layers, options.layerSize, architecture)),
      platform: { os: 'linux', architecture },
    });
  }
  const root =
    manifests.length === 1
      ? manifests[0]!
      : await jsonBlob(
          layout,
          { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests },
          'application/vnd.oci.image.index.v1+json',
        );
  const { mediaType, digest, size } = root;
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType, digest, size, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }],
    }),
  );
  return layout;
}
