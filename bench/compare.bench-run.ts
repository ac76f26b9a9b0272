import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, it } from 'vitest';
import { type RegistryFixture, startRegistry } from '../test/fixtures/registry.js';
import { benchLayout } from './data.js';
import { measure, median, type Sample } from './measure.js';

const run = promisify(execFile);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const tug = (args: string[]) => measure(process.execPath, ['bin/tug', '--no-progress', ...args]);
const skopeo = (args: string[]) => measure('skopeo', ['--insecure-policy', ...args]);
const plain = ['--src-tls-verify=false', '--dest-tls-verify=false'];

let a: RegistryFixture;
const scratch: string[] = [];
const rows: string[] = [];

beforeAll(async () => {
  a = await startRegistry();
});

afterAll(async () => {
  await a?.stop();
  await Promise.all(scratch.map((path) => rm(path, { recursive: true, force: true })));
  console.log(
    [
      '',
      '| scenario | tug (median s) | skopeo (median s) | tug / skopeo |',
      '| --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
});

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/**
 * Times tug and skopeo alternately and records the medians. Each timed run gets a destination
 * that has never seen the blobs: a fresh registry, unless `shared` (the mount scenario) names one.
 */
async function compare(
  scenario: string,
  tugArgs: (round: number, destination: string) => string[],
  skopeoArgs: (round: number, destination: string) => string[],
  shared?: RegistryFixture,
): Promise<void> {
  const tugTimes: number[] = [];
  const skopeoTimes: number[] = [];
  const timed = async (
    command: typeof tug,
    args: (round: number, destination: string) => string[],
    round: number,
  ) => {
    const destination = shared ?? (await startRegistry());
    try {
      return (await command(args(round, destination.host))).seconds;
    } finally {
      if (!shared) await destination.stop();
    }
  };
  for (let round = 0; round < runs; round++) {
    const pair: Array<() => Promise<void>> = [
      async () => {
        tugTimes.push(await timed(tug, tugArgs, round));
      },
      async () => {
        skopeoTimes.push(await timed(skopeo, skopeoArgs, round));
      },
    ];
    if (round % 2 === 1) pair.reverse();
    for (const step of pair) await step();
  }
  const [t, s] = [median(tugTimes), median(skopeoTimes)];
  rows.push(`| ${scenario} | ${t.toFixed(3)} | ${s.toFixed(3)} | ${(t / s).toFixed(2)} |`);
}

function freshDir(name: string): string {
  const path = join(tmpdir(), `tug-bench-${name}-${process.pid}-${Math.random().toString(16).slice(2)}`);
  scratch.push(path);
  return path;
}

const datasets = [
  { name: '4 × 64 MiB', layers: 4, layerSize: 64 * 1024 * 1024 },
  { name: '64 × 1 MiB', layers: 64, layerSize: 1024 * 1024 },
  {
    name: '2-platform index, 2 × 2 × 16 MiB',
    layers: 2,
    layerSize: 16 * 1024 * 1024,
    architectures: ['amd64', 'arm64'],
  },
];

for (const dataset of datasets) {
  it(`transfers ${dataset.name}`, async () => {
    const layout = await benchLayout(dataset);
    scratch.push(layout);
    const slug = dataset.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const source = `${a.host}/src-${slug}:bench`;
    await run('skopeo', [
      '--insecure-policy',
      'copy',
      '--all',
      ...plain,
      `oci:${layout}:bench`,
      `docker://${source}`,
    ]);

    await compare(
      `push ${dataset.name} (layout → registry)`,
      (_i, host) => ['cp', `oci:${layout}:bench`, `${host}/push/${slug}:bench`],
      (_i, host) => ['copy', '--all', ...plain, `oci:${layout}:bench`, `docker://${host}/push/${slug}:bench`],
    );
    await compare(
      `pull ${dataset.name} (registry → layout)`,
      () => ['cp', source, `oci:${freshDir('pull')}:bench`],
      () => ['copy', '--all', ...plain, `docker://${source}`, `oci:${freshDir('pull')}:bench`],
      a,
    );
    await compare(
      `copy ${dataset.name} (registry → registry)`,
      (_i, host) => ['cp', source, `${host}/copy/${slug}:bench`],
      (_i, host) => ['copy', '--all', ...plain, `docker://${source}`, `docker://${host}/copy/${slug}:bench`],
    );
    await compare(
      `copy ${dataset.name} inside one registry (mount)`,
      (i, host) => ['cp', source, `${host}/mount-tug-${slug}-${i}:bench`],
      (i, host) => [
        'copy',
        '--all',
        ...plain,
        `docker://${source}`,
        `docker://${host}/mount-skopeo-${slug}-${i}:bench`,
      ],
      a,
    );
  });
}

it('starts up', async () => {
  const tugTimes: number[] = [];
  const skopeoTimes: number[] = [];
  for (let round = 0; round < 10; round++) {
    tugTimes.push((await measure(process.execPath, ['bin/tug', '--version'])).seconds);
    skopeoTimes.push((await measure('skopeo', ['--version'])).seconds);
  }
  const [t, s] = [median(tugTimes), median(skopeoTimes)];
  rows.push(`| startup (--version) | ${t.toFixed(3)} | ${s.toFixed(3)} | ${(t / s).toFixed(2)} |`);
});

it('keeps peak memory flat as blobs grow', async () => {
  const peaks: Array<[number, Sample]> = [];
  for (const size of [256 * 1024 * 1024, 1024 * 1024 * 1024]) {
    const layout = await benchLayout({ layers: 1, layerSize: size });
    scratch.push(layout);
    await run('skopeo', [
      '--insecure-policy',
      'copy',
      ...plain,
      `oci:${layout}:bench`,
      `docker://${a.host}/big-${size}:bench`,
    ]);
    await rm(layout, { recursive: true, force: true });
    const destination = await startRegistry();
    peaks.push([size, await tug(['cp', `${a.host}/big-${size}:bench`, `${destination.host}/big:bench`])]);
    await destination.stop();
  }
  for (const [size, sample] of peaks) {
    rows.push(
      `| tug peak RSS, one ${mib(size)} blob registry → registry | ${mib(sample.peakRss)} (${sample.seconds.toFixed(2)} s) | | |`,
    );
  }
});
