import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures/temp.js';

const run = promisify(execFile);
const tugBin = resolve(import.meta.dirname, '../../bin/tug');

/** The Node built-in modules a `tug` command loaded, as the process itself lists them at exit. */
async function builtinsLoaded(args: string[]): Promise<string[]> {
  const directory = await tempDir('tug-modules-');
  const report = join(directory, 'report.cjs');
  await writeFile(
    report,
    "process.on('exit', () => process.stderr.write('\\nMODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n",
  );
  const { stderr } = await run(process.execPath, ['--require', report, tugBin, ...args], {
    env: { ...process.env, HOME: directory },
  });
  const line = stderr.split('\n').find((text) => text.startsWith('MODULES '));
  return (JSON.parse(line?.slice('MODULES '.length) ?? '[]') as string[]).map((entry) =>
    entry.replace(/^NativeModule /, ''),
  );
}

// Every command pays for what loads before it starts; these serve a few commands only, so they
// load on first use (commander's executable subcommands, credential helpers, prompts, and
// undici's HTTP/2 client, which tug never asks for).
describe('what a command loads at start-up', () => {
  it('leaves child_process, readline and http2 for the commands that use them', async () => {
    const loaded = await builtinsLoaded(['--help']);
    expect(loaded).toContain('crypto');
    expect(loaded).not.toContain('child_process');
    expect(loaded).not.toContain('dgram');
    expect(loaded).not.toContain('readline/promises');
    expect(loaded).not.toContain('http2');
  });
});
