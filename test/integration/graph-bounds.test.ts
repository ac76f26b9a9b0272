import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { type ReferrersRegistry, startReferrersRegistry } from '../fixtures/referrers-registry.js';
import { tempDir } from '../fixtures/temp.js';

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const manifestType = 'application/vnd.oci.image.manifest.v1+json';
const empty = Buffer.from('{}');
const emptyDescriptor = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 };
const REFERRERS = 12;

let registry: ReferrersRegistry;

async function put(path: string, body: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(`${registry.baseUrl}${path}`, { method: 'PUT', body, headers });
  expect(response.status).toBe(201);
  return response;
}

async function putManifest(reference: string, document: object): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(document));
  await put(`/v2/app/manifests/${reference}`, bytes, { 'content-type': manifestType });
  return { digest: sha256(bytes), size: bytes.byteLength };
}

beforeAll(async () => {
  registry = await startReferrersRegistry({ sameReferrersEverywhere: true });
  const started = await fetch(`${registry.baseUrl}/v2/app/blobs/uploads/`, { method: 'POST' });
  await put(`${started.headers.get('location')}?digest=${emptyDescriptor.digest}`, empty);
  const subject = await putManifest('v1', {
    schemaVersion: 2,
    mediaType: manifestType,
    artifactType: 'application/x-subject',
    config: emptyDescriptor,
    layers: [],
  });
  // Twelve referrers of the subject; the registry lists all twelve under every subject.
  for (let index = 0; index < REFERRERS; index++) {
    await putManifest(sha256(Buffer.from(String(index))).replace(':', '-'), {
      schemaVersion: 2,
      mediaType: manifestType,
      artifactType: 'application/x-signature',
      config: emptyDescriptor,
      layers: [],
      subject: { mediaType: manifestType, ...subject },
      annotations: { index: String(index) },
    });
  }
});

afterAll(async () => {
  await registry?.stop();
});

const referrerRequests = (from: number) =>
  registry.requests.slice(from).filter((request) => request.path.includes('/referrers/')).length;

describe('graph walks against a registry that lists the same referrers under every subject', () => {
  it('discover lists the referrers of each digest once per run', async () => {
    const before = registry.requests.length;
    const result = await runTug(['discover', '--format', 'json', `${registry.host}/app:v1`], {
      timeoutMs: 20_000,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The subject and its twelve referrers: thirteen digests, thirteen listings.
    expect(referrerRequests(before)).toBe(REFERRERS + 1);
    const tree = JSON.parse(result.stdout) as { referrers: Array<{ referrers: unknown[] }> };
    expect(tree.referrers).toHaveLength(REFERRERS);
  });

  it('discover stops with a clear error past --max-nodes', async () => {
    const before = registry.requests.length;
    const result = await runTug(['discover', '--max-nodes', '20', `${registry.host}/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stopped after 20 referrers');
    expect(result.stderr).toContain('--max-nodes');
    // Every listing costs at least one entry of the budget.
    expect(referrerRequests(before)).toBeLessThanOrEqual(21);
  });

  it('cp -r copies each digest once and stops past --max-nodes', async () => {
    const layout = await tempDir();
    const before = registry.requests.length;
    const copied = await runTug(['cp', '-r', `${registry.host}/app:v1`, `oci:${layout}:v1`]);
    expect(copied.stderr).not.toContain('error');
    expect(copied.code).toBe(0);
    expect(referrerRequests(before)).toBe(REFERRERS + 1);

    const limited = await runTug([
      'cp',
      '-r',
      '--max-nodes',
      '5',
      `${registry.host}/app:v1`,
      `oci:${await tempDir()}:v1`,
    ]);
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(/stopped after 5 (nodes of the graph|referrer links)/);
  });
});
