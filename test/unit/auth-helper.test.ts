import { chmod, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CredentialHelperError,
  helperErase,
  helperGet,
  helperStore,
} from '../../src/auth/credentials/helper.js';
import { tempDir } from '../fixtures/temp.js';

/** docker-credential-tugtest: the helper protocol over a JSON file next to the script. */
const storingHelper = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const file = path.join(__dirname, 'store.json');
const load = () => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {});
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const store = load();
  const action = process.argv[2];
  if (action === 'store') {
    const entry = JSON.parse(input);
    store[entry.ServerURL] = { Username: entry.Username, Secret: entry.Secret };
    fs.writeFileSync(file, JSON.stringify(store));
    return;
  }
  const server = input.trim();
  if (!store[server]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
  if (action === 'get') process.stdout.write(JSON.stringify({ ServerURL: server, ...store[server] }));
  if (action === 'erase') { delete store[server]; fs.writeFileSync(file, JSON.stringify(store)); }
});
`;

/** docker-credential-tughang: writes its pid, then never answers. */
const hangingHelper = `#!/usr/bin/env node
require('node:fs').writeFileSync(require('node:path').join(__dirname, 'hang.pid'), String(process.pid));
setInterval(() => {}, 1000);
`;

/** docker-credential-tuggarbage: exit 0 with something that is not JSON, secret included. */
const garbageHelper = `#!/usr/bin/env node
process.stdout.write('Username=someone Secret=garbage-secret');
`;

let directory: string;
let env: NodeJS.ProcessEnv;

async function install(name: string, script: string): Promise<void> {
  const path = join(directory, `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  directory = await tempDir('tug-helpers-');
  await install('tugtest', storingHelper);
  await install('tughang', hangingHelper);
  await install('tuggarbage', garbageHelper);
  env = { ...process.env, PATH: `${directory}${delimiter}${process.env.PATH ?? ''}` };
});

describe('docker-credential-helpers protocol', () => {
  it('stores, gets and erases a username and password', async () => {
    const server = 'registry.example.com';
    await helperStore('tugtest', server, { username: 'user', password: 'secret' }, { env });
    expect(JSON.parse(await readFile(join(directory, 'store.json'), 'utf8'))[server]).toEqual({
      Username: 'user',
      Secret: 'secret',
    });
    expect(await helperGet('tugtest', server, { env })).toEqual({ username: 'user', password: 'secret' });
    expect(await helperErase('tugtest', server, { env })).toBe(true);
    expect(await helperGet('tugtest', server, { env })).toBeUndefined();
  });

  it('stores an identity token as Username "<token>" and reads it back as one', async () => {
    const server = 'https://index.docker.io/v1/';
    await helperStore('tugtest', server, { username: 'user', identityToken: 'refresh' }, { env });
    expect(JSON.parse(await readFile(join(directory, 'store.json'), 'utf8'))[server]).toEqual({
      Username: '<token>',
      Secret: 'refresh',
    });
    expect(await helperGet('tugtest', server, { env })).toEqual({ identityToken: 'refresh' });
  });

  it('answers undefined when the helper says "credentials not found"', async () => {
    expect(await helperGet('tugtest', 'unknown.example.com', { env })).toBeUndefined();
    expect(await helperErase('tugtest', 'unknown.example.com', { env })).toBe(false);
  });

  it('reports a missing helper binary by name', async () => {
    const error = await helperGet('tugmissing', 'r', { env }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialHelperError);
    expect((error as Error).message).toBe('credential helper docker-credential-tugmissing not found');
  });

  it('kills a helper that hangs, by its pid, once the timeout passes', async () => {
    const started = Date.now();
    const error = await helperGet('tughang', 'r', { env, timeoutMs: 1500 }).catch(
      (caught: unknown) => caught,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(CredentialHelperError);
    expect((error as Error).message).toContain('did not answer within 1500 ms');
    const pid = Number(await readFile(join(directory, 'hang.pid'), 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isRunning(pid)).toBe(false);
  });

  it('reports output that is not JSON without quoting it', async () => {
    const error = await helperGet('tuggarbage', 'r', { env }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialHelperError);
    expect((error as Error).message).toContain('docker-credential-tuggarbage');
    expect((error as Error).message).not.toContain('garbage-secret');
  });
});
