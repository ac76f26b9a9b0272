import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let proxy: FaultProxy;
let image: BuiltImage;
let files: string;
let keys: string;
/** The password of the key pair `sign` uses. */
const keyEnv = { COSIGN_PASSWORD: 'interrupt' };
/** The file pushed, relative to `files` (titles are relative paths). */
const payload = 'payload.bin';

/** Longer than any test: a stalled request is answered only once the process is long gone. */
const STALL_MS = 60_000;
/** Forwarded bytes before a download holds still, so temporary files exist when the signal comes. */
const PAUSE_AFTER = 100_000;

beforeAll(async () => {
  registry = await startRegistry();
  image = await buildImageLayout({ layers: 2, layerSize: 1024 * 1024, tag: 'v1' });
  await seedRegistry(registry, 'app', image);
  files = await tempDir();
  await writeFile(join(files, payload), randomBytes(1024 * 1024));
  const pushed = await runTug(['push', `${registry.host}/files:v1`, payload], { cwd: files });
  expect(pushed.code).toBe(0);
  keys = await tempDir();
  const made = await runTug(['generate-key-pair'], { cwd: keys, env: keyEnv });
  expect(made.code, made.stderr).toBe(0);
  proxy = await startFaultProxy(registry.baseUrl);
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String);
}

interface Row {
  command: string;
  /** The arguments, given a fresh output directory. */
  args: (out: string) => string[];
  /** What the proxy holds: the request that is in flight when the signal is sent. */
  rule: FaultRule;
  /** More environment for the command. */
  env?: NodeJS.ProcessEnv;
  /** Writes what the command reads into the fresh output directory (a sync file). */
  setup?: (out: string) => Promise<void>;
}

const layer = () => image.blobDigests[0] ?? '';
const stall = (method: string, path: RegExp): FaultRule => ({ method, path, stallMs: STALL_MS });
const pause = (path: RegExp): FaultRule => ({ method: 'GET', path, pauseAfterBytes: PAUSE_AFTER });
/** A sync file `sync.yaml` in the output directory with one entry, given the output directory. */
const syncFile =
  (entry: (out: string) => string) =>
  (out: string): Promise<void> =>
    writeFile(join(out, 'sync.yaml'), `sync:\n  - { ${entry(out)} }\n`);
const syncArgs = (out: string) => ['sync', join(out, 'sync.yaml')];

