import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'tug';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImageLayout, seedRegistry } from '../fixtures/images.js';
import { execFileAsync } from '../fixtures/processes.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const built = join(root, 'examples', '.build');

let registry: RegistryFixture;
let home: string;

beforeAll(async () => {
  // The examples import 'tug' as a user of the package does: compiled against the built package.
  await execFileAsync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'examples'], {
    cwd: root,
  });
  registry = await startRegistry();
  const image = await buildImageLayout({ platforms: ['linux/amd64', 'linux/arm64'], tag: '1.0' });
  await seedRegistry(registry, 'examples/app', image, '1.0');
  await seedRegistry(registry, 'examples/app', image, '2.0');
  home = await tempDir('tug-examples-home-');
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

async function example(name: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { DOCKER_CONFIG: _config, ...env } = process.env;
  return execFileAsync(process.execPath, [join(built, `${name}.js`), ...args], {
    cwd: home,
    env: { ...env, HOME: home },
  });
}

describe('examples', () => {
  it('copy-with-progress copies an image and draws its bar to 100%', async () => {
    const host = registry.host;
    const { stdout, stderr } = await example('copy-with-progress', [
      `${host}/examples/app:1.0`,
      `${host}/examples/copy:1.0`,
    ]);
    expect(stdout).toMatch(/^sha256:[0-9a-f]{64} \d+ copied, 0 skipped, \d+ bytes\n$/);
    expect(stderr).toContain('100%');
  });

  it('mirror-tags copies every tag of a repository', async () => {
    const host = registry.host;
    const { stdout } = await example('mirror-tags', [`${host}/examples/app`, `${host}/examples/mirror`]);
    expect(stdout.trim().split('\n').sort()).toEqual([
      expect.stringMatching(/^1\.0 sha256:/),
      expect.stringMatching(/^2\.0 sha256:/),
    ]);
  });

  it('push-jar pushes a JAR as an artifact whose file has the JAR name', async () => {
    const jar = join(home, 'app.jar');
    await writeFile(jar, 'PK jar bytes');
    const { stdout } = await example('push-jar', [jar, `${registry.host}/examples/jar:1.0`]);
    expect(stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    await using client = new Client();
    const files = await client.pull(`${registry.host}/examples/jar:1.0`, { output: join(home, 'pulled') });
    expect(files.map((file) => file.path)).toEqual(['app.jar']);
    expect(await readFile(join(home, 'pulled', 'app.jar'), 'utf8')).toBe('PK jar bytes');
  });

  it('image-config prints the config of one platform, and says so when the image is missing', async () => {
    const { stdout } = await example('image-config', [`${registry.host}/examples/app:1.0`, 'linux/arm64']);
    expect(JSON.parse(stdout)).toMatchObject({ os: 'linux', architecture: 'arm64' });
    const missing = await example('image-config', [`${registry.host}/examples/none:1`]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(missing).toMatchObject({ code: 4, stderr: expect.stringContaining('not found') });
  });
});
