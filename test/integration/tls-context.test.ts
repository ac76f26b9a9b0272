import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { TlsMaterial } from '../../src/transport/tls-material.js';
import { selfSignedCertificate } from '../fixtures/certificates.js';
import { tempDir } from '../fixtures/temp.js';

let server: Server;
let origin: URL;
let serverPair: { certificate: string; key: string };
let otherPair: { certificate: string; key: string };

beforeAll(async () => {
  const directory = await tempDir('tug-tls-context-');
  serverPair = await selfSignedCertificate(directory, 'server', '/CN=127.0.0.1', 'IP:127.0.0.1');
  otherPair = await selfSignedCertificate(directory, 'other', '/CN=other');
  server = createServer(
    { cert: await readFile(serverPair.certificate), key: await readFile(serverPair.key) },
    (_request, response) => response.end('ok'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

/** Whether a connection made with `settings` is verified by the server's certificate. */
function handshake(settings: Awaited<ReturnType<TlsMaterial['forOrigin']>>): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(origin.port), ...settings }, () => {
      resolve(socket.authorized);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe("an origin's TLS material", () => {
  it('is one secure context holding the extra CA, shared by every connection, not a CA list for each', async () => {
    const settings = await new TlsMaterial({ caFile: serverPair.certificate }).forOrigin(origin, false);

    expect(Object.keys(settings).sort()).toEqual(['rejectUnauthorized', 'secureContext']);
    expect(await handshake(settings)).toBe(true);
    expect(await handshake(settings)).toBe(true);
  });

  it("leaves Node's default context to an origin with no CA or client certificate of its own", async () => {
    const settings = await new TlsMaterial({ certsDir: await tempDir() }).forOrigin(origin, false);

    expect(settings).toEqual({ rejectUnauthorized: true });
    await expect(handshake(settings)).rejects.toThrow(/self[- ]signed/);
  });

  it('refuses a client certificate whose key is not its own, as a usage error naming the host', async () => {
    const material = new TlsMaterial({ certFile: serverPair.certificate, keyFile: otherPair.key });

    const error = await material.forOrigin(origin, false).catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(`the TLS files for ${origin.host} cannot be used`);
  });
});