const rows: Row[] = [
  { command: 'digest', args: () => ['digest', `${proxy.host}/app:v1`], rule: stall('HEAD', /manifests/) },
  {
    command: 'manifest get',
    args: () => ['manifest', 'get', `${proxy.host}/app:v1`],
    rule: stall('GET', /manifests/),
  },
  { command: 'config', args: () => ['config', `${proxy.host}/app:v1`], rule: stall('GET', /blobs\//) },
  { command: 'inspect', args: () => ['inspect', `${proxy.host}/app:v1`], rule: stall('GET', /manifests/) },
  {
    command: 'blob get',
    args: (out) => ['blob', 'get', `${proxy.host}/app@${layer()}`, '-o', join(out, 'layer')],
    rule: pause(/\/blobs\/sha256/),
  },
  { command: 'tags', args: () => ['tags', `${proxy.host}/app`], rule: stall('GET', /tags\/list/) },
  { command: 'catalog', args: () => ['catalog', proxy.host], rule: stall('GET', /_catalog/) },
  { command: 'discover', args: () => ['discover', `${proxy.host}/app:v1`], rule: stall('GET', /referrers/) },
  {
    command: 'cp',
    args: (out) => ['cp', `${proxy.host}/app:v1`, `oci:${out}:v1`],
    rule: pause(/\/blobs\/sha256/),
  },
  {
    command: 'cp -r',
    args: () => ['cp', '-r', `${proxy.host}/app:v1`, `${proxy.host}/copy:v1`],
    rule: stall('GET', /referrers/),
  },
  {
    command: 'cp to docker-archive',
    args: (out) => ['cp', `${proxy.host}/app:v1`, `docker-archive:${join(out, 'app.tar')}:app:v1`],
    rule: pause(/\/blobs\/sha256/),
  },
  {
    command: 'pull',
    args: (out) => ['pull', `${proxy.host}/files:v1`, '-o', out],
    rule: pause(/\/blobs\/sha256/),
  },
  {
    command: 'push',
    args: () => ['push', `${proxy.host}/pushed:v1`, payload],
    rule: stall('PUT', /blobs\/uploads/),
  },
  {
    command: 'blob put',
    args: () => ['blob', 'put', `${proxy.host}/blobs`, payload],
    rule: stall('PUT', /blobs\/uploads/),
  },
  {
    command: 'manifest put',
    args: () => ['manifest', 'put', `${proxy.host}/app:put`, join(image.layoutDir, 'index.json')],
    rule: stall('PUT', /manifests/),
  },
  { command: 'tag', args: () => ['tag', `${proxy.host}/app:v1`, 'extra'], rule: stall('PUT', /manifests/) },
  {
    command: 'attach',
    args: () => ['attach', `${proxy.host}/app:v1`, payload, '--artifact-type', 'application/x-test'],
    rule: stall('PUT', /blobs\/uploads/),
  },
  {
    command: 'index create',
    args: () => ['index', 'create', `${proxy.host}/app:index`, `${proxy.host}/app:v1`],
    rule: stall('PUT', /manifests/),
  },
  {
    command: 'manifest delete',
    args: () => ['manifest', 'delete', `${proxy.host}/app@${image.rootDigest}`],
    rule: stall('DELETE', /manifests/),
  },
  {
    command: 'blob delete',
    args: () => ['blob', 'delete', `${proxy.host}/app@${layer()}`],
    rule: stall('DELETE', /blobs/),
  },
  {
    command: 'login',
    args: () => ['login', proxy.host, '-u', 'someone', '-p', 'secret'],
    rule: stall('GET', /^\/v2\/$/),
  },
  {
    command: 'sign',
    args: () => ['sign', '--key', join(keys, 'cosign.key'), `${proxy.host}/app:v1`],
    rule: stall('PUT', /blobs\/uploads/),
    env: keyEnv,
  },
  {
    command: 'verify',
    args: () => ['verify', '--key', join(keys, 'cosign.pub'), `${proxy.host}/app:v1`],
    rule: stall('HEAD', /manifests\/sha256-[0-9a-f]+\.sig$/),
  },
  {
    command: 'sync',
    args: syncArgs,
    setup: syncFile(() => `source: ${proxy.host}/app:v1, target: ${registry.host}/synced`),
    rule: stall('HEAD', /manifests/),
  },
  {
    command: 'sync of a repository',
    args: syncArgs,
    setup: syncFile(() => `source: ${proxy.host}/app, target: ${registry.host}/synced-repository`),
    rule: stall('GET', /tags\/list/),
  },
  {
    command: 'sync of a prefix',
    args: syncArgs,
    setup: syncFile(() => `source: ${proxy.host}/team, target: ${registry.host}/synced-prefix, type: prefix`),
    rule: stall('GET', /_catalog/),
  },
  {
    command: 'sync with verify.key',
    args: syncArgs,
    setup: syncFile(
      () =>
        `source: ${proxy.host}/app:v1, target: ${registry.host}/synced-verified, verify: { key: ${join(keys, 'cosign.pub')} }`,
    ),
    rule: stall('HEAD', /manifests\/sha256-[0-9a-f]+\.sig$/),
  },
  {
    command: 'sync to a layout',
    args: syncArgs,
    setup: syncFile((out) => `source: ${proxy.host}/app:v1, target: oci:${join(out, 'layout')}`),
    rule: pause(/\/blobs\/sha256/),
  },
];

describe.each([
  { signal: 'SIGINT' as const, code: 130 },
  { signal: 'SIGTERM' as const, code: 143 },
])('$signal while a request is in flight', ({ signal, code }) => {
  it.each(rows)(`ends $command within a second with exit ${code}, leaving no temporary file`, async (row) => {
    proxy.setRules([row.rule]);
    const out = await tempDir();
    const temporary = await tempDir();
    await row.setup?.(out);
    const before = proxy.hits.length;
    const matches = (hit: { method: string; path: string }) =>
      (row.rule.method === undefined || hit.method === row.rule.method) && row.rule.path.test(hit.path);
    let heldSince: number | undefined;
    const result = await runTug(row.args(out), {
      cwd: files,
      env: { TMPDIR: temporary, ...row.env },
      timeoutMs: 8000,
      signal: {
        name: signal,
        // Once the held request has arrived, and (a paused download) its first bytes went out.
        when: () => {
          if (heldSince === undefined && proxy.hits.slice(before).some(matches)) heldSince = Date.now();
          return heldSince !== undefined && Date.now() - heldSince >= 200;
        },
      },
    });
    expect(result.stderr).toContain(`interrupted by ${signal}`);
    expect(result.code).toBe(code);
    expect(result.exitedAfterSignalMs).toBeLessThan(1500);
    // The one exception, documented: a layout keeps the parts of interrupted blob downloads,
    // named by digest, so the next copy resumes them.
    const kept = (name: string) => /(^|\/)\.tug-ingest(\/sha256-[0-9a-f]{64})?$/.test(name);
    const leftovers = (await filesUnder(out)).filter(
      (name) => /(^|\/)\.|\.tmp|tug-/.test(name) && !kept(name),
    );
    expect(leftovers).toEqual([]);
    expect(await filesUnder(temporary)).toEqual([]);
  });
});
