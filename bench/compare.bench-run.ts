import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, it } from 'vitest';
import { type RegistryFixture, startRegistry } from '../test/fixtures/registry.js';
import { benchLayout } from './data.js';
import { writeSection } from './document.js';
import { benchEnv, measure, median, type Sample, settling } from './measure.js';

const run = promisify(execFile);
const runs = Number(process.env.BENCH_RUNS ?? 3);
/** Another checkout of tug (built), timed in the same rounds: before/after figures on one machine state. */
const baseline = process.env.BENCH_BASELINE ? resolve(process.env.BENCH_BASELINE, 'bin/tug') : undefined;
const plain = ['--src-tls-verify=false', '--dest-tls-verify=false'];

/** One way to run a scenario: a command whose arguments may name the round's destination registry. */
interface Contender {
  command: string;
  args: (round: number, destination: string) => string[];
}

/** tug as a user runs it: `bin/tug` itself, through its `#!` line (see bin/tug), not `node bin/tug`. */
const tug = (args: Contender['args'], bin = 'bin/tug'): Contender => ({
  command: bin,
  args: (round, destination) => ['--no-progress', ...args(round, destination)],
});
const skopeo = (args: Contender['args']): Contender => ({
  command: 'skopeo',
  args: (round, destination) => ['--insecure-policy', ...args(round, destination)],
});

interface Row {
  scenario: string;
  tug: number;
  skopeo?: number;
  before?: number;
  /** What no client can beat: curl with an fsync per file, or Node starting and doing nothing. */
  floor?: { seconds: number; label: string };
  target?: { ratio: number; against: 'skopeo' | 'floor' };
  text?: string;
}

/** How busy the machine was when the run began: seconds mean little on a loaded machine. */
const startLoad = loadavg()[0] ?? 0;
let a: RegistryFixture;
const scratch: string[] = [];
const rows: Row[] = [];
const scenarios = ['4 × 64 MiB', '64 × 1 MiB', '2-platform index'] as const;
const finished = new Set<string>();
const expected = scenarios.length + 4;

const targets: Record<string, number> = {
  'push 4 × 64 MiB': 0.7,
  'push 64 × 1 MiB': 0.6,
  'pull 4 × 64 MiB': 0.9,
  'pull 64 × 1 MiB': 0.9,
  'copy 4 × 64 MiB': 0.9,
};

beforeAll(async () => {
  a = await startRegistry();
});

afterAll(async () => {
  await a?.stop();
  await Promise.all(scratch.map((path) => rm(path, { recursive: true, force: true })));
  const table = render(rows);
  console.log(`\n${table}`);
  if (finished.size === expected) await writeDocument(table);
});

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

