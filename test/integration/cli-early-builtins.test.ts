import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTug } from '../fixtures/cli.js';
import { buildImageLayout } from '../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

const recorder = resolve(fileURLToPath(import.meta.url), '../../fixtures/builtins-after-flags.cjs');

let registry: RegistryFixture;

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
});

/** The Node modules `tug args` loaded after bin/tug set its V8 flags (see the recorder). */
async function modulesLoadedAfterFlags(args: string[]): Promise<string[]> {
  const result = await runTug(['--no-progress', ...args], {
    env: { NODE_OPTIONS: `--require=${recorder}` },
  });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stderr.trim().split('\n').at(-1) ?? '') as {
    flagsSet: boolean;
    modules: string[];
  };
  expect(report.flagsSet).toBe(true);
  return report.modules;
}

/** Node's modules a program can name (`node:http`), not the internal ones they load. */
function publicModules(modules: string[]): string[] {
  return modules.filter((name) => !name.startsWith('internal/'));
}

describe('start-up: Node modules a transfer uses are loaded before the V8 flags, from Node’s code cache', () => {
  it('pushes a layout to a registry, copies it between repositories and pulls it back, loading none after', async () => {
    const image = await buildImageLayout({ layers: 2 });
    const work = await tempDir();
    const source = `oci:${image.layoutDir}:${image.tag}`;
    const pushed = `${registry.host}/early/pushed:v1`;
    expect(publicModules(await modulesLoadedAfterFlags(['cp', source, pushed]))).toEqual([]);
    expect(
      publicModules(await modulesLoadedAfterFlags(['cp', pushed, `${registry.host}/early/copied:v1`])),
    ).toEqual([]);
    expect(
      publicModules(await modulesLoadedAfterFlags(['cp', pushed, `oci:${join(work, 'pulled')}:v1`])),
    ).toEqual([]);
    expect(publicModules(await modulesLoadedAfterFlags(['digest', pushed]))).toEqual([]);
  });
});
