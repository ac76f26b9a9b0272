import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type ReferrersRegistry, startReferrersRegistry } from '../fixtures/referrers-registry.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

const run = promisify(execFile);
const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let registry: RegistryFixture;
let referrersApi: ReferrersRegistry;
let image: BuiltImage;

beforeAll(async () => {
  [registry, referrersApi] = await Promise.all([startRegistry(), startReferrersRegistry()]);
  image = await buildImageLayout({ layers: 1, tag: 'v1' });
  await seedRegistry(registry, 'app', image, 'v1');
});

afterAll(async () => {
  await Promise.all([registry?.stop(), referrersApi?.stop()]);
});

async function tree(root: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(join(root, prefix))) {
    const relative = prefix ? `${prefix}/${name}` : name;
    if ((await stat(join(root, relative))).isDirectory()) Object.assign(out, await tree(root, relative));
    else out[relative] = sha256(await readFile(join(root, relative)));
  }
  return out;
}

describe('push and pull artifacts', () => {
  it('pushes a JAR with its own artifactType in the manifest shape oras writes, and pulls it back byte for byte', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'app.jar'), Buffer.from('PK\u0003\u0004 a jar, honestly'));
    const pushed = await runTug(
      [
        'push',
        '--artifact-type',
        'application/vnd.mycompany.jar.v1+java',
        '-a',
        'org.opencontainers.image.source=https://example.test/app',
        `${registry.host}/jars/app:1.0`,
        'app.jar:application/java-archive',
      ],
      { cwd: work },
    );
    expect(pushed.code).toBe(0);
    const digest = pushed.stdout.trim();
    const manifest = JSON.parse((await runTug(['manifest', 'get', `${registry.host}/jars/app:1.0`])).stdout);
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.mycompany.jar.v1+java',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
        data: 'e30=',
      },
      layers: [
        {
          mediaType: 'application/java-archive',
          digest: sha256(await readFile(join(work, 'app.jar'))),
          size: (await stat(join(work, 'app.jar'))).size,
          annotations: { 'org.opencontainers.image.title': 'app.jar' },
        },
      ],
      annotations: { 'org.opencontainers.image.source': 'https://example.test/app' },
    });
    const again = await runTug(
      [
        'push',
        '--artifact-type',
        'application/vnd.mycompany.jar.v1+java',
        '-a',
        'org.opencontainers.image.source=https://example.test/app',
        `${registry.host}/jars/app:1.0-again`,
        'app.jar:application/java-archive',
      ],
      { cwd: work },
    );
    expect(again.stdout.trim()).toBe(digest);

    const out = await tempDir();
    const pulled = await runTug(['pull', `${registry.host}/jars/app:1.0`, '-o', out]);
    expect(pulled.code).toBe(0);
    expect(await readFile(join(out, 'app.jar'))).toEqual(await readFile(join(work, 'app.jar')));
  });

  it('round-trips a directory (nested, empty files, unicode names) and the same directory pushes the same digest', async () => {
    const work = await tempDir();
    await mkdir(join(work, 'bundle', 'nested', 'déjà vu'), { recursive: true });
    await writeFile(join(work, 'bundle', 'config.yaml'), 'a: 1\n');
    await writeFile(join(work, 'bundle', 'empty'), '');
    await writeFile(join(work, 'bundle', 'nested', 'déjà vu', 'файл.txt'), 'unicode ✓');
    const first = await runTug(['push', `${registry.host}/bundles/b:1`, 'bundle'], { cwd: work });
    const second = await runTug(['push', `${registry.host}/bundles/b:2`, 'bundle'], { cwd: work });
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const out = await tempDir();
    expect((await runTug(['pull', `${registry.host}/bundles/b:1`, '-o', out])).code).toBe(0);
    expect(await tree(out)).toEqual(await tree(work));
  });

  it('pushes a multi-file artifact with its own config and per-file annotations, and pulls every file back', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'model.bin'), Buffer.alloc(4096, 7));
    await writeFile(join(work, 'README.txt'), 'how to use the model\n');
    await writeFile(join(work, 'config.json'), '{"framework":"onnx"}');
    await writeFile(
      join(work, 'annotations.json'),
      JSON.stringify({ $manifest: { team: 'ml' }, 'model.bin': { purpose: 'weights' } }),
    );
    const exported = join(work, 'exported.json');
    const pushed = await runTug(
      [
        'push',
        '--artifact-type',
        'application/vnd.example.model.v1',
        '--config',
        'config.json:application/vnd.example.model.config.v1+json',
        '--annotation-file',
        'annotations.json',
        '--export-manifest',
        exported,
        `${registry.host}/models/m:1`,
        'model.bin:application/octet-stream',
        'README.txt',
      ],
      { cwd: work },
    );
    expect(pushed.code).toBe(0);
    const manifest = JSON.parse((await runTug(['manifest', 'get', `${registry.host}/models/m:1`])).stdout);
    expect(sha256(await readFile(exported))).toBe(pushed.stdout.trim());
    expect(manifest.artifactType).toBe('application/vnd.example.model.v1');
    expect(manifest.config).toMatchObject({
      mediaType: 'application/vnd.example.model.config.v1+json',
      size: 20,
    });
    expect(manifest.annotations).toEqual({ team: 'ml' });
    expect(
      manifest.layers.map((layer: { annotations: Record<string, string> }) => layer.annotations),
    ).toEqual([
      { 'org.opencontainers.image.title': 'model.bin', purpose: 'weights' },
      { 'org.opencontainers.image.title': 'README.txt' },
    ]);
    expect(manifest.layers[1].mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    const out = await tempDir();
    const pulled = await runTug(['pull', `${registry.host}/models/m:1`, '-o', out]);
    expect(pulled.stdout.trim().split('\n').sort()).toEqual(['README.txt', 'model.bin']);
    expect(await readFile(join(out, 'model.bin'))).toEqual(Buffer.alloc(4096, 7));
    expect(await readFile(join(out, 'README.txt'), 'utf8')).toBe('how to use the model\n');
  });

  it('pushes to and pulls from an OCI layout with no server', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'hello.txt'), 'hello\n');
    expect((await runTug(['push', 'oci:layout:v1', 'hello.txt'], { cwd: work })).code).toBe(0);
    expect((await runTug(['pull', 'oci:layout:v1', '-o', 'out'], { cwd: work })).code).toBe(0);
    expect(await readFile(join(work, 'out', 'hello.txt'), 'utf8')).toBe('hello\n');
  });

  it('refuses to overwrite with --keep-old-files', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'a.txt'), 'new');
    await runTug(['push', `${registry.host}/keep/a:1`, 'a.txt'], { cwd: work });
    const out = await tempDir();
    await writeFile(join(out, 'a.txt'), 'old');
    const result = await runTug(['pull', '--keep-old-files', `${registry.host}/keep/a:1`, '-o', out]);
    expect(result.code).toBe(1);
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('old');
  });

  it('says a container image is not an artifact and suggests tug cp', async () => {
    const result = await runTug(['pull', `${registry.host}/app:v1`, '-o', await tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('tug cp');
  });
});

