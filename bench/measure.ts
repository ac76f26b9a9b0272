import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

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

/** The environment every timed command gets unless told otherwise. */
export function benchEnv(): NodeJS.ProcessEnv {
  return { ...process.env, XDG_CACHE_HOME: benchCacheHome() };
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

/** Microseconds the machine takes to give this process a page of memory it never touched. */
function freshPageMicros(): number {
  const bytes = 64 * 1024 * 1024;
  const started = process.hrtime.bigint();
  Buffer.allocUnsafeSlow(bytes).fill(1);
  return Number(process.hrtime.bigint() - started) / 1000 / (bytes / 4096);
}

const SETTLE_LIMIT_MS = 30_000;
/**
 * The cheapest a fresh page has cost in this run (the best of three probes before anything was
 * written, and of every probe since), the time spent waiting for it, and the dearest page seen.
 */
export const settling = { settledPageMicros: Number.POSITIVE_INFINITY, waitedMs: 0, worstPageMicros: 0 };

function probe(): number {
  const cost = freshPageMicros();
  settling.settledPageMicros = Math.min(settling.settledPageMicros, cost);
  settling.worstPageMicros = Math.max(settling.worstPageMicros, cost);
  return cost;
}

// Registered before the hooks of the benchmark file that imports this one, so it probes before
// that file writes its data: the first command used to set the mark, after half a gigabyte of
// layers and uploads had been written, and one run measured 14 µs as what a page "usually" cost.
beforeAll(() => {
  probe();
  probe();
  probe();
});

/**
 * Waits (up to 30 s) until a fresh page costs the machine no more than 1.5 × the cheapest seen in
 * this run. On the virtual machines this ran on, a page the process never touched cost about
 * 3 µs, and 8–17 µs for a while after runs that wrote and fsynced many files: whichever command
 * came next paid that on every page it touched, in proportion to its memory, not to its work.
 */
async function settle(): Promise<void> {
  const started = Date.now();
  while (probe() > settling.settledPageMicros * 1.5 && Date.now() - started <= SETTLE_LIMIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  settling.waitedMs += Date.now() - started;
}

/**
 * Runs a command to completion, timing it and sampling its peak memory. The disk is flushed
 * (`sync`) first, untimed: otherwise a command can wait on the writeback of what the one before it
 * wrote (a push into a registry, which does not fsync), and the order of the contenders decides.
 * For the same reason it then waits for fresh memory to cost what it usually does (see
 * {@link settle}).
 */
export async function measure(command: string, args: string[], env = benchEnv()): Promise<Sample> {
  await promisify(execFile)('sync');
  await settle();
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