function render(all: Row[]): string {
  const head = ['scenario', 'tug s', 'skopeo s', 'tug / skopeo'];
  if (baseline) head.push('before s', 'before / skopeo');
  head.push('floor', 'floor s', 'tug / floor', 'target', 'met');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const row of all) {
    if (row.text !== undefined) {
      const cells = [row.scenario, row.text, ...Array<string>(head.length - 2).fill('')];
      lines.push(`| ${cells.join(' | ')} |`);
      continue;
    }
    const ratio = (x: number, y: number | undefined) => (y ? (x / y).toFixed(2) : '');
    const cells = [
      row.scenario,
      row.tug.toFixed(3),
      row.skopeo?.toFixed(3) ?? '',
      ratio(row.tug, row.skopeo),
    ];
    if (baseline) cells.push(row.before?.toFixed(3) ?? '', row.before ? ratio(row.before, row.skopeo) : '');
    cells.push(
      row.floor?.label ?? '',
      row.floor?.seconds.toFixed(3) ?? '',
      ratio(row.tug, row.floor?.seconds),
    );
    if (row.target) {
      const against = row.target.against === 'skopeo' ? row.skopeo : row.floor?.seconds;
      const met = against !== undefined && row.tug / against <= row.target.ratio;
      cells.push(`≤ ${row.target.ratio} × ${row.target.against}`, met ? 'yes' : 'no');
    } else {
      cells.push('', '');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The generated part of docs/benchmark.md: what ran, on what, and the table. */
async function writeDocument(table: string): Promise<void> {
  const [{ stdout: skopeoVersion }, { stdout: curlVersion }, before] = await Promise.all([
    run('skopeo', ['--version']),
    run('curl', ['--version']),
    baseline ? run('git', ['-C', resolve(baseline, '../..'), 'rev-parse', '--short', 'HEAD']) : undefined,
  ]);
  const generated = [
    `Node ${process.version}, ${skopeoVersion.trim()}, ${curlVersion.split(' ').slice(0, 2).join(' ')}, ` +
      `${runs} rounds (at least ${QUICK_ROUNDS} for a scenario whose commands all took under ${QUICK_SECONDS} s, ` +
      `and for the one-request and start-up rows), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ` +
      `load average ${startLoad.toFixed(2)} at the start` +
      `; before each command, ${(settling.waitedMs / 1000).toFixed(0)} s in all waiting for a fresh page ` +
      `to cost at most 1.5 × the cheapest seen in the run, ${settling.settledPageMicros.toFixed(1)} µs ` +
      `(up to ${settling.worstPageMicros.toFixed(1)} µs)` +
      (before ? `; "before" is commit ${before.stdout.trim()}, timed in the same rounds` : '') +
      ':',
    '',
    table,
  ].join('\n');
  await writeSection('bench', generated);
}

/**
 * A scenario whose contenders all took under QUICK_SECONDS (medians of the first rounds) runs to
 * QUICK_ROUNDS rounds, as the one-request and start-up rows do: the machine's noise is a larger
 * part of a short command's time, and the extra rounds cost little. (It narrows the noise within
 * a run; from one run to the next, short scenarios moved as much with ten rounds as with five.)
 */
const QUICK_SECONDS = 1;
const QUICK_ROUNDS = 10;

/**
 * The index of the untimed round each scenario starts with. Rotation gave tug the first command
 * after every scenario change, and that place ran slow: tug's first copy of 4 × 64 MiB, right
 * after the pulls, took 1.51–2.05 s in four whole runs where its other rounds took 1.12–1.64 s;
 * with skopeo put first, tug's first round was its fastest (1.22 s). Past the timed rounds'
 * indices, so destinations named after the round stay apart.
 */
const WARM_UP_ROUND = runs + QUICK_ROUNDS;

/**
 * Times every contender in each round, rotating which goes first, and records the medians. An
 * untimed round of every contender comes first (see {@link WARM_UP_ROUND}). Each run gets a
 * destination that has never seen the blobs: a fresh registry, unless `shared` (a pull, or the
 * mount scenario) names one.
 */
async function compare(
  scenario: string,
  contenders: { tug: Contender; skopeo?: Contender; before?: Contender; floor?: Contender },
  options: { shared?: RegistryFixture; floorLabel?: string; targetKey?: string } = {},
): Promise<void> {
  const entries = Object.entries(contenders).filter((entry): entry is [string, Contender] => !!entry[1]);
  const times = new Map<string, number[]>(entries.map(([name]) => [name, []]));
  const medianOf = (name: string) => medianOfRounds(times, name);
  const timeRound = async (round: number) => {
    const order = [...entries.slice(round % entries.length), ...entries.slice(0, round % entries.length)];
    for (const [name, contender] of order) {
      const destination = options.shared ?? (await startRegistry());
      try {
        const sample = await measure(contender.command, contender.args(round, destination.host));
        if (round !== WARM_UP_ROUND) times.get(name)?.push(sample.seconds);
      } finally {
        await removeOutputs();
        if (!options.shared) await destination.stop();
      }
    }
  };
  await timeRound(WARM_UP_ROUND);
  for (let round = 0; round < runs; round++) await timeRound(round);
  const quick = entries.every(([name]) => (medianOf(name) ?? Number.POSITIVE_INFINITY) < QUICK_SECONDS);
  for (let round = runs; quick && round < QUICK_ROUNDS; round++) await timeRound(round);
  logRounds(scenario, times);
  const floor = medianOf('floor');
  const target = options.targetKey ? targets[options.targetKey] : undefined;
  rows.push({
    scenario,
    tug: medianOf('tug') ?? 0,
    skopeo: medianOf('skopeo'),
    before: medianOf('before'),
    floor: floor !== undefined ? { seconds: floor, label: options.floorLabel ?? '' } : undefined,
    target: target !== undefined ? { ratio: target, against: 'skopeo' } : undefined,
  });
}

/** What the command being timed writes into, removed once it ran (see {@link removeOutputs}). */
const outputs: string[] = [];

function freshDir(name: string): string {
  const path = join(tmpdir(), `tug-bench-${name}-${process.pid}-${Math.random().toString(16).slice(2)}`);
  scratch.push(path);
  outputs.push(path);
  return path;
}

/**
 * Removes what the command just timed wrote. Kept to the end of the run, the pulls' layouts (some
 * 10 GB) sent every later write into parts of the disk that had not been written before, and on
 * the virtual machines this ran on those took four times as long to write and fsync as parts
 * written and freed since (260 against 1,100 MB/s): a few rounds into pull 4 × 64 MiB, every
 * contender and the floor took 60 % longer or more, and the medians then hung on which
 * contender's rounds came before the change.
 */
async function removeOutputs(): Promise<void> {
  await Promise.all(outputs.splice(0).map((path) => rm(path, { recursive: true, force: true })));
}

interface Tree {
  manifests: string[];
  blobs: string[];
}

/** The median of a contender's rounds, or undefined when it ran none. */
function medianOfRounds(times: ReadonlyMap<string, number[]>, name: string): number | undefined {
  const seconds = times.get(name);
  return seconds?.length ? median(seconds) : undefined;
}

/**
 * Every round's time, in the order the rounds ran, on the console (not in the document): a median
 * does not show how far a run spread, or whether one contender had a slow stretch.
 */
function logRounds(scenario: string, times: ReadonlyMap<string, number[]>): void {
  const contenders = [...times].map(
    ([name, seconds]) => `${name} ${seconds.map((s) => s.toFixed(3)).join(' ')}`,
  );
  console.log(`${scenario}, each round in seconds: ${contenders.join('; ')}`);
}

const manifestAccept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

/** The digests of an image as the registry holds it (skopeo recompresses layers on the way in). */
async function registryTree(
  base: string,
  reference: string,
  tree: Tree = { manifests: [], blobs: [] },
): Promise<Tree> {
  const response = await fetch(`${base}/manifests/${reference}`, { headers: { accept: manifestAccept } });
  if (!response.ok) throw new Error(`${base}/manifests/${reference}: ${response.status}`);
  tree.manifests.push(response.headers.get('docker-content-digest') ?? reference);
  const manifest = (await response.json()) as {
    manifests?: Array<{ digest: string }>;
    config?: { digest: string };
    layers?: Array<{ digest: string }>;
  };
  for (const child of manifest.manifests ?? []) await registryTree(base, child.digest, tree);
  if (manifest.config) tree.blobs.push(manifest.config.digest);
  tree.blobs.push(...(manifest.layers ?? []).map((layer) => layer.digest));
  return tree;
}

/** Every manifest and blob of the image fetched at once by curl, then each file fsynced. */
async function curlFloor(registry: RegistryFixture, repository: string): Promise<Contender> {
  const base = `http://${registry.host}/v2/${repository}`;
  const tree = await registryTree(base, 'bench');
  return {
    command: 'sh',
    args: () => {
      const directory = freshDir('curl');
      const fetches = [
        ...tree.manifests.map((digest) => [`${base}/manifests/${digest}`, digest]),
        ...tree.blobs.map((digest) => [`${base}/blobs/${digest}`, digest]),
      ].flatMap(([url, digest]) => ['-o', join(directory, digest!.slice(7)), url!]);
      return [
        '-c',
        'directory=$1; shift; mkdir -p "$directory" && curl -sSfL --parallel --parallel-max 64 "$@" && sync "$directory"/*',
        'sh',
        directory,
        '-H',
        `Accept: ${manifestAccept}`,
        ...fetches,
      ];
    },
  };
}

const datasets = [
  { name: scenarios[0], layers: 4, layerSize: 64 * 1024 * 1024 },
  { name: scenarios[1], layers: 64, layerSize: 1024 * 1024 },
  {
    name: scenarios[2],
    label: '2-platform index, 2 × 2 × 16 MiB',
    layers: 2,
    layerSize: 16 * 1024 * 1024,
    architectures: ['amd64', 'arm64'],
  },
];

for (const dataset of datasets) {
  const label = dataset.label ?? dataset.name;
  it(`transfers ${label}`, async () => {
    const layout = await benchLayout(dataset);
    scratch.push(layout);
    const slug = dataset.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const repository = `src-${slug}`;
    const source = `${a.host}/${repository}:bench`;
    const oci = `oci:${layout}:bench`;
    await run('skopeo', ['--insecure-policy', 'copy', '--all', ...plain, oci, `docker://${source}`]);
    // `who` keeps the baseline's writes apart from this build's where they share a registry: the
    // second into the same repository would find the image there and skip it.
    const both = (
      tugArgs: (round: number, destination: string, who: 'tug' | 'before') => string[],
      skopeoArgs: Contender['args'],
    ) => ({
      tug: tug((round, destination) => tugArgs(round, destination, 'tug')),
      skopeo: skopeo(skopeoArgs),
      before: baseline
        ? tug((round, destination) => tugArgs(round, destination, 'before'), baseline)
        : undefined,
    });

    await compare(
      `push ${label} (layout → registry)`,
      both(
        (_i, host) => ['cp', oci, `${host}/push/${slug}:bench`],
        (_i, host) => ['copy', '--all', ...plain, oci, `docker://${host}/push/${slug}:bench`],
      ),
      { targetKey: `push ${dataset.name}` },
    );
    await compare(
      `pull ${label} (registry → layout)`,
      {
        ...both(
          () => ['cp', source, `oci:${freshDir('pull')}:bench`],
          () => ['copy', '--all', ...plain, `docker://${source}`, `oci:${freshDir('pull')}:bench`],
        ),
        floor: await curlFloor(a, repository),
      },
      { shared: a, floorLabel: 'curl + fsync', targetKey: `pull ${dataset.name}` },
    );
    await compare(
      `copy ${label} (registry → registry)`,
      both(
        (_i, host) => ['cp', source, `${host}/copy/${slug}:bench`],
        (_i, host) => [
          'copy',
          '--all',
          ...plain,
          `docker://${source}`,
          `docker://${host}/copy/${slug}:bench`,
        ],
      ),
      { targetKey: `copy ${dataset.name}` },
    );
    await compare(
      `copy ${label} inside one registry (mount)`,
      both(
        (i, host, who) => ['cp', source, `${host}/mount-${who}-${slug}-${i}:bench`],
        (i, host) => [
          'copy',
          '--all',
          ...plain,
          `docker://${source}`,
          `docker://${host}/mount-skopeo-${slug}-${i}:bench`,
        ],
      ),
      { shared: a },
    );
    finished.add(label);
  });
}

it('pulls over HTTPS', async () => {
  // Every public registry speaks HTTPS: the same pull as above, from a registry with a CA of its own.
  const secure = await startRegistry({ tls: true });
  try {
    const layout = await benchLayout({ layers: 4, layerSize: 64 * 1024 * 1024 });
    scratch.push(layout);
    const caFile = secure.caFile ?? '';
    const caDir = secure.caDir ?? '';
    const source = `${secure.host}/src-https:bench`;
    await run('skopeo', [
      '--insecure-policy',
      'copy',
      '--dest-cert-dir',
      caDir,
      `oci:${layout}:bench`,
      `docker://${source}`,
    ]);
    const tugArgs = () => ['--ca-file', caFile, 'cp', source, `oci:${freshDir('pull-https')}:bench`];
    await compare(
      'pull 4 × 64 MiB over HTTPS (registry → layout)',
      {
        tug: tug(tugArgs),
        skopeo: skopeo(() => [
          'copy',
          '--all',
          '--src-cert-dir',
          caDir,
          `docker://${source}`,
          `oci:${freshDir('pull-https')}:bench`,
        ]),
        before: baseline ? tug(tugArgs, baseline) : undefined,
      },
      { shared: secure },
    );
  } finally {
    await secure.stop();
  }
  finished.add('https');
});

type Quick = 'tug' | 'skopeo' | 'before' | 'node';
type QuickContender = [Quick, string, string[], NodeJS.ProcessEnv?];

/**
 * Times short commands `rounds` times each, rotating which goes first, after an untimed run of
 * each (see {@link WARM_UP_ROUND}), and adds a row of their medians with `node -e 0` (Node
 * starting and doing nothing) as the floor.
 */
async function quickRow(
  scenario: string,
  rounds: number,
  contenders: QuickContender[],
  target?: Row['target'],
): Promise<void> {
  const times = new Map<Quick, number[]>(contenders.map(([name]) => [name, []]));
  for (const [, command, args, env] of contenders) await measure(command, args, env);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const [name, command, args, env] = contenders[(round + i) % contenders.length]!;
      times.get(name)?.push((await measure(command, args, env)).seconds);
    }
  }
  logRounds(scenario, times);
  const medianOf = (name: Quick) => medianOfRounds(times, name);
  rows.push({
    scenario,
    tug: medianOf('tug') ?? 0,
    skopeo: medianOf('skopeo'),
    before: medianOf('before'),
    floor: { seconds: medianOf('node') ?? 0, label: '`node -e 0`' },
    target,
  });
}

