import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type FaultProxy, startFaultProxy } from '../fixtures/fault-proxy.js';
import { type BuiltImage, buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

let registry: RegistryFixture;
let proxy: FaultProxy;
let image: BuiltImage;
let oversizeDigest: string;
let scratch: string;

const ociManifest = 'application/vnd.oci.image.manifest.v1+json';

beforeAll(async () => {
  registry = await startRegistry({ auth: 'htpasswd' });
  image = await buildImageLayout({ layers: 1, tag: 'v1' });
  await seedRegistry(registry, 'app', image, 'v1');
  proxy = await startFaultProxy(registry.baseUrl, [
    {
      path: /\/v2\/broken\/manifests\//,
      status: 502,
      body: '<html><body>Bad gateway</body></html>',
    },
    {
      path: /\/v2\/garbled\/manifests\//,
      status: 200,
      contentType: ociManifest,
      body: '{"schemaVersion": 2,',
    },
    {
      path: /\/v2\/huge\/manifests\//,
      status: 200,
      contentType: ociManifest,
      bodyBytes: 5 * 1024 * 1024,
    },
  ]);
  oversizeDigest = `sha256:${'0'.repeat(64)}`;
  scratch = await tempDir();
  await writeFile(join(scratch, 'huge.json'), Buffer.alloc(5 * 1024 * 1024, 0x20));
  await writeFile(join(scratch, 'annotations.json'), '{ not json');
  await writeFile(join(scratch, 'file.txt'), 'x');
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

interface BadInput {
  name: string;
  args: () => string[];
  code: number;
  message: RegExp;
}

const auth = () => ['-u', registry.username, '-p', registry.password];

const badInputs: BadInput[] = [
  {
    name: 'an uppercase repository',
    args: () => ['digest', 'localhost:5000/App:v1'],
    code: 2,
    message: /lowercase/,
  },
  {
    name: 'an empty tag',
    args: () => ['digest', 'localhost:5000/app:'],
    code: 2,
    message: /invalid reference/,
  },
  {
    name: 'a short digest',
    args: () => ['digest', 'localhost:5000/app@sha256:abc'],
    code: 2,
    message: /digest/,
  },
  {
    name: 'an unknown digest algorithm',
    args: () => ['digest', `localhost:5000/app@md5:${'a'.repeat(32)}`],
    code: 2,
    message: /digest/,
  },
  {
    name: 'a scheme in a reference',
    args: () => ['digest', 'https://localhost:5000/app:v1'],
    code: 2,
    message: /invalid reference/,
  },
  {
    name: 'an unknown flag',
    args: () => ['digest', '--frobnicate', 'x'],
    code: 2,
    message: /unknown option/,
  },
  { name: 'an unknown command', args: () => ['frobnicate'], code: 2, message: /unknown command/ },
  { name: 'a missing argument', args: () => ['digest'], code: 2, message: /missing required argument/ },
  {
    name: 'a zero concurrency',
    args: () => ['-j', '0', 'tags', 'localhost:5000/app'],
    code: 2,
    message: /whole number/,
  },
  {
    name: 'a malformed platform',
    args: () => ['digest', '--platform', 'linux', 'localhost:5000/app:v1'],
    code: 2,
    message: /platform/,
  },
  {
    name: 'blob get without a digest',
    args: () => ['blob', 'get', 'localhost:5000/app:v1'],
    code: 2,
    message: /REPOSITORY@DIGEST/,
  },
  {
    name: 'a password given twice',
    args: () => ['digest', '-u', 'a', '-p', 'b', '--password-stdin', `${registry.host}/app:v1`],
    code: 2,
    message: /cannot be used together/,
  },
  {
    name: 'a registry that is down',
    args: () => ['digest', '127.0.0.1:1/app:v1'],
    code: 1,
    message: /cannot connect/,
  },
  {
    name: 'a missing tag',
    args: () => ['digest', ...auth(), `${registry.host}/app:nope`],
    code: 4,
    message: /not found/,
  },
  {
    name: 'a missing repository',
    args: () => ['tags', ...auth(), `${registry.host}/nothing/here`],
    code: 4,
    message: /not found/,
  },
  {
    name: 'a missing blob',
    args: () => ['blob', 'get', ...auth(), `${registry.host}/app@${oversizeDigest}`],
    code: 4,
    message: /not found/,
  },
  {
    name: 'a wrong password',
    args: () => ['digest', '-u', registry.username, '-p', 'nope', `${registry.host}/app:v1`],
    code: 3,
    message: /authentication failed/,
  },
  {
    name: 'no credentials',
    args: () => ['digest', `${registry.host}/app:v1`],
    code: 3,
    message: /tug login/,
  },
  {
    name: 'a non-JSON error body',
    args: () => ['digest', ...auth(), `${proxy.host}/broken:v1`],
    code: 1,
    message: /502/,
  },
  {
    name: 'a registry serving a broken manifest (its fault, not bad usage)',
    args: () => ['cp', ...auth(), `${proxy.host}/garbled:v1`, `oci:${join(scratch, 'garbled')}:v1`],
    code: 1,
    message: /JSON|manifest/,
  },
  {
    name: 'a manifest over 4 MiB',
    args: () => ['manifest', 'get', ...auth(), `${proxy.host}/huge:v1`],
    code: 1,
    message: /too large/,
  },
  {
    name: 'a missing OCI layout',
    args: () => ['digest', 'oci:/nonexistent/layout:v1'],
    code: 4,
    message: /no OCI layout/,
  },
  {
    name: 'a file to push that does not exist',
    args: () => ['push', 'oci:x:v1', '/nonexistent/file'],
    code: 2,
    message: /cannot read/,
  },
  {
    name: 'an annotation without =',
    args: () => ['push', '-a', 'novalue', 'oci:x:v1', join(scratch, 'file.txt')],
    code: 2,
    message: /KEY=VALUE/,
  },
  {
    name: 'an annotation file that is not JSON',
    args: () => [
      'push',
      '--annotation-file',
      join(scratch, 'annotations.json'),
      'oci:x:v1',
      join(scratch, 'file.txt'),
    ],
    code: 2,
    message: /not valid JSON/,
  },
  {
    name: 'an unknown discover format',
    args: () => ['discover', '--format', 'xml', 'localhost:5000/a:v1'],
    code: 2,
    message: /tree, table or json/,
  },
  {
    name: 'two platforms where one is read',
    args: () => [
      'digest',
      '--platform',
      'linux/amd64',
      '--platform',
      'linux/arm64',
      `${registry.host}/app:v1`,
    ],
    code: 2,
    message: /one --platform/,
  },
  {
    name: 'a manifest file over 4 MiB',
    args: () => ['manifest', 'put', 'oci:x:v1', join(scratch, 'huge.json')],
    code: 2,
    message: /limited to/,
  },
  {
    name: 'attach without an artifact type',
    args: () => ['attach', 'localhost:5000/a:v1', 'f'],
    code: 2,
    message: /artifact-type/,
  },
  {
    name: 'a path in a digest',
    args: () => ['blob', 'get', 'localhost:5000/a@sha256:../../etc/passwd'],
    code: 2,
    message: /digest/,
  },
  {
    name: 'login without credentials and no terminal',
    args: () => ['login', registry.host],
    code: 2,
    message: /password-stdin/,
  },
  {
    name: 'an invalid tag for an OCI layout',
    args: () => ['digest', 'oci:dir:bad tag!'],
    code: 2,
    message: /invalid reference/,
  },
  { name: 'an empty registry name', args: () => ['catalog', ''], code: 2, message: /empty registry/ },
];

describe('bad input gets a one-line error and the right exit code', () => {
  it.each(badInputs)('$name → exit $code', async ({ args, code, message }) => {
    const result = await runTug(args());
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain(registry.password);
  });

  it('refuses a manifest file that is not JSON with exit 2, writing nothing', async () => {
    const directory = await tempDir();
    const file = join(directory, 'manifest.json');
    await writeFile(file, 'not json');
    const result = await runTug(['manifest', 'put', `oci:${join(directory, 'layout')}:v1`, file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not valid JSON/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    await expect(readdir(join(directory, 'layout'))).rejects.toThrow();
  });
});

describe('startup', () => {
  it('prints its version', async () => {
    const result = await runTug(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints help with every command', async () => {
    const result = await runTug(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['login', 'digest', 'tags', 'catalog', 'manifest', 'config', 'blob', 'inspect']) {
      expect(result.stdout).toContain(command);
    }
  });
});