describe('hostile artifacts are refused', () => {
  async function pushHostile(title: string): Promise<string> {
    const work = await tempDir();
    await writeFile(join(work, 'payload'), 'owned');
    const annotations = join(work, 'annotations.json');
    await writeFile(annotations, JSON.stringify({ payload: { 'org.opencontainers.image.title': title } }));
    const reference = `${registry.host}/hostile/t:${createHash('sha256').update(title).digest('hex').slice(0, 8)}`;
    const pushed = await runTug(['push', '--annotation-file', annotations, reference, 'payload'], {
      cwd: work,
    });
    expect(pushed.code).toBe(0);
    return reference;
  }

  it.each(['../x', '/etc/x', '../../.bashrc'])(
    'refuses the title %s with exit 1 and writes nothing outside',
    async (title) => {
      const reference = await pushHostile(title);
      const parent = await tempDir();
      const out = join(parent, 'out');
      const result = await runTug(['pull', reference, '-o', out]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('refusing');
      expect((await readdir(parent)).filter((name) => name !== 'out')).toEqual([]);
    },
  );
});

describe('decompression bombs', () => {
  it('refuses a packed directory that expands too far, and pulls it when the cap is raised', async () => {
    const work = await tempDir();
    await mkdir(join(work, 'zeros'));
    await writeFile(join(work, 'zeros', 'blank.img'), Buffer.alloc(80 * 1024 * 1024));
    const pushed = await runTug(['push', `${registry.host}/bombs/zeros:v1`, 'zeros'], { cwd: work });
    expect(pushed.code).toBe(0);
    const parent = await tempDir();
    const refused = await runTug(['pull', `${registry.host}/bombs/zeros:v1`, '-o', join(parent, 'out')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('uncompressed size limit exceeded');
    expect(refused.stderr).toContain('--max-unpack-ratio');
    expect(await readdir(join(parent, 'out')).catch(() => [])).toEqual([]);
    const allowed = await runTug([
      'pull',
      '--max-unpack-ratio',
      '5000',
      `${registry.host}/bombs/zeros:v1`,
      '-o',
      join(parent, 'out'),
    ]);
    expect(allowed.code).toBe(0);
    expect((await stat(join(parent, 'out', 'zeros', 'blank.img'))).size).toBe(80 * 1024 * 1024);
  });
});

describe('referrers', () => {
  it('attaches an SBOM on a registry without the referrers API and discovers it through the tag schema', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'sbom.spdx.json'), JSON.stringify({ spdxVersion: 'SPDX-2.3' }));
    const subject = `${registry.host}/app:v1`;
    const attached = await runTug(
      ['attach', '--artifact-type', 'application/spdx+json', subject, 'sbom.spdx.json'],
      {
        cwd: work,
      },
    );
    expect(attached.code).toBe(0);
    const referrer = attached.stdout.trim();
    const fallbackTag = `${registry.host}/app:sha256-${image.rootDigest.slice(7)}`;
    const index = JSON.parse((await runTug(['manifest', 'get', fallbackTag])).stdout);
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: referrer, artifactType: 'application/spdx+json' }),
    ]);

    const signature = join(work, 'sig');
    await writeFile(signature, 'signed');
    await runTug(
      [
        'attach',
        '--artifact-type',
        'application/vnd.example.signature',
        `${registry.host}/app@${referrer}`,
        'sig',
      ],
      {
        cwd: work,
      },
    );
    const discovered = await runTug(['discover', '--format', 'json', subject]);
    const listing = JSON.parse(discovered.stdout);
    expect(listing.referrers).toHaveLength(1);
    expect(listing.referrers[0].digest).toBe(referrer);
    expect(listing.referrers[0].referrers[0].artifactType).toBe('application/vnd.example.signature');
    const filtered = await runTug([
      'discover',
      '--artifact-type',
      'application/vnd.example.none',
      '--format',
      'json',
      subject,
    ]);
    expect(JSON.parse(filtered.stdout).referrers).toEqual([]);
    const treeView = await runTug(['discover', subject]);
    expect(treeView.stdout).toContain('application/spdx+json');
  });

  it('uses the referrers API where the registry has it, without a fallback tag', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'hello.txt'), 'hello');
    const subjectDigest = (
      await runTug(['push', `${referrersApi.host}/app:v1`, 'hello.txt'], { cwd: work })
    ).stdout.trim();
    await writeFile(join(work, 'sbom.json'), '{}');
    const attached = await runTug(
      ['attach', '--artifact-type', 'application/spdx+json', `${referrersApi.host}/app:v1`, 'sbom.json'],
      { cwd: work },
    );
    expect(attached.code).toBe(0);
    expect(referrersApi.requests.some((r) => r.method === 'PUT' && r.path.includes('sha256-'))).toBe(false);
    const listing = JSON.parse(
      (await runTug(['discover', '--format', 'json', `${referrersApi.host}/app:v1`])).stdout,
    );
    expect(listing.referrers.map((r: { digest: string }) => r.digest)).toEqual([attached.stdout.trim()]);
    expect(referrersApi.requests.some((r) => r.path.startsWith(`/v2/app/referrers/${subjectDigest}`))).toBe(
      true,
    );
  });
});

