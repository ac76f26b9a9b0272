import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

const run = promisify(execFile);
let registry: RegistryFixture;
let work: string;

beforeAll(async () => {
  registry = await startRegistry();
  work = await tempDir();
  await mkdir(join(work, 'web', 'templates'), { recursive: true });
  await writeFile(
    join(work, 'web', 'Chart.yaml'),
    'apiVersion: v2\nname: web\nversion: 1.2.0\nappVersion: 1.16\ndescription: A web chart\n' +
      'home: https://example.com/web\nmaintainers:\n  - name: Ann\n    email: ann@example.com\n' +
      'annotations:\n  category: demo\nsomethingElse: dropped\n',
  );
  await writeFile(join(work, 'web', 'templates', 'cm.yaml'), 'kind: ConfigMap\n');
  await run('tar', ['-czf', 'web-1.2.0.tgz', 'web'], { cwd: work });
});

afterAll(async () => {
  await registry?.stop();
});

async function json(args: string[]): Promise<Record<string, unknown>> {
  const result = await runTug(args);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe('push --helm', () => {
  it("stores Helm's metadata JSON and helm push's annotations, and prints the reference it wrote", async () => {
    const pushed = await runTug(['push', '--helm', 'web-1.2.0.tgz', `${registry.host}/charts`], {
      cwd: work,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toBe(`${registry.host}/charts/web:1.2.0\n`);
    const manifest = (await json(['manifest', 'get', `${registry.host}/charts/web:1.2.0`])) as {
      config: { digest: string };
      annotations: Record<string, string>;
    };
    expect(manifest.annotations).toEqual({
      category: 'demo',
      'org.opencontainers.image.authors': 'Ann (ann@example.com)',
      'org.opencontainers.image.description': 'A web chart',
      'org.opencontainers.image.title': 'web',
      'org.opencontainers.image.url': 'https://example.com/web',
      'org.opencontainers.image.version': '1.2.0',
    });
    const config = await runTug(['blob', 'get', `${registry.host}/charts/web@${manifest.config.digest}`]);
    expect(config.stdout).toBe(
      '{"name":"web","home":"https://example.com/web","version":"1.2.0","description":"A web chart",' +
        '"maintainers":[{"name":"Ann","email":"ann@example.com"}],"apiVersion":"v2","appVersion":"1.16",' +
        '"annotations":{"category":"demo"}}',
    );
  });

  it('adds the created annotation only when SOURCE_DATE_EPOCH is set', async () => {
    const pushed = await runTug(['push', '--helm', 'web-1.2.0.tgz', `${registry.host}/dated`], {
      cwd: work,
      env: { SOURCE_DATE_EPOCH: '1609459200' },
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const manifest = (await json(['manifest', 'get', `${registry.host}/dated/web:1.2.0`])) as {
      annotations: Record<string, string>;
    };
    expect(manifest.annotations['org.opencontainers.image.created']).toBe('2021-01-01T00:00:00Z');
  });

  it("refuses a tag other than the chart's version, and --artifact-type", async () => {
    const wrongTag = await runTug(['push', '--helm', 'web-1.2.0.tgz', `${registry.host}/charts:2.0.0`], {
      cwd: work,
    });
    expect(wrongTag.code).toBe(2);
    expect(wrongTag.stderr).toContain("the chart's version is 1.2.0, not 2.0.0");
    const sameTag = await runTug(['push', '--helm', 'web-1.2.0.tgz', `${registry.host}/charts:1.2.0`], {
      cwd: work,
    });
    expect(sameTag.code, sameTag.stderr).toBe(0);
    const typed = await runTug(
      ['push', '--helm', 'web-1.2.0.tgz', '--artifact-type', 'x/y', `${registry.host}/charts`],
      { cwd: work },
    );
    expect(typed.code).toBe(2);
    expect(typed.stderr).toContain('--artifact-type');
  });

  it('pushes to an oci: layout as DIR/NAME:VERSION, and pulls back the same .tgz', async () => {
    const pushed = await runTug(['push', '--helm', 'web-1.2.0.tgz', 'oci:layouts'], { cwd: work });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toBe('oci:layouts/web:1.2.0\n');
    const out = await tempDir();
    const pulled = await runTug(['pull', `oci:${join(work, 'layouts', 'web')}:1.2.0`, '-o', out]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await readFile(join(out, 'web-1.2.0.tgz'))).toEqual(await readFile(join(work, 'web-1.2.0.tgz')));
  });
});

describe('pull of a Helm chart', () => {
  it('names a chart pushed without title annotations (older Helm) NAME-VERSION.tgz from its config', async () => {
    const repo = `${registry.host}/old/web`;
    const chart = join(work, 'web-1.2.0.tgz');
    const config = join(work, 'old-config.json');
    await writeFile(config, '{"name":"web","version":"1.2.0","apiVersion":"v2"}');
    const chartDigest = (await runTug(['blob', 'put', repo, chart])).stdout.trim();
    const configDigest = (await runTug(['blob', 'put', repo, config])).stdout.trim();
    const manifest = {
      schemaVersion: 2,
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: configDigest,
        size: (await readFile(config)).byteLength,
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
          digest: chartDigest,
          size: (await readFile(chart)).byteLength,
        },
      ],
    };
    const put = await runTug(
      ['manifest', 'put', `${repo}:1.2.0`, '-', '--media-type', 'application/vnd.oci.image.manifest.v1+json'],
      { input: JSON.stringify(manifest) },
    );
    expect(put.code, put.stderr).toBe(0);
    const out = await tempDir();
    const pulled = await runTug(['pull', `${repo}:1.2.0`, '-o', out]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await readFile(join(out, 'web-1.2.0.tgz'))).toEqual(await readFile(chart));
  });
});
