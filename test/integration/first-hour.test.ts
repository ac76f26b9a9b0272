import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let image: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  image = await buildImageLayout({ layers: 1, tag: 'v1' });
  await seedRegistry(registry, 'src/app', image, 'v1');
  await seedRegistry(registry, 'src/app', image, 'v2');
});

afterAll(async () => {
  await registry?.stop();
});

describe('push from stdin and pull it back', () => {
  it('titles the stdin layer "stdin" so pull writes it as a file', async () => {
    const pushed = await runTug(['push', `${registry.host}/stdin/x:1`, '-'], { input: 'hi\n' });
    expect(pushed.code, pushed.stderr).toBe(0);
    const out = await tempDir();
    const pulled = await runTug(['pull', `${registry.host}/stdin/x:1`, '-o', out]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await readFile(join(out, 'stdin'), 'utf8')).toBe('hi\n');
    expect(pulled.stderr).toMatch(new RegExp(`^pulled sha256:[0-9a-f]{64}: 1 file written to ${out}, `, 'm'));
  });

  it('takes the title from --stdin-name', async () => {
    const pushed = await runTug(
      ['push', '--stdin-name', 'notes.txt', `${registry.host}/stdin/named:1`, '-'],
      {
        input: 'hi\n',
      },
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    const out = await tempDir();
    expect((await runTug(['pull', `${registry.host}/stdin/named:1`, '-o', out])).code).toBe(0);
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('hi\n');
  });

  it('says which untitled layers of an artifact it skipped, instead of calling it a container image', async () => {
    const repo = `${registry.host}/untitled/x`;
    const layer = (await runTug(['blob', 'put', repo, '-'], { input: 'raw\n' })).stdout.trim();
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.example',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
      },
      layers: [{ mediaType: 'text/plain', digest: layer, size: 4 }],
    };
    await runTug(['blob', 'put', repo, '-'], { input: '{}' });
    expect(
      (await runTug(['manifest', 'put', `${repo}:1`, '-'], { input: JSON.stringify(manifest) })).code,
    ).toBe(0);
    const pulled = await runTug(['pull', `${repo}:1`, '-o', await tempDir()]);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).not.toContain('container image');
    expect(pulled.stderr).toContain(`skipped ${layer} (text/plain, 4 B)`);
  });
});

describe('--annotation-file', () => {
  it('puts $config annotations on the empty config, and refuses a key that names no pushed file', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'a.txt'), 'a\n');
    await writeFile(
      join(work, 'ok.json'),
      JSON.stringify({ $config: { purpose: 'demo' }, 'a.txt': { k: 'v' } }),
    );
    await writeFile(join(work, 'bad.json'), JSON.stringify({ 'b.txt': { k: 'v' } }));
    const ref = `${registry.host}/annotated/x:1`;
    const ok = await runTug(['push', '--annotation-file', 'ok.json', ref, 'a.txt'], { cwd: work });
    expect(ok.code, ok.stderr).toBe(0);
    const manifest = JSON.parse((await runTug(['manifest', 'get', ref])).stdout);
    expect(manifest.config.annotations).toEqual({ purpose: 'demo' });
    expect(manifest.layers[0].annotations).toEqual({ 'org.opencontainers.image.title': 'a.txt', k: 'v' });
    const bad = await runTug(['push', '--annotation-file', 'bad.json', ref, 'a.txt'], { cwd: work });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"b.txt", which is not pushed');
  });
});

describe('pull --keep-old-files', () => {
  it('names the file it refuses to overwrite', async () => {
    const work = await tempDir();
    await writeFile(join(work, 'big.jar'), 'new\n');
    const ref = `${registry.host}/keep/x:1`;
    expect((await runTug(['push', ref, 'big.jar'], { cwd: work })).code).toBe(0);
    const out = await tempDir();
    await writeFile(join(out, 'big.jar'), 'old\n');
    const pulled = await runTug(['pull', '--keep-old-files', ref, '-o', out]);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toMatch(/^error: refusing to overwrite big.jar\b/m);
    expect(pulled.stderr).not.toContain('copy failed');
    expect(await readFile(join(out, 'big.jar'), 'utf8')).toBe('old\n');
  });
});

