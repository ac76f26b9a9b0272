import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool as PackagePool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool, request } from '../../src/transport/undici.js';

const server = createServer((incoming, response) => {
  response.setHeader('x-path', incoming.url ?? '');
  response.end('hello');
});
let origin = '';

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('undici imported by its internal paths', () => {
  it('is the package pinned to one exact version, the version installed', async () => {
    const manifest = JSON.parse(await readFile('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const installed = JSON.parse(await readFile('node_modules/undici/package.json', 'utf8')) as {
      version: string;
    };
    expect(manifest.dependencies.undici).toBe(installed.version);
  });

  it("gives the package's own Pool class", () => {
    expect(Pool).toBe(PackagePool);
  });

  it('sends a request over a pool and reads its answer', async () => {
    const pool = new Pool(origin);
    try {
      const response = await request(pool, { origin, path: '/v2/?n=1', method: 'GET' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-path']).toBe('/v2/?n=1');
      expect(await response.body.text()).toBe('hello');
    } finally {
      await pool.destroy();
    }
  });
});
