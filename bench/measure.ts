import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';

/**
 * The user cache directory of every timed command: an empty one of the benchmark's own, so tug
 * runs with the code cache its build made, as on a fresh install, and not with one a command of
 * another flavour (a profiled run, other V8 flags) left in the user's `~/.cache/tug`.
 */
let cacheHome: string | undefined;
// Registered by the benchmark file that imports this one, after its own tests.
afterAll(() => {
  if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
});

function benchCacheHome(): string {
  cacheHome ??= mkdtempSync(join(tmpdir(), 'tug-bench-cache-'));
  return cacheHome;
}

export interface Sample {
  seconds: number;
  /** Peak resident set size of the process, in bytes (VmHWM, polled while it runs). */
  peakRss: number;
}

async function highWaterMark(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Runs a command to completion, timing it and sampling its peak memory. The disk is flushed
 * (`sync`) first, untimed: otherwise a command can wait on the writeback of what the one before it
 * wrote (a push into a registry, which does not fsync), and the order of the contenders decides.
 */
export async function measure(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: benchCacheHome() },
): Promise<Sample> {
  await promisify(execFile)('sync');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakRss = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const poll = setInterval(async () => {
      if (child.pid) peakRss = Math.max(peakRss, await highWaterMark(child.pid));
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ seconds, peakRss });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
