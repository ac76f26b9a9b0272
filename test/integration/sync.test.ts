import { spawn } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

const accept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

let a: RegistryFixture;
let b: RegistryFixture;
let single: BuiltImage;
let other: BuiltImage;
let multi: BuiltImage;

async function manifestOf(registry: RegistryFixture, repository: string, reference: string) {
  const response = await fetch(`${registry.baseUrl}/v2/${repository}/manifests/${reference}`, {
    headers: { accept },
  });
  if (response.status === 404) return undefined;
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    bytes,
    mediaType: response.headers.get('content-type') ?? '',
    digest: response.headers.get('docker-content-digest') ?? '',
  };
}

/** Adds a tag the way a registry user does: the same manifest bytes PUT under another name. */
async function addTags(registry: RegistryFixture, repository: string, from: string, tags: string[]) {
  const manifest = await manifestOf(registry, repository, from);
  if (!manifest) throw new Error(`${repository}:${from} is missing`);
  for (const tag of tags) {
    const response = await fetch(`${registry.baseUrl}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
    });
    if (response.status !== 201) throw new Error(`tagging ${tag}: ${response.status}`);
  }
}

async function tagsOf(registry: RegistryFixture, repository: string): Promise<string[]> {
  const response = await fetch(`${registry.baseUrl}/v2/${repository}/tags/list`);
  if (response.status === 404) return [];
  const { tags } = (await response.json()) as { tags: string[] | null };
  return (tags ?? []).sort();
}

async function catalogOf(registry: RegistryFixture): Promise<string[]> {
  const response = await fetch(`${registry.baseUrl}/v2/_catalog`);
  return ((await response.json()) as { repositories: string[] }).repositories;
}

async function syncFile(text: string): Promise<string> {
  const file = join(await tempDir('tug-sync-'), 'sync.yaml');
  await writeFile(file, text);
  return file;
}

interface Report {
  images: Array<{ source: string; target: string; action: string; reason: string; digestTags?: string[] }>;
  summary: { copied: number; skipped: number; refreshed: number; conflicts: number; failed: number };
}

async function sync(file: string, ...flags: string[]): Promise<Report> {
  const result = await runTug(['sync', file, '--json', ...flags], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`sync exited ${result.code}: ${result.stderr}\n${result.stdout}`);
  return JSON.parse(result.stdout) as Report;
}

beforeAll(async () => {
  [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  [single, other, multi] = await Promise.all([
    buildImageLayout({ tag: '1.0.0' }),
    buildImageLayout({ tag: 'other' }),
    buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'], tag: 'v1' }),
  ]);
  await Promise.all([
    seedRegistry(a, 'team/app', single, '1.0.0'),
    seedRegistry(a, 'team/lib', other, '0.9'),
    seedRegistry(a, 'elsewhere/x', single, '1.0.0'),
    seedRegistry(a, 'multi', multi, 'v1'),
  ]);
  await addTags(a, 'team/app', '1.0.0', ['1.1.0', '1.2.0-rc1', '2.0.0', 'latest']);
  await addTags(a, 'team/lib', '0.9', ['1.0']);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('tug sync', () => {
  it('mirrors several repositories with filters, a prefix and a platform subset; a dry run changes nothing; a re-run skips all', async () => {
    const layout = join(await tempDir('tug-sync-layout-'), 'airgap');
    const file = await syncFile(
      [
        'defaults: { concurrency: 3 }',
        'sync:',
        `  - source: ${a.host}/team/app`,
        `    target: ${b.host}/mirror/app`,
        "    tags: { allow: ['^\\d'], deny: ['-rc'], latest: 2 }",
        `  - source: ${a.host}/team`,
        `    target: ${b.host}/prefixed`,
        '    type: prefix',
        "    tags: { semver: '>=1.0' }",
        `  - source: ${a.host}/multi:v1`,
        `    target: oci:${layout}`,
        '    platforms: [linux/amd64, linux/arm64]',
      ].join('\n'),
    );
    const plan = await sync(file, '--dry-run');
    expect(plan.images.map((image) => image.action)).toEqual(Array(7).fill('copy'));
    expect(plan.summary).toEqual({ copied: 7, skipped: 0, refreshed: 0, conflicts: 0, failed: 0 });
    expect(await catalogOf(b)).toEqual([]);
    await expect(access(layout)).rejects.toThrow();

    const done = await sync(file);
    expect(done.summary).toEqual({ copied: 7, skipped: 0, refreshed: 0, conflicts: 0, failed: 0 });
    expect(await tagsOf(b, 'mirror/app')).toEqual(['1.1.0', '2.0.0']);
    expect(await tagsOf(b, 'prefixed/app')).toEqual(['1.0.0', '1.1.0', '2.0.0']);
    expect(await tagsOf(b, 'prefixed/lib')).toEqual(['1.0']);
    expect((await manifestOf(b, 'mirror/app', '2.0.0'))?.digest).toBe(single.rootDigest);
    const index = JSON.parse((await skopeo(['inspect', '--raw', `oci:${layout}:v1`])).stdout) as {
      manifests: Array<{ digest: string; platform: { architecture: string } }>;
    };
    expect(index.manifests.map((entry) => entry.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(index.manifests.map((entry) => entry.digest)).toEqual(multi.manifestDigests.slice(0, 2));
    await skopeo(['copy', '--all', `oci:${layout}:v1`, `oci:${await tempDir()}:copy`]);

    const again = await sync(file);
    expect(again.summary).toEqual({ copied: 0, skipped: 7, refreshed: 0, conflicts: 0, failed: 0 });
    expect(again.images.every((image) => image.reason === 'already there')).toBe(true);
  });

  it('leaves a tag that holds another digest with noClobber, and overwrites it without', async () => {
    await seedRegistry(b, 'clobber/app', other, '1.0.0');
    const entry = (noClobber: boolean) =>
      `sync:\n  - { source: ${a.host}/team/app:1.0.0, target: ${b.host}/clobber/app, noClobber: ${noClobber} }\n`;
    const kept = await sync(await syncFile(entry(true)));
    expect(kept.images[0]).toMatchObject({
      action: 'conflict',
      reason: `noClobber: the target holds ${other.rootDigest}`,
    });
    expect((await manifestOf(b, 'clobber/app', '1.0.0'))?.digest).toBe(other.rootDigest);
    const moved = await sync(await syncFile(entry(false)));
    expect(moved.images[0]).toMatchObject({ action: 'copy', reason: `changed (was ${other.rootDigest})` });
    expect((await manifestOf(b, 'clobber/app', '1.0.0'))?.digest).toBe(single.rootDigest);
  });

  it("carries the image's cosign digest tags with it", async () => {
    const signatureTag = `${single.rootDigest.replace(':', '-')}.sig`;
    const directory = await tempDir();
    await writeFile(join(directory, 'payload.json'), '{"critical":{}}');
    const pushed = await runTug(
      [
        'push',
        `${a.host}/signed/app:${signatureTag}`,
        'payload.json:application/vnd.dev.cosign.simplesigning.v1+json',
      ],
      { cwd: directory },
    );
    expect(pushed.code).toBe(0);
    await seedRegistry(a, 'signed/app', single, '1.0.0');
    const file = await syncFile(
      `defaults: { digestTags: true }\nsync:\n  - { source: ${a.host}/signed/app, target: ${b.host}/signed/app }\n`,
    );
    const report = await sync(file);
    expect(report.images).toHaveLength(1);
    expect(report.images[0]).toMatchObject({ action: 'copy', digestTags: [signatureTag] });
    expect(await tagsOf(b, 'signed/app')).toEqual(['1.0.0', signatureTag].sort());
  });

  it('with verify.key, copies a signed image with its signature and fails an unsigned one, naming it', async () => {
    const keys = await tempDir('tug-keys-');
    const env = { COSIGN_PASSWORD: 'correct horse' };
    expect((await runTug(['generate-key-pair'], { cwd: keys, env })).code).toBe(0);
    await Promise.all([
      seedRegistry(a, 'verified/signed', single, '1.0.0'),
      seedRegistry(a, 'verified/plain', other, 'other'),
    ]);
    const signed = await runTug(
      ['sign', '--key', join(keys, 'cosign.key'), `${a.host}/verified/signed:1.0.0`],
      { env },
    );
    expect(signed.code, signed.stderr).toBe(0);
    const pub = join(keys, 'cosign.pub');
    const file = await syncFile(
      [
        `defaults: { verify: { key: ${pub} } }`,
        'sync:',
        `  - { source: ${a.host}/verified/signed, target: ${b.host}/verified/signed }`,
        `  - { source: ${a.host}/verified/plain:other, target: ${b.host}/verified/plain }`,
        `  - { source: ${a.host}/team/lib:1.0, target: ${b.host}/verified/lib, verify: { key: ${pub} } }`,
      ].join('\n'),
    );
    const result = await runTug(['sync', file, '--json'], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.summary).toEqual({ copied: 1, skipped: 0, refreshed: 0, conflicts: 0, failed: 2 });
    const signatureTag = `${single.rootDigest.replace(':', '-')}.sig`;
    expect(report.images.find((image) => image.action === 'copy')).toMatchObject({
      source: `${a.host}/verified/signed:1.0.0`,
      digestTags: [signatureTag],
    });
    const failed = report.images.filter((image) => image.action === 'failed');
    expect(failed.map((image) => image.source).sort()).toEqual(
      [`${a.host}/verified/plain:other`, `${a.host}/team/lib:1.0`].sort(),
    );
    for (const image of failed) expect(image.reason).toMatch(/refusing to copy .*: no signatures found/);
    expect(await tagsOf(b, 'verified/signed')).toEqual(['1.0.0', signatureTag].sort());
    expect(await tagsOf(b, 'verified/plain')).toEqual([]);
    expect(await tagsOf(b, 'verified/lib')).toEqual([]);
    const verified = await runTug(['verify', '--key', pub, `${b.host}/verified/signed:1.0.0`]);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('a sync killed half way, run again, does only what was left', async () => {
    const tags = Array.from({ length: 8 }, (_, i) => `1.${i}.0`);
    await seedRegistry(a, 'kill/app', single, '1.0.0');
    await addTags(a, 'kill/app', '1.0.0', tags.slice(1));
    const proxy: FaultProxy = await startFaultProxy(b.baseUrl, [
      { method: 'PUT', path: /\/manifests\//, stallMs: 400 },
    ]);
    try {
      const file = await syncFile(
        `defaults: { concurrency: 1 }\nsync:\n  - { source: ${a.host}/kill/app, target: ${proxy.host}/kill/app }\n`,
      );
      const finished = await killAfterFirstImage(file);
      expect(finished).toBeGreaterThanOrEqual(1);
      expect(finished).toBeLessThan(tags.length);
      proxy.setRules([]);
      const rerun = await sync(file);
      expect(rerun.summary.skipped).toBeGreaterThanOrEqual(finished);
      expect(rerun.summary.copied + rerun.summary.skipped).toBe(tags.length);
      expect(rerun.summary.copied).toBeGreaterThanOrEqual(1);
      expect(await tagsOf(b, 'kill/app')).toEqual([...tags].sort());
    } finally {
      await proxy.stop();
    }
  });

  it('shards split the images with no overlap and nothing left out', async () => {
    const file = await syncFile(
      `sync:\n  - { source: ${a.host}/team, target: ${b.host}/sharded, type: prefix }\n`,
    );
    const all = (await sync(file, '--dry-run')).images.map((image) => image.source);
    const shares = await Promise.all(
      ['1/3', '2/3', '3/3'].map(async (shard) =>
        (await sync(file, '--dry-run', '--shard', shard)).images.map((image) => image.source),
      ),
    );
    expect(all).toHaveLength(7);
    expect(shares.flat().sort()).toEqual([...all].sort());
  });

  it('refuses a malformed file with exit 2, naming the line and the key', async () => {
    const file = await syncFile(
      `sync:\n  - source: ${a.host}/team/app\n    target: ${b.host}/x\n    tag: {}\n`,
    );
    const result = await runTug(['sync', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:4: unknown key "tag" in sync[0]`);
  });

  it('reports a failing image, copies the others, and exits 1', async () => {
    const file = await syncFile(
      `sync:\n  - { source: ${a.host}/team/app:nope, target: ${b.host}/failing/app }\n  - { source: ${a.host}/team/lib:1.0, target: ${b.host}/failing/lib }\n`,
    );
    const result = await runTug(['sync', file, '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.summary).toEqual({ copied: 1, skipped: 0, refreshed: 0, conflicts: 0, failed: 1 });
    expect(report.images.find((image) => image.action === 'failed')?.source).toBe(`${a.host}/team/app:nope`);
    expect(await tagsOf(b, 'failing/lib')).toEqual(['1.0']);
  });
});

