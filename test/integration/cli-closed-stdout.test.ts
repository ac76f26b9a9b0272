import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

const tugBin = resolve(fileURLToPath(import.meta.url), '../../../bin/tug');
let registry: RegistryFixture;
let blobRef: string;

/** Runs tug with stdout read by a reader that stops after `keep` bytes and closes, as `head -c` does. */
async function runIntoClosedPipe(args: string[], keep: number): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, [tugBin, ...args], {
    env: { ...process.env, NO_COLOR: '1', HOME: await tempDir('tug-home-') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let seen = 0;
  if (keep === 0) child.stdout.destroy();
  else
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.byteLength;
      if (seen >= keep) child.stdout.destroy();
    });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number>((done) => child.on('close', (exit) => done(exit ?? 128)));
  clearTimeout(timer);
  return { code, stderr: Buffer.concat(stderr).toString() };
}

beforeAll(async () => {
  registry = await startRegistry();
  const image = await buildImageLayout({ layers: 1, tag: 'v1' });
  await seedRegistry(registry, 'closed/app', image, 'v1');
  const work = await tempDir();
  await writeFile(join(work, 'big.bin'), randomBytes(4 * 1024 * 1024));
  const put = await runTug(['blob', 'put', `${registry.host}/closed/app`, join(work, 'big.bin')]);
  blobRef = `${registry.host}/closed/app@${put.stdout.trim()}`;
});

afterAll(async () => {
  await registry?.stop();
});

describe('a reader that closes stdout early', () => {
  it.each([
    ['inspect', () => ['inspect', `${registry.host}/closed/app:v1`]],
    ['catalog', () => ['catalog', registry.host]],
    ['tags', () => ['tags', `${registry.host}/closed/app`]],
    ['discover', () => ['discover', `${registry.host}/closed/app:v1`]],
  ])('ends %s quietly with exit code 0', async (_name, args) => {
    const result = await runIntoClosedPipe(args(), 0);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('ends blob get quietly with exit code 0 after the first 10 bytes', async () => {
    const result = await runIntoClosedPipe(['blob', 'get', blobRef], 10);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
