import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCredentialLookup } from '../../src/auth/index.js';
import { digestOf } from '../../src/oci/index.js';
import { parseRepositoryName } from '../../src/ref/index.js';
import { RegistryClient } from '../../src/registry/client.js';
import { createTransport, type Transport } from '../../src/transport/index.js';
import { type RegistryFixture, startRegistry } from '../fixtures/registry.js';
import { tempDir } from '../fixtures/temp.js';

/** What Node reads from a socket per call unless told otherwise. */
const NODE_READ_SIZE = 64 * 1024;

let registry: RegistryFixture;
let transport: Transport;

beforeAll(async () => {
  registry = await startRegistry();
  transport = createTransport({ retry: { attempts: 1 } });
}, 60_000);

afterAll(async () => {
  await Promise.all([transport?.close(), registry?.stop()]);
});

it('reads a plain-HTTP download in chunks larger than the 64 KiB Node reads by default', async () => {
  const credentials = await createCredentialLookup({
    configPath: join(await tempDir('tug-config-'), 'config.json'),
    env: {},
  });
  const client = new RegistryClient({ transport, credentials });
  const repository = client.repository(parseRepositoryName(`${registry.host}/reads/large`));
  const bytes = randomBytes(8 * 1024 * 1024);
  const descriptor = {
    mediaType: 'application/octet-stream',
    digest: digestOf(bytes),
    size: bytes.byteLength,
  };
  await repository.pushBlob(descriptor, {
    kind: 'replayable',
    open: () => Readable.from([bytes]),
    length: bytes.byteLength,
  });

  const chunks: number[] = [];
  const stream = await repository.fetchBlob(descriptor);
  // 'data' hands over each chunk as it was pushed (a for-await read joins what is buffered). The
  // reader pauses after each one, so the kernel holds more than 64 KiB whenever the socket is read.
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk.byteLength);
    stream.pause();
    setTimeout(() => stream.resume(), 2);
  });
  await finished(stream);
  expect(chunks.reduce((sum, length) => sum + length, 0)).toBe(bytes.byteLength);
  expect(Math.max(...chunks)).toBeGreaterThan(NODE_READ_SIZE);
});
