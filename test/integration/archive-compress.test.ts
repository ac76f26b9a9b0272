import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { buildImageLayout } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface Manifest {
  config: { digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
}

let registry: RegistryFixture;
let archive: string;

beforeAll(async () => {
  registry = await startRegistry();
  const image = await buildImageLayout({ layers: 2, layerSize: 64 * 1024 });
  archive = join(await tempDir(), 'saved.tar');
  // skopeo writes a docker-archive as docker save does: uncompressed layers.
  await skopeo([
    'copy',
    `oci:${image.layoutDir}:${image.tag}`,
    `docker-archive:${archive}:example.com/app:v1`,
  ]);
});

afterAll(async () => {
  await registry?.stop();
});

async function manifestAndConfig(ref: string): Promise<{ manifest: Manifest; diffIds: string[] }> {
  const manifest = JSON.parse((await runTug(['manifest', 'get', ref])).stdout) as Manifest;
  const config = JSON.parse((await runTug(['config', ref])).stdout) as { rootfs: { diff_ids: string[] } };
  return { manifest, diffIds: config.rootfs.diff_ids };
}

describe('docker-archive to a registry', () => {
  it('gzips the layers on the way, says so in --json, and skopeo reads the result', async () => {
    const ref = `${registry.host}/archived/app:gz`;
    const copied = await runTug(['--json', 'cp', `docker-archive:${archive}`, ref]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(JSON.parse(copied.stdout)).toMatchObject({ layersCompressed: 2, digestsChanged: true });
    const { manifest, diffIds } = await manifestAndConfig(ref);
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual([
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
    ]);
    for (const [i, layer] of manifest.layers.entries()) {
      const blob = (await runTug(['blob', 'get', `${registry.host}/archived/app@${layer.digest}`]))
        .stdoutBytes;
      expect(sha256(blob)).toBe(layer.digest);
      expect(blob.byteLength).toBe(layer.size);
      // The config's diff_ids stay the digests of the uncompressed layers.
      expect(sha256(gunzipSync(blob))).toBe(diffIds[i]);
    }
    const layout = await tempDir();
    await skopeo(['copy', ...registryTransportFlags(registry, 'src'), `docker://${ref}`, `oci:${layout}:x`]);
  });

  it('keeps the bytes with --no-compress', async () => {
    const ref = `${registry.host}/archived/app:plain`;
    const copied = await runTug(['--json', 'cp', '--no-compress', `docker-archive:${archive}`, ref]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(JSON.parse(copied.stdout).digestsChanged).toBeUndefined();
    const { manifest, diffIds } = await manifestAndConfig(ref);
    expect(manifest.layers.map((layer) => layer.digest)).toEqual(diffIds);
    expect(
      manifest.layers.every((layer) => layer.mediaType === 'application/vnd.docker.image.rootfs.diff.tar'),
    ).toBe(true);
  });
});