describe('concurrent writers of a referrers tag', () => {
  it('keeps every referrer when four attach at once to a registry that honours If-Match', async () => {
    const conditional = await startReferrersRegistry({ referrersApi: false });
    try {
      const work = await tempDir();
      await writeFile(join(work, 'app.txt'), 'app');
      await runTug(['push', `${conditional.host}/racy:v1`, 'app.txt'], { cwd: work });
      const types = ['a', 'b', 'c', 'd'].map((letter) => `application/vnd.example.${letter}`);
      for (const type of types)
        await writeFile(join(work, `${type.slice(-1)}.json`), JSON.stringify({ type }));
      const attached = await Promise.all(
        types.map((type) =>
          runTug(
            ['attach', '--artifact-type', type, `${conditional.host}/racy:v1`, `${type.slice(-1)}.json`],
            { cwd: work },
          ),
        ),
      );
      expect(attached.map((result) => result.code)).toEqual([0, 0, 0, 0]);
      const listing = JSON.parse(
        (await runTug(['discover', '--format', 'json', `${conditional.host}/racy:v1`])).stdout,
      );
      expect(listing.referrers.map((node: { artifactType: string }) => node.artifactType).sort()).toEqual(
        types,
      );
      expect(
        conditional.requests.some(
          (request) => request.method === 'PUT' && request.path.includes('/manifests/sha256-'),
        ),
      ).toBe(true);
    } finally {
      await conditional.stop();
    }
  });
});

