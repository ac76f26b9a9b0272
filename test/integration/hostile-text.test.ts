import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';

/**
 * A registry that puts control characters in every text it serves: tag and repository names,
 * a layer title, an annotation value, an artifact type and an error message. No real registry
 * stores such names, so it is served in process.
 */
const forged = '\nsha256:forged-line\u001b[2J\u001b]0;pwned\u0007\u202e';
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: `application/x-test${forged}`,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${'4'.repeat(64)}`, size: 2 },
    layers: [
      {
        mediaType: 'application/octet-stream',
        digest: `sha256:${'a'.repeat(64)}`,
        size: 1,
        annotations: { 'org.opencontainers.image.title': `file.txt${forged}` },
      },
    ],
    annotations: { note: `value${forged}` },
  }),
);
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

let server: Server;
let host: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const json = (status: number, body: unknown, type = 'application/json') => {
      const bytes = Buffer.from(JSON.stringify(body));
      response.writeHead(status, { 'content-type': type, 'content-length': String(bytes.byteLength) });
      response.end(request.method === 'HEAD' ? undefined : bytes);
    };
    const path = request.url ?? '/';
    if (path === '/v2/') return json(200, {});
    if (path.startsWith('/v2/_catalog')) return json(200, { repositories: [`app${forged}`] });
    if (path.startsWith('/v2/app/tags/list'))
      return json(200, { name: 'app', tags: ['v1', `evil${forged}`] });
    if (path === '/v2/app/manifests/v1' || path === `/v2/app/manifests/${digest}`) {
      response.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': String(manifest.byteLength),
        'docker-content-digest': digest,
      });
      return response.end(request.method === 'HEAD' ? undefined : manifest);
    }
    json(400, { errors: [{ code: 'UNSUPPORTED', message: `gone${forged}` }] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Nothing of the forged text acts on a terminal or starts a line of its own. */
function expectInert(text: string): void {
  const unsafe = [...text].filter((character) => {
    const code = character.codePointAt(0) ?? 0;
    return (code < 0x20 && character !== '\n') || (code >= 0x7f && code <= 0x9f) || code === 0x202e;
  });
  expect(unsafe).toEqual([]);
  expect(text).not.toMatch(/^sha256:forged-line/m);
}

describe('text from a server is printed with its control characters escaped', () => {
  it.each([
    ['tags', () => ['tags', `${host}/app`], 'evil\\nsha256:forged-line\\x1b[2J'],
    ['catalog', () => ['catalog', host], 'app\\nsha256:forged-line'],
    ['inspect (title, annotation, artifact type)', () => ['inspect', `${host}/app:v1`], 'file.txt\\nsha256:'],
    ['an error body', () => ['tags', `${host}/other`], 'gone sha256:forged-line [2J ]0;pwned \\u202e'],
  ])('%s', async (_name, args, expected) => {
    const result = await runTug(args());
    expectInert(result.stdout);
    expectInert(result.stderr);
    expect(result.stdout + result.stderr).toContain(expected);
  });
});
