import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { type RegistryFixture, startRegistry } from '../test/fixtures/registry.js';
import { writeSection } from './document.js';
import { measure, median } from './measure.js';

/** Mirroring many small images: `tug sync` against `skopeo sync` of the same 50 repositories × 3 tags. */
const runs = Number(process.env.BENCH_RUNS ?? 3);
const repositories = Number(process.env.BENCH_SYNC_REPOSITORIES ?? 50);
const tagsPerRepository = 3;

let source: RegistryFixture;
let scratch: string;

const digestOf = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function pushBlob(registry: RegistryFixture, repository: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  const start = await fetch(`${registry.baseUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  const location = new URL(start.headers.get('location') ?? '', registry.baseUrl);
  location.searchParams.set('digest', digest);
  const done = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  await done.arrayBuffer();
  if (done.status !== 201) throw new Error(`blob upload to ${repository}: ${done.status}`);
  return digest;
}

/** A small image of its own (a 4 KiB layer, a config, a manifest) under `repository:tag`, straight through the API. */
async function pushSmallImage(registry: RegistryFixture, repository: string, tag: string): Promise<void> {
  const layer = randomBytes(4096);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: `${repository}:${tag}`,
      rootfs: { type: 'layers' },
    }),
  );
  const [layerDigest, configDigest] = [
    await pushBlob(registry, repository, layer),
    await pushBlob(registry, repository, config),
  ];
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: configDigest,
      size: config.length,
    },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
    ],
  });
  const response = await fetch(`${registry.baseUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: manifest,
  });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`manifest ${repository}:${tag}: ${response.status}`);
}

const names = Array.from({ length: repositories }, (_, i) => `bench/app-${i}`);
const tags = Array.from({ length: tagsPerRepository }, (_, i) => `1.${i}.0`);

beforeAll(async () => {
  source = await startRegistry();
  scratch = await mkdtemp(join(tmpdir(), 'tug-bench-sync-'));
  for (const name of names) for (const tag of tags) await pushSmallImage(source, name, tag);
}, 600_000);

afterAll(async () => {
  await source?.stop();
  await rm(scratch, { recursive: true, force: true });
});

it(`syncs ${repositories} repositories × ${tagsPerRepository} tags of small images`, async () => {
  const skopeoFile = join(scratch, 'skopeo.yaml');
  await writeFile(
    skopeoFile,
    [
      `${source.host}:`,
      '  tls-verify: false',
      '  images:',
      ...names.map((name) => `    ${name}: [${tags.join(', ')}]`),
    ].join('\n'),
  );
  const tugTimes: number[] = [];
  const skopeoTimes: number[] = [];
  for (let round = 0; round < runs; round++) {
    const steps = [
      async () => {
        const destination = await startRegistry();
        try {
          const file = join(scratch, `tug-${round}.yaml`);
          await writeFile(
            file,
            `sync:\n  - { source: ${source.host}/bench, target: ${destination.host}/mirror/bench, type: prefix }\n`,
          );
          tugTimes.push((await measure('bin/tug', ['sync', file])).seconds);
        } finally {
          await destination.stop();
        }
      },
      async () => {
        const destination = await startRegistry();
        try {
          const args = [
            '--insecure-policy',
            'sync',
            '--src',
            'yaml',
            '--dest',
            'docker',
            '--dest-tls-verify=false',
          ];
          skopeoTimes.push(
            (await measure('skopeo', [...args, skopeoFile, `${destination.host}/mirror`])).seconds,
          );
        } finally {
          await destination.stop();
        }
      },
    ];
    if (round % 2 === 1) steps.reverse();
    for (const step of steps) await step();
  }
  const [t, s] = [median(tugTimes), median(skopeoTimes)];
  const table = [
    '| scenario | tug (median s) | skopeo (median s) | tug / skopeo |',
    '| --- | --- | --- | --- |',
    `| sync ${repositories} repositories × ${tagsPerRepository} tags | ${t.toFixed(3)} | ${s.toFixed(3)} | ${(t / s).toFixed(2)} |`,
  ].join('\n');
  console.log(`\n${table}`);
  await writeSection(
    'sync',
    `Mirroring many small images (bench/sync.bench-run.ts), ${runs} rounds, medians:\n\n${table}`,
  );
});
