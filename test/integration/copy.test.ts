import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { registryTransportFlags, skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let a: RegistryFixture;
let b: RegistryFixture;
let multi: BuiltImage;
let big: BuiltImage;

function inspectFlags(registry: RegistryFixture): string[] {
  return registryTransportFlags(registry, 'src').map((flag) => flag.replace('--src-', '--'));
}

async function skopeoRawDigest(registry: RegistryFixture, reference: string): Promise<string> {
  return sha256(
    (await skopeo(['inspect', '--raw', ...inspectFlags(registry), `docker://${reference}`])).stdoutBytes,
  );
}

beforeAll(async () => {
  [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  multi = await buildImageLayout({
    platforms: ['linux/amd64', 'linux/arm64'],
    layers: 2,
    layerSize: 64 * 1024,
    tag: 'v1',
  });
  big = await buildImageLayout({ layers: 2, layerSize: 2 * 1024 * 1024, tag: 'v1' });
  await seedRegistry(a, 'src/multi', multi, 'v1');
  await seedRegistry(a, 'src/multi', multi, 'v2');
  await seedRegistry(a, 'src/big', big, 'v1');
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('tug cp between registries', () => {
  it('copies a two-platform index to another registry byte for byte, and skopeo reads it', async () => {
    const result = await runTug(['cp', `${a.host}/src/multi:v1`, `${b.host}/dst/multi:v1`]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(multi.rootDigest);
    expect(await skopeoRawDigest(b, `${b.host}/dst/multi:v1`)).toBe(multi.rootDigest);
    await skopeo([
      'copy',
      '--all',
      ...registryTransportFlags(b, 'src'),
      `docker://${b.host}/dst/multi:v1`,
      `oci:${await tempDir()}:x`,
    ]);
  });

  it('copies one platform with --platform', async () => {
    const arm = (
      await runTug(['digest', '--platform', 'linux/arm64', `${a.host}/src/multi:v1`])
    ).stdout.trim();
    const result = await runTug([
      'cp',
      '--platform',
      'linux/arm64',
      `${a.host}/src/multi:v1`,
      `${b.host}/dst/arm:v1`,
    ]);
    expect(result.stdout.trim()).toBe(arm);
    expect(await skopeoRawDigest(b, `${b.host}/dst/arm:v1`)).toBe(arm);
  });

  it('copies every tag with --all-tags', async () => {
    const result = await runTug(['cp', '--all-tags', `${a.host}/src/multi`, `${b.host}/mirror/multi`]);
    expect(result.code).toBe(0);
    const tags = (await runTug(['tags', `${b.host}/mirror/multi`])).stdout.trim().split('\n').sort();
    expect(tags).toEqual(['v1', 'v2']);
  });

  it('skips what the destination already has', async () => {
    await runTug(['cp', `${a.host}/src/big:v1`, `${b.host}/dst/big:v1`]);
    const again = await runTug(['--json', 'cp', `${a.host}/src/big:v1`, `${b.host}/dst/big:v1`]);
    expect(JSON.parse(again.stdout)).toMatchObject({ copied: 0, skipped: 1, bytes: 0 });
  });

  it('mounts inside one registry, moving no layer bytes', async () => {
    const result = await runTug(['--json', 'cp', `${a.host}/src/big:v1`, `${a.host}/elsewhere/big:v1`]);
    const summary = JSON.parse(result.stdout) as { mounted: number; bytes: number; digest: string };
    expect(summary.mounted).toBe(3);
    expect(summary.bytes).toBeLessThan(4096);
    expect(await skopeoRawDigest(a, `${a.host}/elsewhere/big:v1`)).toBe(big.rootDigest);
  });

  it('counts every byte it pushes from a layout, the ones read while the upload opened too', async () => {
    const blobs = join(big.layoutDir, 'blobs', 'sha256');
    const sizes = await Promise.all(
      (await readdir(blobs)).map(async (name) => (await stat(join(blobs, name))).size),
    );
    const result = await runTug(['--json', 'cp', `oci:${big.layoutDir}:v1`, `${b.host}/pushed/big:v1`]);
    expect(JSON.parse(result.stdout)).toMatchObject({ copied: 4, bytes: sizes.reduce((a, b) => a + b, 0) });
  });

  it('emits one JSON progress event per line with --progress json', async () => {
    const result = await runTug([
      '--progress',
      'json',
      'cp',
      `${a.host}/src/big:v1`,
      `${b.host}/progress/big:v1`,
    ]);
    const events = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string });
    expect(events.at(-1)?.event).toBe('done');
    expect(events.filter((event) => event.event === 'copied')).toHaveLength(4);
    expect(events.some((event) => event.event === 'bytes')).toBe(true);
  });
});

const tugBin = resolve(import.meta.dirname, '../../bin/tug');
// A person's terminal: no CI variable (under which many tools do not animate).
const { CI: _ci, ...terminalEnv } = process.env;
/** Runs tug on a pseudo-terminal (util-linux `script`) of the given width. */
const onTerminal = (columns: number, args: string[]) =>
  promisify(execFile)(
    'script',
    ['-qec', `stty cols ${columns}; NO_COLOR=1 node ${tugBin} ${args.join(' ')}`, '/dev/null'],
    {
      env: terminalEnv,
      timeout: 30_000,
      maxBuffer: 4 * 1024 * 1024,
    },
  );

describe('tug cp on a terminal', () => {
  it('ends with a one-line summary and leaves no bar behind', async () => {
    const { stdout } = await onTerminal(120, ['cp', `${a.host}/src/big:v1`, `oci:${await tempDir()}:v1`]);
    expect(stdout).toMatch(/copied sha256:[0-9a-f]{64}: 4 copied, 0 skipped, 0 mounted/);
  });

  it('finishes on a terminal that reports no width, with plain lines only', async () => {
    const { stdout } = await onTerminal(0, ['cp', `${a.host}/src/big:v1`, `oci:${await tempDir()}:v1`]);
    expect(stdout).toContain(big.rootDigest);
    expect(stdout).not.toContain('\u001b[');
    expect(stdout.length).toBeLessThan(4096);
  });
});

describe('tug cp progress', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(a.baseUrl);
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  /** The first read of one layer stalls after some bytes until the idle timeout; the retry resumes it. */
  const stallOnce = (seconds: number) => {
    proxy.setRules([
      { method: 'GET', path: new RegExp(`/blobs/${big.blobDigests[0]}`), pauseAfterBytes: 300_000, times: 1 },
    ]);
    return ['--timeout', String(seconds)];
  };

  it('on a terminal, shows a bar per blob in flight with bytes done and total and speed, and an overall ETA', async () => {
    const { stdout } = await onTerminal(160, [
      ...stallOnce(2),
      'cp',
      `${proxy.host}/src/big:v1`,
      `oci:${await tempDir()}:v1`,
    ]);
    const layer = (big.blobDigests[0] ?? '').slice(0, 19);
    expect(stdout).toMatch(new RegExp(`${layer}  [\\d.]+ KiB / 2\\.0 MiB  [\\d.]+ (B|KiB|MiB)/s`));
    expect(stdout).toMatch(
      /\d+\/\d+ blobs {2}[\d.]+ (KiB|MiB) \/ [\d.]+ MiB {2}[\d.]+ (B|KiB|MiB)\/s {2}ETA \d+/,
    );
    expect(stdout).toMatch(/copied sha256:[0-9a-f]{64}: 4 copied/);
  });

  it('off a terminal, prints one line per blob finished', async () => {
    proxy.setRules([]);
    const result = await runTug(['cp', `${proxy.host}/src/big:v1`, `oci:${await tempDir()}:v1`]);
    expect(result.code).toBe(0);
    const finished = result.stderr.split('\n').filter((line) => /^copied sha256:[0-9a-f]{12} {2}/.test(line));
    expect(finished).toHaveLength(4);
    for (const layer of big.blobDigests.slice(0, 2)) {
      expect(result.stderr).toContain(`copied ${layer.slice(0, 19)}  2.0 MiB`);
    }
    expect(result.stderr).not.toContain('\u001b[');
  });

  it('off a terminal, says how far a long transfer has come every few seconds', async () => {
    const result = await runTug([
      ...stallOnce(7),
      'cp',
      `${proxy.host}/src/big:v1`,
      `oci:${await tempDir()}:v1`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /copying sha256:[0-9a-f]{64}: \d+\/\d+ blobs {2}[\d.]+ (KiB|MiB) \/ [\d.]+ MiB {2}[\d.]+ (B|KiB|MiB)\/s/,
    );
  });

  it('is silent with -q, and --progress json still writes events only', async () => {
    proxy.setRules([]);
    const quiet = await runTug(['-q', 'cp', `${proxy.host}/src/big:v1`, `oci:${await tempDir()}:v1`]);
    expect(quiet.stderr).toBe('');
    const json = await runTug([
      '--progress',
      'json',
      'cp',
      `${proxy.host}/src/big:v1`,
      `oci:${await tempDir()}:v1`,
    ]);
    for (const line of json.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('tug cp to and from OCI layouts and docker archives', () => {
  it('writes an OCI layout skopeo reads, and reads a layout skopeo wrote', async () => {
    const layout = await tempDir();
    const out = await runTug(['cp', `${a.host}/src/multi:v1`, `oci:${layout}:v1`]);
    expect(out.code).toBe(0);
    expect(sha256((await skopeo(['inspect', '--raw', `oci:${layout}:v1`])).stdoutBytes)).toBe(
      multi.rootDigest,
    );
    const back = await runTug(['cp', `oci:${multi.layoutDir}:v1`, `${b.host}/from-layout/multi:v1`]);
    expect(back.stdout.trim()).toBe(multi.rootDigest);
    expect(await skopeoRawDigest(b, `${b.host}/from-layout/multi:v1`)).toBe(multi.rootDigest);
  });

  it('writes a docker-archive skopeo loads, and reads one skopeo wrote', async () => {
    const directory = await tempDir();
    const archive = join(directory, 'big.tar');
    const out = await runTug(['cp', `${a.host}/src/big:v1`, `docker-archive:${archive}:example.test/big:v1`]);
    expect(out.code).toBe(0);
    const inspected = JSON.parse((await skopeo(['inspect', `docker-archive:${archive}`])).stdout) as {
      Layers: string[];
    };
    expect(inspected.Layers).toHaveLength(2);
    const skopeoArchive = join(directory, 'skopeo.tar');
    await skopeo([
      'copy',
      ...registryTransportFlags(a, 'src'),
      `docker://${a.host}/src/big:v1`,
      `docker-archive:${skopeoArchive}:example.test/big:v1`,
    ]);
    const back = await runTug(['cp', `docker-archive:${skopeoArchive}`, `${b.host}/from-archive/big:v1`]);
    expect(back.code).toBe(0);
    await skopeo(['inspect', ...inspectFlags(b), `docker://${b.host}/from-archive/big:v1`]);
  });
});

describe('tug cp under faults', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(a.baseUrl);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('refuses a corrupted blob and leaves nothing under its final name', async () => {
    const layer = big.blobDigests[0] ?? '';
    proxy.setRules([{ method: 'GET', path: new RegExp(`/blobs/${layer}`), corruptAt: 1000 }]);
    const layout = await tempDir();
    const result = await runTug(['cp', `${proxy.host}/src/big:v1`, `oci:${layout}:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/digest mismatch/);
    const blobs = await readdir(join(layout, 'blobs', 'sha256')).catch(() => [] as string[]);
    expect(blobs).not.toContain(layer.slice(7));
    expect(blobs.filter((name) => name.startsWith('.'))).toEqual([]);
    // Bytes that failed their digest are not kept to be resumed from.
    const kept = await readdir(join(layout, '.tug-ingest')).catch(() => [] as string[]);
    expect(kept).not.toContain(`sha256-${layer.slice(7)}`);
  });

  it('resumes a blob download cut mid-way with Range, in the same run', async () => {
    const layer = big.blobDigests[0] ?? '';
    proxy.setRules([
      { method: 'GET', path: new RegExp(`/blobs/${layer}`), cutAfterBytes: 500_000, times: 1 },
    ]);
    const before = proxy.hits.length;
    const result = await runTug(['cp', `${proxy.host}/src/big:v1`, `oci:${await tempDir()}:v1`]);
    expect(result.code).toBe(0);
    const resumed = proxy.hits.slice(before).filter((hit) => hit.path.includes(layer) && hit.range);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]?.range).toMatch(/^bytes=\d+-$/);
  });

  it('starts the download again when the server ignores Range, keeping the digest check', async () => {
    const layer = big.blobDigests[0] ?? '';
    proxy.setRules([
      { method: 'GET', path: new RegExp(`/blobs/${layer}`), cutAfterBytes: 500_000, times: 1 },
      { method: 'GET', path: new RegExp(`/blobs/${layer}`), ignoreRange: true },
    ]);
    const layout = await tempDir();
    const result = await runTug(['cp', `${proxy.host}/src/big:v1`, `oci:${layout}:v1`]);
    expect(result.code).toBe(0);
    expect(sha256((await skopeo(['inspect', '--raw', `oci:${layout}:v1`])).stdoutBytes)).toBe(big.rootDigest);
    await skopeo(['copy', `oci:${layout}:v1`, `oci:${await tempDir()}:v1`]);
  });

  it('completes on a second run after the first was killed mid-blob, and the layout never held a partial blob', async () => {
    const layer = big.blobDigests[0] ?? '';
    proxy.setRules([{ method: 'GET', path: new RegExp(`/blobs/${layer}`), pauseAfterBytes: 400_000 }]);
    const layout = await tempDir();
    const killed = await runTug(['cp', `${proxy.host}/src/big:v1`, `oci:${layout}:v1`], { timeoutMs: 2000 });
    expect(killed.code).not.toBe(0);
    expect(await readdir(join(layout, 'blobs', 'sha256'))).not.toContain(layer.slice(7));
    proxy.setRules([]);
    const second = await runTug(['cp', `${proxy.host}/src/big:v1`, `oci:${layout}:v1`]);
    expect(second.code).toBe(0);
    expect(sha256((await skopeo(['inspect', '--raw', `oci:${layout}:v1`])).stdoutBytes)).toBe(big.rootDigest);
    await skopeo(['copy', `oci:${layout}:v1`, `oci:${await tempDir()}:v1`]);
  });
});