/**
 * tug, skopeo, `node -e 0`, and the baseline when there is one, each running `args`. Node is
 * started as `bin/tug` starts it, without `NODE_EXTRA_CA_CERTS` (see docs/benchmark.md): with it,
 * Node reads and parses those certificates before any code runs, which tug does not pay, and a
 * floor that pays it is no floor.
 */
function quickContenders(tugArgs: string[], skopeoArgs: string[]): QuickContender[] {
  const { NODE_EXTRA_CA_CERTS: _, ...bareNode } = benchEnv();
  const contenders: QuickContender[] = [
    ['tug', 'bin/tug', tugArgs],
    ['skopeo', 'skopeo', skopeoArgs],
    ['node', process.execPath, ['-e', '0'], bareNode],
  ];
  if (baseline) contenders.push(['before', baseline, tugArgs]);
  return contenders;
}

it('answers one request', async () => {
  const layout = await benchLayout({ layers: 1, layerSize: 1024 });
  scratch.push(layout);
  const source = `${a.host}/one-request:bench`;
  await run('skopeo', ['--insecure-policy', 'copy', ...plain, `oci:${layout}:bench`, `docker://${source}`]);
  await quickRow(
    'one request (`digest` / `skopeo inspect --raw`)',
    Math.max(runs, QUICK_ROUNDS),
    quickContenders(['digest', source], ['inspect', '--raw', '--tls-verify=false', `docker://${source}`]),
    { ratio: 2.5, against: 'floor' },
  );
  finished.add('one request');
});

