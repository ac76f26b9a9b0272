import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { skopeo } from '../fixtures/skopeo.js';
import { tempDir } from '../fixtures/temp.js';

/** Completes `line` (the cursor at its end) with the generated bash script, as bash's complete -F does. */
async function bashComplete(script: string, line: string): Promise<string[]> {
  const file = join(await tempDir(), 'tug.bash');
  await writeFile(file, script);
  const words = line.split(' ');
  const program = [
    `source ${file}`,
    `COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_tug_completion tug',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash code, not a template
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const { stdout } = await promisify(execFile)('bash', ['-c', program]);
  return stdout.split('\n').filter(Boolean);
}

describe('version', () => {
  it('prints the same version for tug version, -V and --version', async () => {
    const outputs = await Promise.all([runTug(['version']), runTug(['-V']), runTug(['--version'])]);
    for (const result of outputs) {
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
    expect(new Set(outputs.map((result) => result.stdout)).size).toBe(1);
  });
});

describe('tug completion', () => {
  it('completes commands, subcommands and each command’s options in bash', async () => {
    const { stdout } = await runTug(['completion', 'bash']);
    expect(await bashComplete(stdout, 'tug ma')).toEqual(['manifest']);
    expect(await bashComplete(stdout, 'tug manifest ')).toEqual(
      expect.arrayContaining(['get', 'put', 'delete']),
    );
    expect(await bashComplete(stdout, 'tug manifest get --d')).toEqual(['--descriptor']);
    expect(await bashComplete(stdout, 'tug ls --insec')).toEqual(['--insecure']);
    expect(await bashComplete(stdout, 'tug cp --all')).toEqual(['--all-tags']);
  });

  it('lists every command of the program in each shell’s script', async () => {
    const help = (await runTug(['--help'])).stdout.split('Commands:')[1] ?? '';
    const commands = [...help.matchAll(/^ {2}([a-z-]+)(?:\|[a-z]+)? /gm)]
      .map((match) => match[1] ?? '')
      .filter((command) => command !== 'help');
    expect(commands).toContain('inspect');
    const [zsh, fish] = await Promise.all([runTug(['completion', 'zsh']), runTug(['completion', 'fish'])]);
    expect(zsh.stdout).toMatch(/^#compdef tug\n/);
    for (const command of commands) {
      expect(zsh.stdout).toContain(`'${command}'`);
      expect(fish.stdout).toContain(`-n '__fish_use_subcommand' -a '${command}'`);
    }
    expect(fish.stdout).toContain(
      "-n '__fish_seen_subcommand_from manifest; and __fish_seen_subcommand_from get' -l descriptor",
    );
  });

  it('refuses a shell it has no script for, with exit 2', async () => {
    const result = await runTug(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bash, zsh, fish/);
  });
});

describe('inspect', () => {
  it('summarises the image config: created, platform, entrypoint and cmd, env count, labels', async () => {
    const image = await buildImageLayout({
      tag: 'v1',
      imageConfig: {
        created: '2024-05-01T10:00:00Z',
        config: {
          Entrypoint: ['/bin/app'],
          Cmd: ['--serve'],
          Env: ['PATH=/usr/bin', 'SECRET=hunter2'],
          Labels: { 'org.opencontainers.image.source': 'https://example.test/app' },
        },
      },
    });
    const result = await runTug(['inspect', `oci:${image.layoutDir}:v1`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Created:     2024-05-01T10:00:00Z');
    expect(result.stdout).toContain('Platform:    linux/amd64');
    expect(result.stdout).toContain('Entrypoint:  ["/bin/app"]');
    expect(result.stdout).toContain('Cmd:         ["--serve"]');
    expect(result.stdout).toContain('Env:         2 variables');
    expect(result.stdout).toContain('org.opencontainers.image.source: https://example.test/app');
    expect(result.stdout).not.toContain('hunter2');
    const json = JSON.parse((await runTug(['--json', 'inspect', `oci:${image.layoutDir}:v1`])).stdout);
    expect(json.image).toEqual({
      created: '2024-05-01T10:00:00Z',
      platform: 'linux/amd64',
      entrypoint: ['/bin/app'],
      cmd: ['--serve'],
      envCount: 2,
      labels: { 'org.opencontainers.image.source': 'https://example.test/app' },
    });
  });

  it('inspects one platform of an index with --platform', async () => {
    const multi = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64/v8'], tag: 'v1' });
    const result = await runTug([
      '--json',
      'inspect',
      '--platform',
      'linux/arm64/v8',
      `oci:${multi.layoutDir}:v1`,
    ]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.digest).toBe(multi.manifestDigests[1]);
    expect(summary.image.platform).toBe('linux/arm64/v8');
    const whole = JSON.parse((await runTug(['--json', 'inspect', `oci:${multi.layoutDir}:v1`])).stdout);
    expect(whole.digest).toBe(multi.rootDigest);
    expect(whole.image).toBeUndefined();
  });
});

describe('manifest get --pretty', () => {
  it('indents the manifest, while the default stays the exact bytes', async () => {
    const image = await buildImageLayout({ tag: 'v1' });
    const exact = await runTug(['manifest', 'get', `oci:${image.layoutDir}:v1`]);
    expect(exact.stdout).not.toContain('\n');
    const pretty = await runTug(['manifest', 'get', '--pretty', `oci:${image.layoutDir}:v1`]);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toBe(`${JSON.stringify(JSON.parse(exact.stdout), null, 2)}\n`);
  });
});

describe('discover', () => {
  it('lists referrers of referrers as a table, and --depth 1 stops at the direct ones', async () => {
    const image = await buildImageLayout({ tag: 'v1' });
    const work = await tempDir();
    await writeFile(join(work, 'sbom.json'), '{"sbom":true}');
    await writeFile(join(work, 'sig.txt'), 'signature');
    const layout = `oci:${image.layoutDir}`;
    const sbom = await runTug(
      ['attach', '--artifact-type', 'application/spdx+json', `${layout}:v1`, 'sbom.json'],
      { cwd: work },
    );
    expect(sbom.code).toBe(0);
    const sbomDigest = sbom.stdout.trim();
    const signature = await runTug(
      ['attach', '--artifact-type', 'application/x-signature', `${layout}@${sbomDigest}`, 'sig.txt'],
      { cwd: work },
    );
    expect(signature.code).toBe(0);
    const signatureDigest = signature.stdout.trim();

    const table = await runTug(['discover', '--format', 'table', `${layout}:v1`]);
    expect(table.code).toBe(0);
    const rows = table.stdout
      .trim()
      .split('\n')
      .map((row) => row.split(/\s{2,}/));
    expect(rows).toEqual([
      ['DIGEST', 'ARTIFACT TYPE', 'SUBJECT'],
      [sbomDigest, 'application/spdx+json', image.rootDigest],
      [signatureDigest, 'application/x-signature', sbomDigest],
    ]);
    const shallow = await runTug(['discover', '--format', 'table', '--depth', '1', `${layout}:v1`]);
    expect(shallow.stdout.trim().split('\n')).toHaveLength(2);
    expect(shallow.stdout).not.toContain(signatureDigest);
  });
});

describe('tag and delete on OCI layouts', () => {
  const blobsIn = async (layout: string) => (await readdir(join(layout, 'blobs', 'sha256'))).sort();
  const refNames = async (layout: string) =>
    (
      JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
        manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
      }
    ).manifests.map((entry) => [entry.annotations?.['org.opencontainers.image.ref.name'], entry.digest]);

  it('tags, deletes by tag and by digest, and removes only blobs no other image uses', async () => {
    const a = await buildImageLayout({ tag: 'v1', layers: 2 });
    const b = await buildImageLayout({ tag: 'v1' });
    const layout = a.layoutDir;
    const aBlobs = await blobsIn(layout);
    expect((await runTug(['cp', `oci:${b.layoutDir}:v1`, `oci:${layout}:b`])).code).toBe(0);

    const tagged = await runTug(['tag', `oci:${layout}:v1`, 'keep', 'also']);
    expect(tagged.code).toBe(0);
    expect(await refNames(layout)).toEqual([
      ['v1', a.rootDigest],
      ['b', b.rootDigest],
      ['keep', a.rootDigest],
      ['also', a.rootDigest],
    ]);

    const byTag = await runTug(['delete', `oci:${layout}:v1`]);
    expect(byTag.code).toBe(0);
    expect((await refNames(layout)).map(([name]) => name)).toEqual(['b', 'keep', 'also']);
    expect(await blobsIn(layout)).toEqual(expect.arrayContaining(aBlobs));

    const byDigest = await runTug(['delete', `oci:${layout}@${a.rootDigest}`]);
    expect(byDigest.code).toBe(0);
    expect(await refNames(layout)).toEqual([['b', b.rootDigest]]);
    expect(await blobsIn(layout)).toEqual((await blobsIn(b.layoutDir)).sort());
    await skopeo(['inspect', `oci:${layout}:b`]);

    const missing = await runTug(['delete', `oci:${layout}:v1`]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/tag v1 not found/);
  });

  it("asks for a tag or digest rather than deleting a layout's only manifest unnamed", async () => {
    const image = await buildImageLayout({ tag: 'v1' });
    const result = await runTug(['delete', `oci:${image.layoutDir}`]);
    expect(result.code).toBe(2);
    expect(await refNames(image.layoutDir)).toHaveLength(1);
  });
});

describe('-H/--header', () => {
  let open: RegistryFixture;
  let tokens: RegistryFixture;
  let image: BuiltImage;
  const proxies: FaultProxy[] = [];
  beforeAll(async () => {
    [open, tokens] = await Promise.all([startRegistry(), startRegistry({ auth: 'token' })]);
    image = await buildImageLayout({ tag: 'v1' });
    await Promise.all([
      seedRegistry(open, 'app', image, 'v1'),
      seedRegistry(tokens, 'private/hello', image, 'v1'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([...proxies.map((proxy) => proxy.stop()), open?.stop(), tokens?.stop()]);
  });
  const proxyTo = async (registry: RegistryFixture) => {
    const proxy = await startFaultProxy(registry.baseUrl);
    proxies.push(proxy);
    return proxy;
  };

  it('sends the headers to the registry, and not along a redirect to another origin', async () => {
    const [front, storage] = await Promise.all([proxyTo(open), proxyTo(open)]);
    const layer = image.blobDigests[0] ?? '';
    front.setRules([
      {
        method: 'GET',
        path: new RegExp(`/blobs/${layer}`),
        redirectTo: `${storage.baseUrl}/v2/app/blobs/${layer}`,
      },
    ]);
    const result = await runTug([
      '-H',
      'X-Tug-Test: one',
      '--header',
      'X-Second:two',
      'cp',
      `${front.host}/app:v1`,
      `oci:${await tempDir()}:v1`,
    ]);
    expect(result.code).toBe(0);
    expect(front.hits.length).toBeGreaterThan(2);
    for (const hit of front.hits)
      expect(hit.headers).toMatchObject({ 'x-tug-test': 'one', 'x-second': 'two' });
    expect(storage.hits.map((hit) => hit.path)).toEqual([`/v2/app/blobs/${layer}`]);
    expect(storage.hits[0]?.headers['x-tug-test']).toBeUndefined();
  });

  it('keeps the headers from the token realm, and their values out of the -v trace when they look secret', async () => {
    const front = await proxyTo(tokens);
    const before = tokens.issuer?.requests.length ?? 0;
    const result = await runTug([
      '-v',
      '-H',
      'X-Api-Key: s3cr3t-value',
      '-u',
      tokens.username ?? '',
      '-p',
      tokens.password ?? '',
      'digest',
      `${front.host}/private/hello:v1`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(image.rootDigest);
    expect(front.hits.every((hit) => hit.headers['x-api-key'] === 's3cr3t-value')).toBe(true);
    const issued = tokens.issuer?.requests.slice(before) ?? [];
    expect(issued.length).toBeGreaterThan(0);
    for (const request of issued) expect(request.headers['x-api-key']).toBeUndefined();
    expect(result.stderr).toContain('x-api-key');
    expect(result.stderr).not.toContain('s3cr3t-value');
  });

  it('refuses a header without a name, or one the HTTP stack owns, with exit 2', async () => {
    for (const header of ['no colon here', 'Host: elsewhere.test']) {
      const result = await runTug(['-H', header, 'digest', `${open.host}/app:v1`]);
      expect(result.code).toBe(2);
    }
  });
});