describe('cp -r copies referrers with the graph', () => {
  it('carries an SBOM and its signature along, from the referrers API to a registry with the tag schema', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'hello.txt'), 'hello');
    await writeFile(join(work, 'sbom.json'), '{"sbom":true}');
    await writeFile(join(work, 'sig'), 'signature');
    await runTug(['push', `${referrersApi.host}/signed:v1`, 'hello.txt'], { cwd: work });
    const sbom = (
      await runTug(
        ['attach', '--artifact-type', 'application/spdx+json', `${referrersApi.host}/signed:v1`, 'sbom.json'],
        { cwd: work },
      )
    ).stdout.trim();
    const signature = (
      await runTug(
        [
          'attach',
          '--artifact-type',
          'application/vnd.example.sig',
          `${referrersApi.host}/signed@${sbom}`,
          'sig',
        ],
        { cwd: work },
      )
    ).stdout.trim();

    const plain = await runTug(['cp', `${referrersApi.host}/signed:v1`, `${registry.host}/copied/plain:v1`]);
    expect(plain.code).toBe(0);
    expect(
      JSON.parse((await runTug(['discover', '--format', 'json', `${registry.host}/copied/plain:v1`])).stdout)
        .referrers,
    ).toEqual([]);

    const recursive = await runTug([
      'cp',
      '-r',
      `${referrersApi.host}/signed:v1`,
      `${registry.host}/copied/signed:v1`,
    ]);
    expect(recursive.code).toBe(0);
    const listing = JSON.parse(
      (await runTug(['discover', '--format', 'json', `${registry.host}/copied/signed:v1`])).stdout,
    );
    expect(listing.referrers.map((node: { digest: string }) => node.digest)).toEqual([sbom]);
    expect(listing.referrers[0].referrers.map((node: { digest: string }) => node.digest)).toEqual([
      signature,
    ]);
  });
});

describe('Helm charts', () => {
  it('pushes a packaged chart in Helm format tagged by its version, and pulls back the same .tgz', async () => {
    const work = await tempDir();
    await mkdir(join(work, 'mychart', 'templates'), { recursive: true });
    await writeFile(
      join(work, 'mychart', 'Chart.yaml'),
      'apiVersion: v2\nname: mychart\nversion: 0.3.1\ndescription: A demo chart\n',
    );
    await writeFile(join(work, 'mychart', 'templates', 'cm.yaml'), 'kind: ConfigMap\n');
    await run('tar', ['-czf', 'mychart-0.3.1.tgz', 'mychart'], { cwd: work });
    const pushed = await runTug(['push', '--helm', 'mychart-0.3.1.tgz', `${registry.host}/charts`], {
      cwd: work,
    });
    expect(pushed.code).toBe(0);
    const manifest = JSON.parse(
      (await runTug(['manifest', 'get', `${registry.host}/charts/mychart:0.3.1`])).stdout,
    );
    expect(manifest.config.mediaType).toBe('application/vnd.cncf.helm.config.v1+json');
    expect(manifest.layers[0].mediaType).toBe('application/vnd.cncf.helm.chart.content.v1.tar+gzip');
    const config = JSON.parse(
      (await runTug(['blob', 'get', `${registry.host}/charts/mychart@${manifest.config.digest}`])).stdout,
    );
    expect(config).toMatchObject({ name: 'mychart', version: '0.3.1', apiVersion: 'v2' });
    const out = await tempDir();
    expect((await runTug(['pull', `${registry.host}/charts/mychart:0.3.1`, '-o', out])).code).toBe(0);
    expect(await readFile(join(out, 'mychart-0.3.1.tgz'))).toEqual(
      await readFile(join(work, 'mychart-0.3.1.tgz')),
    );
  });
});
