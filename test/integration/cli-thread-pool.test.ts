import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/temp.js';

const tugBin = resolve(import.meta.dirname, '../../bin/tug');
let server: Server;
let port: number;
const sockets = new Set<Socket>();
let connected: () => void = () => {};

beforeAll(async () => {
  // Accepts and never answers: the command stays in flight while its threads are counted.
  server = createServer((socket) => {
    sockets.add(socket);
    connected();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((done) => server.close(done));
});

/** The threads of a `tug push` waiting on the silent server. */
async function threadsInFlight(poolSize: string | undefined): Promise<number> {
  const { UV_THREADPOOL_SIZE: _inherited, ...inherited } = process.env;
  const home = await tempDir('tug-home-');
  // A push reads its file (through the pool) before it connects.
  await writeFile(join(home, 'notes.txt'), 'pooled\n');
  const reached = new Promise<void>((done) => {
    connected = done;
  });
  const child = spawn(
    process.execPath,
    [tugBin, '--plain-http', 'push', `127.0.0.1:${port}/quiet/notes:v1`, 'notes.txt'],
    {
      cwd: home,
      env: { ...inherited, HOME: home, ...(poolSize ? { UV_THREADPOOL_SIZE: poolSize } : {}) },
      stdio: 'ignore',
    },
  );
  const exited = new Promise<never>((_, fail) =>
    child.on('exit', (code) => fail(new Error(`tug exited ${code} before it connected`))),
  );
  try {
    await Promise.race([reached, exited]);
    return readdirSync(`/proc/${child.pid}/task`).length;
  } finally {
    child.kill('SIGKILL');
  }
}

// Each blob in flight holds a thread of libuv's pool while its file is flushed; the CLI entry sizes
// the pool before anything uses it (an ES module entry would be too late: loading it uses the pool).
describe('the CLI thread pool', () => {
  it('has room for the flushes of many blobs at once, unless the user sized it', async () => {
    const sized = await threadsInFlight('4');
    const unsized = await threadsInFlight(undefined);
    expect(unsized - sized).toBe(12);
  });
});