describe('tug sync, re-run over an image already there', () => {
  const env = { COSIGN_PASSWORD: 'correct horse' };
  let key: string;
  let pub: string;
  const sigOf = (digest: string) => `${digest.replace(':', '-')}.sig`;

  beforeAll(async () => {
    const keys = await tempDir('tug-keys-');
    expect((await runTug(['generate-key-pair'], { cwd: keys, env })).code).toBe(0);
    key = join(keys, 'cosign.key');
    pub = join(keys, 'cosign.pub');
  });

  /** Signs at the source; each call appends a signature, so the `.sig` tag moves to a new manifest. */
  async function sign(reference: string, round: number): Promise<void> {
    const signed = await runTug(['sign', '--key', key, '-a', `round=${round}`, reference], { env });
    expect(signed.code, signed.stderr).toBe(0);
  }

  it('brings a signature added at the source after the first run', async () => {
    await seedRegistry(a, 'later/app', single, '1.0.0');
    const file = await syncFile(
      `sync:\n  - { source: ${a.host}/later/app:1.0.0, target: ${b.host}/later/app, digestTags: true }\n`,
    );
    expect((await sync(file)).images[0]).toMatchObject({ action: 'copy', reason: 'new' });
    expect(await tagsOf(b, 'later/app')).toEqual(['1.0.0']);

    await sign(`${a.host}/later/app:1.0.0`, 1);
    const again = await sync(file);
    expect(again.images).toEqual([
      {
        source: `${a.host}/later/app:1.0.0`,
        target: `${b.host}/later/app:1.0.0`,
        action: 'skip',
        reason: 'already there; newer digest tags at the source',
        digest: single.rootDigest,
        digestTags: [sigOf(single.rootDigest)],
      },
    ]);
    expect(again.summary).toEqual({ copied: 0, skipped: 1, refreshed: 1, conflicts: 0, failed: 0 });
    expect(await tagsOf(b, 'later/app')).toEqual(['1.0.0', sigOf(single.rootDigest)].sort());
    const verified = await runTug(['verify', '--key', pub, `${b.host}/later/app:1.0.0`]);
    expect(verified.code, verified.stderr).toBe(0);

    const third = await sync(file);
    expect(third.images[0]).toMatchObject({ action: 'skip', reason: 'already there' });
    expect(third.images[0]?.digestTags).toBeUndefined();
    expect(third.summary).toEqual({ copied: 0, skipped: 1, refreshed: 0, conflicts: 0, failed: 0 });
  });

  it("moves a re-signed image's .sig tag at the destination to the source's new signature manifest, noClobber or not", async () => {
    await seedRegistry(a, 'resigned/app', single, '1.0.0');
    await sign(`${a.host}/resigned/app:1.0.0`, 1);
    const file = await syncFile(
      `sync:\n  - { source: ${a.host}/resigned/app:1.0.0, target: ${b.host}/resigned/app, verify: { key: ${pub} }, noClobber: true }\n`,
    );
    expect((await sync(file)).images[0]).toMatchObject({
      action: 'copy',
      digestTags: [sigOf(single.rootDigest)],
    });
    const first = await manifestOf(b, 'resigned/app', sigOf(single.rootDigest));

    await sign(`${a.host}/resigned/app:1.0.0`, 2);
    const moved = await manifestOf(a, 'resigned/app', sigOf(single.rootDigest));
    expect(moved?.digest).not.toBe(first?.digest);
    const again = await sync(file);
    expect(again.images[0]).toMatchObject({
      action: 'skip',
      reason: 'already there; newer digest tags at the source',
      digestTags: [sigOf(single.rootDigest)],
    });
    expect((await manifestOf(b, 'resigned/app', sigOf(single.rootDigest)))?.digest).toBe(moved?.digest);
    const layers = (json: Buffer | undefined) =>
      (JSON.parse(json?.toString() ?? '{}') as { layers?: unknown[] }).layers?.length;
    expect(layers((await manifestOf(b, 'resigned/app', sigOf(single.rootDigest)))?.bytes)).toBe(2);
  });

  it('with --dry-run reports the digest tags that would travel and writes nothing', async () => {
    await seedRegistry(a, 'planned/app', single, '1.0.0');
    await seedRegistry(a, 'planned/app', other, '2.0.0');
    await sign(`${a.host}/planned/app:1.0.0`, 1);
    const proxy = await startFaultProxy(b.baseUrl);
    try {
      const file = await syncFile(
        `sync:\n  - { source: ${a.host}/planned/app, target: ${proxy.host}/planned/app, digestTags: true }\n`,
      );
      await sync(file);
      await sign(`${a.host}/planned/app:1.0.0`, 2);
      await sign(`${a.host}/planned/app:2.0.0`, 1);
      const before = await manifestOf(b, 'planned/app', sigOf(single.rootDigest));
      proxy.hits.length = 0;

      const plan = await sync(file, '--dry-run');
      const byTag = Object.fromEntries(plan.images.map((image) => [image.target.split(':').pop(), image]));
      expect(byTag['1.0.0']).toMatchObject({ action: 'skip', digestTags: [sigOf(single.rootDigest)] });
      expect(byTag['2.0.0']).toMatchObject({ action: 'skip', digestTags: [sigOf(other.rootDigest)] });
      expect(plan.summary).toEqual({ copied: 0, skipped: 2, refreshed: 2, conflicts: 0, failed: 0 });
      const text = await runTug(['sync', file, '--dry-run'], { timeoutMs: 60_000 });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(
        `skip     ${a.host}/planned/app:2.0.0 -> ${proxy.host}/planned/app:2.0.0: already there; newer digest tags at the source (+ ${sigOf(other.rootDigest)})`,
      );
      expect(text.stderr).toContain('0 to copy, 2 skipped (2 with newer digest tags), 0 conflicts, 0 failed');

      expect(proxy.hits.filter((hit) => hit.method !== 'GET' && hit.method !== 'HEAD')).toEqual([]);
      expect((await manifestOf(b, 'planned/app', sigOf(single.rootDigest)))?.digest).toBe(before?.digest);
      expect(await tagsOf(b, 'planned/app')).toEqual(['1.0.0', '2.0.0', sigOf(single.rootDigest)].sort());
    } finally {
      await proxy.stop();
    }
  });

  it('lists a source repository once per run, only for entries whose digest tags travel, and asks the destination only for tags the source has', async () => {
    await Promise.all([
      seedRegistry(a, 'cost/plain', single, '1.0.0'),
      seedRegistry(a, 'cost/signed', single, '1.0.0'),
      seedRegistry(a, 'cost/signed', other, '2.0.0'),
    ]);
    await sign(`${a.host}/cost/plain:1.0.0`, 1);
    const [from, to] = await Promise.all([startFaultProxy(a.baseUrl), startFaultProxy(b.baseUrl)]);
    try {
      const file = await syncFile(
        [
          'sync:',
          `  - { source: ${from.host}/cost/plain:1.0.0, target: ${to.host}/cost/plain }`,
          `  - { source: ${from.host}/cost/signed:1.0.0, target: ${to.host}/cost/signed, digestTags: true }`,
          `  - { source: ${from.host}/cost/signed:2.0.0, target: ${to.host}/cost/signed, digestTags: true }`,
        ].join('\n'),
      );
      expect((await sync(file)).summary).toMatchObject({ copied: 3 });
      await sign(`${a.host}/cost/signed:1.0.0`, 1);
      from.hits.length = 0;
      to.hits.length = 0;

      const again = await sync(file);
      expect(again.summary).toEqual({ copied: 0, skipped: 3, refreshed: 1, conflicts: 0, failed: 0 });
      expect(again.images.find((image) => image.digestTags)).toMatchObject({
        source: `${from.host}/cost/signed:1.0.0`,
        digestTags: [sigOf(single.rootDigest)],
      });
      expect(
        from.hits.filter((hit) => hit.path.includes('/tags/list')).map((hit) => hit.path.split('?')[0]),
      ).toEqual(['/v2/cost/signed/tags/list']);
      expect(from.hits.filter((hit) => hit.path.startsWith('/v2/cost/plain/manifests/sha256-'))).toEqual([]);
      const digestTagAsks = to.hits
        .filter((hit) => hit.path.includes('/manifests/sha256-'))
        .map((hit) => hit.path.split('/').pop());
      expect(new Set(digestTagAsks)).toEqual(new Set([sigOf(single.rootDigest)]));
      expect(await tagsOf(b, 'cost/plain')).toEqual(['1.0.0']);
      expect(await tagsOf(b, 'cost/signed')).toEqual(['1.0.0', '2.0.0', sigOf(single.rootDigest)].sort());
    } finally {
      await Promise.all([from.stop(), to.stop()]);
    }
  });
});

const tugBin = resolve(fileURLToPath(import.meta.url), '../../../bin/tug');

/** Runs a sync and kills it (SIGKILL, no clean-up) once it reports its first finished image; how many were finished. */
async function killAfterFirstImage(file: string): Promise<number> {
  const home = await tempDir('tug-home-');
  const child = spawn(process.execPath, [tugBin, 'sync', file], {
    env: { ...process.env, HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const finishedLines = () => output.split('\n').filter((line) => line.startsWith('copy ')).length;
  await new Promise<void>((resolveKill, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sync did not report an image in time: ${output}`));
    }, 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (finishedLines() >= 1) {
        child.kill('SIGKILL');
        clearTimeout(timer);
        resolveKill();
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolveKill();
    });
  });
  await new Promise((done) => child.once('close', done));
  return finishedLines();
}