describe('destination parts are honoured or refused, never dropped', () => {
  it('copies to REPO@DIGEST when the digest is what is copied, and fails when it is not', async () => {
    const source = `${registry.host}/src/app:v1`;
    const right = await runTug(['cp', source, `${registry.host}/pinned/app@${image.rootDigest}`]);
    expect(right.code, right.stderr).toBe(0);
    expect((await runTug(['digest', `${registry.host}/pinned/app@${image.rootDigest}`])).code).toBe(0);
    const other = `sha256:${'0'.repeat(64)}`;
    const wrong = await runTug(['cp', source, `${registry.host}/pinned/other@${other}`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`copied ${image.rootDigest}, but the destination names ${other}`);
  });

  it('refuses an oci: destination named by a digest, writing nothing', async () => {
    const dir = join(await tempDir(), 'layout');
    const result = await runTug(['cp', `${registry.host}/src/app:v1`, `oci:${dir}@${image.rootDigest}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('an oci: destination takes a tag, not a digest');
    await expect(readFile(join(dir, 'index.json'))).rejects.toThrow();
  });

  it('refuses --all-tags to a destination with a tag', async () => {
    const result = await runTug([
      'cp',
      '--all-tags',
      `${registry.host}/src/app`,
      `${registry.host}/all/app:x`,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--all-tags');
  });

  it('prints one line per tag with --all-tags, naming the tag', async () => {
    const result = await runTug(['cp', '--all-tags', `${registry.host}/src/app`, `${registry.host}/all/app`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`v1 ${image.rootDigest}\nv2 ${image.rootDigest}\n`);
  });
});

describe('output details', () => {
  it('gives --json on digest and tag', async () => {
    const digest = await runTug(['--json', 'digest', `${registry.host}/src/app:v1`]);
    expect(digest.code, digest.stderr).toBe(0);
    expect(JSON.parse(digest.stdout)).toMatchObject({
      reference: `${registry.host}/src/app:v1`,
      digest: image.rootDigest,
      mediaType: image.rootMediaType,
    });
    const tag = await runTug(['--json', 'tag', `${registry.host}/src/app:v1`, 'json-a', 'json-b']);
    expect(tag.code, tag.stderr).toBe(0);
    expect(JSON.parse(tag.stdout)).toEqual({ digest: image.rootDigest, tags: ['json-a', 'json-b'] });
  });

  it('refuses a --progress mode it does not know', async () => {
    const result = await runTug(['--progress', 'fancy', 'digest', `${registry.host}/src/app:v1`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('auto, plain, json, none');
    const none = await runTug(['--progress', 'none', 'digest', `${registry.host}/src/app:v1`]);
    expect(none.code, none.stderr).toBe(0);
  });
});

describe('wording', () => {
  it('warns when index create lists two entries for one platform', async () => {
    const source = `${registry.host}/src/app`;
    const result = await runTug([
      'index',
      'create',
      `${registry.host}/idx/app:1`,
      `${source}:v1`,
      `${source}:v2`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: two or more entries are for [a-z0-9]+\/[a-z0-9]+/);
  });

  it('says when an image has no layers', async () => {
    const repo = `${registry.host}/empty/image`;
    const configJson = '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}';
    const config = (await runTug(['blob', 'put', repo, '-'], { input: configJson })).stdout.trim();
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: config,
        size: Buffer.byteLength(configJson),
      },
      layers: [],
    };
    expect(
      (await runTug(['manifest', 'put', `${repo}:1`, '-'], { input: JSON.stringify(manifest) })).code,
    ).toBe(0);
    const result = await runTug(['inspect', `${repo}:1`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Layers:      none (this manifest has no layers)');
  });

  it('takes docker://REF as skopeo users write it', async () => {
    const result = await runTug(['digest', `docker://${registry.host}/src/app:v1`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(image.rootDigest);
  });
});