it('starts up', async () => {
  await quickRow(
    'startup (`--version`)',
    Math.max(runs, QUICK_ROUNDS),
    quickContenders(['--version'], ['--version']),
  );
  finished.add('startup');
});

it('keeps peak memory flat as blobs grow', async () => {
  /** Peak RSS of each round, per contender: it moves with where the copy falls in V8's GC cycle. */
  const peaks: Array<[number, Sample[], Sample[]]> = [];
  for (const size of [256 * 1024 * 1024, 1024 * 1024 * 1024]) {
    const layout = await benchLayout({ layers: 1, layerSize: size });
    scratch.push(layout);
    const source = `${a.host}/big-${size}:bench`;
    await run('skopeo', ['--insecure-policy', 'copy', ...plain, `oci:${layout}:bench`, `docker://${source}`]);
    await rm(layout, { recursive: true, force: true });
    const copyOnce = async (bin: string) => {
      const destination = await startRegistry();
      try {
        return await measure(bin, ['--no-progress', 'cp', source, `${destination.host}/big:bench`]);
      } finally {
        await destination.stop();
      }
    };
    const now: Sample[] = [];
    const then: Sample[] = [];
    for (let round = 0; round < runs; round++) {
      now.push(await copyOnce('bin/tug'));
      if (baseline) then.push(await copyOnce(baseline));
    }
    peaks.push([size, now, then]);
  }
  for (const [size, samples, before] of peaks) {
    const peak = (all: Sample[]) => {
      const bytes = all.map((sample) => sample.peakRss);
      const range = `${(Math.min(...bytes) / 1e6).toFixed(0)}–${(Math.max(...bytes) / 1e6).toFixed(0)} MB`;
      return `median ${(median(bytes) / 1e6).toFixed(0)} MB (${range}), ${median(all.map((sample) => sample.seconds)).toFixed(2)} s`;
    };
    const middle = median(samples.map((sample) => sample.peakRss));
    const met = size === 1024 * 1024 * 1024 ? ` — target < 150 MB: ${middle < 150e6 ? 'met' : 'missed'}` : '';
    rows.push({
      scenario: `tug peak RSS, one ${mib(size)} blob registry → registry, ${samples.length} runs`,
      tug: 0,
      text: `${peak(samples)}${before.length > 0 ? `; before: ${peak(before)}` : ''}${met}`,
    });
  }
  finished.add('memory');
});
